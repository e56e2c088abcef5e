"""The state database engine: SQLite in the data dir by default, PostgreSQL when a URL names one.

One code path for both: SQLAlchemy Core statements, with dialect details confined to this module.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from nightowl.core.errors import ConfigError, StartupError

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalize_url(url: str) -> str:
    """Accept `postgres://` and `postgresql://` and use the psycopg 3 driver for both."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_state_engine(url: str, pool_size: int = 5) -> Engine:
    """Create the engine; raises ConfigError with one line when the URL is unusable."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"invalid database_url {url!r}: expected sqlite:///path or postgresql://...") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _on_sqlite_connect)
    elif backend == "postgresql":
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_recycle=1800,
            connect_args={"connect_timeout": 10},
        )
    else:
        raise ConfigError(f"invalid database_url: backend {backend!r} is not supported (use sqlite or postgresql)")
    return engine


def check_connection(engine: Engine) -> None:
    """Raise ConfigError with one line when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise StartupError(f"cannot reach the state database {engine.url.render_as_string()}: {reason}") from None
    except SQLAlchemyError as exc:
        raise StartupError(f"cannot use the state database {engine.url.render_as_string()}: {exc}") from None


def pool_stats(engine: Engine) -> dict[str, int]:
    pool: Any = engine.pool
    stats: dict[str, int] = {}
    for name in ("size", "checkedout", "overflow", "checkedin"):
        method = getattr(pool, name, None)
        if callable(method):
            stats[name] = int(method())
    return stats


def run_maintenance(engine: Engine) -> None:
    """Keep the state database lean: checkpoint SQLite's WAL, refresh planner statistics on both."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            conn.execute(text("PRAGMA optimize"))
        else:
            conn.execute(text("ANALYZE"))
        conn.commit()
