"""Alerting: alert instances, their history, API-managed rule groups, threshold rules.

Revision ID: alerting_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "alerting_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerting_instances",
        sa.Column("rule", sa.String(500), primary_key=True),
        sa.Column("fingerprint", sa.String(16), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "alerting_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("rule", sa.String(500), nullable=False),
        sa.Column("alertname", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=False),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_alerting_history_at", "alerting_history", ["at"])
    op.create_index("ix_alerting_history_rule", "alerting_history", ["rule"])
    op.create_index("ix_alerting_history_fingerprint", "alerting_history", ["fingerprint"])
    op.create_table(
        "alerting_rule_groups",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "alerting_threshold_rules",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alerting_threshold_rules")
    op.drop_table("alerting_rule_groups")
    op.drop_table("alerting_history")
    op.drop_table("alerting_instances")
