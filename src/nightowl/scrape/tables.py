"""Targets added through `/api/v1/targets`, kept in the state database so they survive a restart."""

from __future__ import annotations

from sqlalchemy import Column, Float, String, Table, Text

from nightowl.db.tables import metadata

scrape_targets = Table(
    "scrape_targets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("job", String(200), nullable=False, index=True),
    Column("address", String(500), nullable=False),
    Column("labels", Text, nullable=False),
    Column("scheme", String(10), nullable=False),
    Column("metrics_path", String(500), nullable=False),
    Column("scrape_interval", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
