"""PostgreSQL: connect and run `SELECT 1`.

libpq would resolve the host itself, out of the policy's sight: each host is resolved and judged here,
and the connection goes to the judged address (`hostaddr`), with `host` kept for TLS verification.
"""

from __future__ import annotations

import math
from typing import Any

from nightowl.health.checkers.base import ProbeContext, describe_error
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec
from nightowl.outbound import OutboundDenied, OutboundPolicy

DEFAULT_PORT = 5432


async def pinned_params(policy: OutboundPolicy, params: dict[str, Any]) -> dict[str, Any]:
    """The connection parameters with `hostaddr` set to allowed addresses; raises OutboundDenied or OSError."""
    if params.get("service"):
        raise OutboundDenied("destination not allowed by the outbound policy: a service file entry hides the host")
    hosts = str(params.get("host") or "").split(",")
    ports = str(params.get("port") or DEFAULT_PORT).split(",")
    given = str(params.get("hostaddr") or "").split(",")
    addresses: list[str] = []
    for index, host in enumerate(hosts):
        port = int(ports[index] if index < len(ports) else ports[-1] or DEFAULT_PORT)
        address = given[index] if index < len(given) else ""
        if address:  # judged as itself: an allowed host name must not vouch for an address given beside it
            addresses.append((await policy.resolve(address, port))[0])
        elif not host or host.startswith(("/", "@")):
            if not policy.allow_loopback:  # a Unix socket is the local machine
                raise OutboundDenied(
                    "destination not allowed by the outbound policy: a Unix socket is a loopback destination "
                    "(set outbound_allow_loopback)"
                )
            addresses.append("")
        else:
            addresses.append((await policy.resolve(host, port))[0])
    pinned = dict(params)
    if any(addresses):
        pinned["hostaddr"] = ",".join(addresses)
    return pinned


def _server_said(exc: Exception) -> str | None:
    """The server's own refusal (wrong password, unknown database): an answer, not a connection failure."""
    text = str(exc)
    if "FATAL:" not in text:
        return None
    return "PostgreSQL: " + text.split("FATAL:", 1)[1].strip().splitlines()[0]


async def check_postgres(spec: CheckSpec, ctx: ProbeContext) -> Probe:
    import psycopg  # imported on first use: ~9 MiB a server without PostgreSQL checks need not hold
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    started = ctx.clock.monotonic()
    try:
        params = await pinned_params(ctx.policy, conninfo_to_dict(spec.target))
        connection = await psycopg.AsyncConnection.connect(
            make_conninfo(**params), connect_timeout=max(1, math.ceil(spec.timeout)), autocommit=True
        )
        try:
            cursor = await connection.execute("SELECT 1")
            row = await cursor.fetchone()
            latency = ctx.clock.monotonic() - started
        finally:
            await connection.close()
    except (psycopg.Error, OSError, OutboundDenied) as exc:
        said = _server_said(exc) if isinstance(exc, psycopg.Error) else None
        error = said or describe_error(exc, "postgres")
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=error)
    if row is None or row[0] != 1:
        return Probe(ok=False, latency=latency, error=f"SELECT 1 returned {row!r}")
    return Probe(ok=True, latency=latency)
