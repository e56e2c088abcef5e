"""State tables of alerting: alert instances (survive restarts), history, API rule groups, threshold rules."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table, Text

from nightowl.db.tables import metadata

instances = Table(
    "alerting_instances",
    metadata,
    Column("rule", String(500), primary_key=True),
    Column("fingerprint", String(16), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

history = Table(
    "alerting_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),
    Column("rule", String(500), nullable=False, index=True),
    Column("alertname", String(200), nullable=False),
    Column("fingerprint", String(16), nullable=False, index=True),
    Column("severity", String(40), nullable=False),
    Column("from_state", String(20), nullable=False),
    Column("to_state", String(20), nullable=False),
    Column("value", Float, nullable=True),
    Column("labels", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("note", Text, nullable=False),
)

rule_groups = Table(
    "alerting_rule_groups",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("source", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

threshold_rules = Table(
    "alerting_threshold_rules",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)
