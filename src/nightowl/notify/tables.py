"""State tables of notify: channels and the durable outbox (which is also the delivery log)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from nightowl.db.tables import metadata

channels = Table(
    "notify_channels",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("receiver", String(200), nullable=False, index=True),
    Column("config", Text, nullable=False),
    Column("min_severity", String(20), nullable=True),
    Column("rate_limit", Integer, nullable=True),
    Column("send_resolved", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("source", String(40), nullable=False),
    Column("updated_at", Float, nullable=False),
)

outbox = Table(
    "notify_outbox",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("channel_id", String(200), nullable=False, index=True),
    Column("receiver", String(200), nullable=False),
    Column("group_key", String(1000), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("payload", Text, nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", Float, nullable=False, index=True),
    Column("next_attempt_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_latency_ms", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("response", Text, nullable=True),
    Index("ix_notify_outbox_due", "status", "next_attempt_at"),
)
