"""TCP connect: the port accepts a connection."""

from __future__ import annotations

import asyncio

from nightowl.health.checkers.base import ProbeContext, describe_error
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec, split_host_port


async def check_tcp(spec: CheckSpec, ctx: ProbeContext) -> Probe:
    host, port = split_host_port(spec.target)
    started = ctx.clock.monotonic()
    try:
        _reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc))
    latency = ctx.clock.monotonic() - started
    writer.close()
    return Probe(ok=True, latency=latency)
