"""Offline, reproducible training of the smoke/fire detector (needs the ``train`` extra)."""
