"""Scrape targets managed through the API.

Revision ID: scrape_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "scrape_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scrape_targets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job", sa.String(200), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("scheme", sa.String(10), nullable=False),
        sa.Column("metrics_path", sa.String(500), nullable=False),
        sa.Column("scrape_interval", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_scrape_targets_job", "scrape_targets", ["job"])


def downgrade() -> None:
    op.drop_index("ix_scrape_targets_job", "scrape_targets")
    op.drop_table("scrape_targets")
