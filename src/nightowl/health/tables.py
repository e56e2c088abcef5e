"""State database tables of health checking (migration `checks_0001`)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, String, Table, Text

from nightowl.db.tables import metadata

health_checks = Table(
    "health_checks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("type", String(20), nullable=False),
    Column("spec", Text, nullable=False),
    Column("source", String(10), nullable=False),
    Column("ping_uuid", String(36), unique=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

health_check_states = Table(
    "health_check_states",
    metadata,
    Column("check_id", String(32), ForeignKey("health_checks.id", ondelete="CASCADE"), primary_key=True),
    Column("state", String(10), nullable=False),
    Column("since", Float, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("successes", Integer, nullable=False),
    Column("last_run_at", Float),
    Column("last_outcome", String(10)),
    Column("last_latency", Float),
    Column("last_error", Text),
    Column("tls_expiry", Float),
)

health_transitions = Table(
    "health_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("check_id", String(32), ForeignKey("health_checks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", Float, nullable=False, index=True),
    Column("previous", String(10), nullable=False),
    Column("state", String(10), nullable=False),
    Column("reason", Text, nullable=False),
    Column("suppressed", Boolean, nullable=False),
    Column("suppressed_by", Text),
)

heartbeat_pings = Table(
    "heartbeat_pings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("check_id", String(32), ForeignKey("health_checks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("exit_code", Integer),
    Column("duration", Float),
    Column("body", Text),
    Column("remote_addr", String(64)),
    Column("user_agent", String(200)),
)

health_services = Table(
    "health_services",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("group_name", String(200)),
    Column("parents", Text, nullable=False),
    Column("critical", Boolean, nullable=False),
    Column("description", Text, nullable=False),
    Column("source", String(10), nullable=False),
)

health_groups = Table(
    "health_groups",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("parent", String(200)),
    Column("description", Text, nullable=False),
    Column("source", String(10), nullable=False),
)

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float),
    Column("cron", String(100)),
    Column("duration", Float),
    Column("tz", String(64), nullable=False),
    Column("services", Text, nullable=False),
    Column("checks", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

status_pages = Table(
    "status_pages",
    metadata,
    Column("slug", String(100), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("group_name", String(200), nullable=False),
    Column("public", Boolean, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

status_page_incidents = Table(
    "status_page_incidents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("page_slug", String(100), ForeignKey("status_pages.slug", ondelete="CASCADE"), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("resolved_at", Float),
)
