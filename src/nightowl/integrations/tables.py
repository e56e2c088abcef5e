"""State tables of the integration hub: webhook subscriptions, their delivery queue, forwarder configs."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from nightowl.db.tables import metadata

webhooks = Table(
    "integrations_webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),
    Column("headers", Text, nullable=False),
    Column("secret", Text, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

deliveries = Table(
    "integrations_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("webhook_id", String(36), nullable=False, index=True),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_integrations_deliveries_due", "status", "next_attempt_at"),
)

forwarders = Table(
    "integrations_forwarders",
    metadata,
    Column("type", String(40), primary_key=True),
    Column("config", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", Float, nullable=False),
)
