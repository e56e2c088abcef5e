"""PostgreSQL: connect and run `SELECT 1`."""

from __future__ import annotations

import math

from nightowl.health.checkers.base import ProbeContext, describe_error
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec


async def check_postgres(spec: CheckSpec, ctx: ProbeContext) -> Probe:
    import psycopg  # imported on first use: ~9 MiB a server without PostgreSQL checks need not hold

    started = ctx.clock.monotonic()
    try:
        connection = await psycopg.AsyncConnection.connect(
            spec.target, connect_timeout=max(1, math.ceil(spec.timeout)), autocommit=True
        )
        try:
            cursor = await connection.execute("SELECT 1")
            row = await cursor.fetchone()
            latency = ctx.clock.monotonic() - started
        finally:
            await connection.close()
    except psycopg.Error as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc))
    if row is None or row[0] != 1:
        return Probe(ok=False, latency=latency, error=f"SELECT 1 returned {row!r}")
    return Probe(ok=True, latency=latency)
