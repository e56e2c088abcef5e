"""Alembic environment: runs against the engine Nightowl hands over in `config.attributes`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from nightowl.db.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Several instances may start at once; one migrates while the others wait.
        connection.execute(text("SELECT pg_advisory_xact_lock(7317017)"))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
