"""TCP connect: the port accepts a connection."""

from __future__ import annotations

import asyncio

from nightowl.health.checkers.base import ProbeContext, connect_timeout, describe_error
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec, split_host_port
from nightowl.outbound import OutboundDenied, open_connection


async def check_tcp(spec: CheckSpec, ctx: ProbeContext) -> Probe:
    host, port = split_host_port(spec.target)
    started = ctx.clock.monotonic()
    try:
        async with asyncio.timeout(connect_timeout(spec.timeout)):
            _reader, writer = await open_connection(ctx.policy, host, port)
    except (OSError, OutboundDenied) as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc, spec.target))
    latency = ctx.clock.monotonic() - started
    writer.close()
    return Probe(ok=True, latency=latency)
