"""Alertmanager-compatible routing: the routing tree, grouping timers, inhibition, silences, escalation."""
