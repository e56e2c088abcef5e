"""Tables of the auth capability: users, API keys, login sessions and the audit log."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, String, Table, Text

from nightowl.db.tables import metadata

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(100), nullable=False),
    Column("rate_limit", Integer, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
    Column("last_used_at", Float, nullable=True),
)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("refresh_hash", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("refreshed_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False, index=True),
    Column("actor", String(200), nullable=False, index=True),
    Column("action", String(100), nullable=False, index=True),
    Column("object_type", String(50), nullable=False),
    Column("object_id", String(200), nullable=False),
    Column("detail", Text, nullable=False),
)
