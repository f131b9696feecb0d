"""Incidents: which alerts are the same fire, where it is, and what operators did about it."""
