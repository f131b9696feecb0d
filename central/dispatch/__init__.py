"""Dispatch of incidents to the fire service: rules, channels, retries, escalation, KPIs."""
