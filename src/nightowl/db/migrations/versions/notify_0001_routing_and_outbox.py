"""Routing and notify: alerts, notification log, silences, escalations, channels, outbox.

Revision ID: notify_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "notify_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_alerts",
        sa.Column("fingerprint", sa.String(16), primary_key=True),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("annotations", sa.Text, nullable=False),
        sa.Column("starts_at", sa.Float, nullable=False),
        sa.Column("ends_at", sa.Float, nullable=True),
        sa.Column("generator_url", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "routing_notify_log",
        sa.Column("group_key", sa.String(1000), primary_key=True),
        sa.Column("receiver", sa.String(200), primary_key=True),
        sa.Column("firing", sa.Text, nullable=False),
        sa.Column("resolved", sa.Text, nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
    )
    op.create_table(
        "routing_silences",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("matchers", sa.Text, nullable=False),
        sa.Column("starts_at", sa.Float, nullable=False),
        sa.Column("ends_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_routing_silences_ends_at", "routing_silences", ["ends_at"])
    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("matchers", sa.Text, nullable=False),
        sa.Column("levels", sa.Text, nullable=False),
        sa.Column("repeat", sa.Integer, nullable=False),
        sa.Column("auto_resolve", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("policy_id", sa.String(36), nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("alert", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("next_at", sa.Float, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_escalations_fingerprint", "escalations", ["fingerprint"])
    op.create_index("ix_escalations_status", "escalations", ["status"])
    op.create_table(
        "notify_channels",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("receiver", sa.String(200), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("min_severity", sa.String(20), nullable=True),
        sa.Column("rate_limit", sa.Integer, nullable=True),
        sa.Column("send_resolved", sa.Boolean, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_notify_channels_receiver", "notify_channels", ["receiver"])
    op.create_table(
        "notify_outbox",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("channel_id", sa.String(200), nullable=False),
        sa.Column("receiver", sa.String(200), nullable=False),
        sa.Column("group_key", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float, nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_latency_ms", sa.Float, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
    )
    op.create_index("ix_notify_outbox_channel_id", "notify_outbox", ["channel_id"])
    op.create_index("ix_notify_outbox_created_at", "notify_outbox", ["created_at"])
    op.create_index("ix_notify_outbox_due", "notify_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in (
        "notify_outbox",
        "notify_channels",
        "escalations",
        "escalation_policies",
        "routing_silences",
        "routing_notify_log",
        "routing_alerts",
    ):
        op.drop_table(table)
