"""Integration hub: event webhook subscriptions, their delivery queue, metric forwarder configs.

Revision ID: integrations_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "integrations_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integrations_webhooks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.Text, nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "integrations_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("webhook_id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float, nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_integrations_deliveries_webhook_id", "integrations_deliveries", ["webhook_id"])
    op.create_index("ix_integrations_deliveries_due", "integrations_deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "integrations_forwarders",
        sa.Column("type", sa.String(40), primary_key=True),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("integrations_forwarders")
    op.drop_index("ix_integrations_deliveries_due", "integrations_deliveries")
    op.drop_index("ix_integrations_deliveries_webhook_id", "integrations_deliveries")
    op.drop_table("integrations_deliveries")
    op.drop_table("integrations_webhooks")
