"""State tables of routing: received alerts, the notification log, silences, escalation policies."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text

from nightowl.db.tables import metadata

alerts = Table(
    "routing_alerts",
    metadata,
    Column("fingerprint", String(16), primary_key=True),
    Column("labels", Text, nullable=False),
    Column("annotations", Text, nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=True),
    Column("generator_url", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

notify_log = Table(
    "routing_notify_log",
    metadata,
    Column("group_key", String(1000), primary_key=True),
    Column("receiver", String(200), primary_key=True),
    Column("firing", Text, nullable=False),
    Column("resolved", Text, nullable=False),
    Column("timestamp", Float, nullable=False),
)

silences = Table(
    "routing_silences",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("matchers", Text, nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=False, index=True),
    Column("created_by", String(200), nullable=False),
    Column("comment", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

escalation_policies = Table(
    "escalation_policies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("matchers", Text, nullable=False),
    Column("levels", Text, nullable=False),
    Column("repeat", Integer, nullable=False),
    Column("auto_resolve", Boolean, nullable=False),
    Column("updated_at", Float, nullable=False),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("policy_id", String(36), nullable=False),
    Column("fingerprint", String(16), nullable=False, index=True),
    Column("alert", Text, nullable=False),
    Column("level", Integer, nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("next_at", Float, nullable=True),
    Column("status", String(20), nullable=False, index=True),
    Column("started_at", Float, nullable=False),
    Column("acknowledged_by", String(200), nullable=True),
    Column("updated_at", Float, nullable=False),
)
