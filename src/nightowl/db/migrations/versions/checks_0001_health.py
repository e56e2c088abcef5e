"""Health checks: checks, their state and transitions, heartbeat pings, services, groups,
maintenance windows, status pages and incident notes.

Revision ID: checks_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "checks_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    "status_page_incidents",
    "status_pages",
    "maintenance_windows",
    "health_groups",
    "health_services",
    "heartbeat_pings",
    "health_transitions",
    "health_check_states",
    "health_checks",
)


def upgrade() -> None:
    op.create_table(
        "health_checks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("ping_uuid", sa.String(36), unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "health_check_states",
        sa.Column("check_id", sa.String(32), sa.ForeignKey("health_checks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("since", sa.Float, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("successes", sa.Integer, nullable=False),
        sa.Column("last_run_at", sa.Float),
        sa.Column("last_outcome", sa.String(10)),
        sa.Column("last_latency", sa.Float),
        sa.Column("last_error", sa.Text),
        sa.Column("tls_expiry", sa.Float),
    )
    op.create_table(
        "health_transitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "check_id", sa.String(32), sa.ForeignKey("health_checks.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("previous", sa.String(10), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("suppressed", sa.Boolean, nullable=False),
        sa.Column("suppressed_by", sa.Text),
    )
    op.create_table(
        "heartbeat_pings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "check_id", sa.String(32), sa.ForeignKey("health_checks.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("exit_code", sa.Integer),
        sa.Column("duration", sa.Float),
        sa.Column("body", sa.Text),
        sa.Column("remote_addr", sa.String(64)),
        sa.Column("user_agent", sa.String(200)),
    )
    op.create_table(
        "health_services",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("group_name", sa.String(200)),
        sa.Column("parents", sa.Text, nullable=False),
        sa.Column("critical", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
    )
    op.create_table(
        "health_groups",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("parent", sa.String(200)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
    )
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("starts_at", sa.Float, nullable=False),
        sa.Column("ends_at", sa.Float),
        sa.Column("cron", sa.String(100)),
        sa.Column("duration", sa.Float),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("checks", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "status_pages",
        sa.Column("slug", sa.String(100), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("group_name", sa.String(200), nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "status_page_incidents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "page_slug",
            sa.String(100),
            sa.ForeignKey("status_pages.slug", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
    )


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name)
