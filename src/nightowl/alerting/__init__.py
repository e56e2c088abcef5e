"""Alerting rules: Prometheus rule files, their evaluation, the alert lifecycle and its history."""
