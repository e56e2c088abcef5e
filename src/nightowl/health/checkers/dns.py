"""DNS resolve through the system resolver; optionally the answer must include expected addresses."""

from __future__ import annotations

import asyncio
import socket

from nightowl.health.checkers.base import ProbeContext
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec

FAMILIES = {"A": socket.AF_INET, "AAAA": socket.AF_INET6, "ANY": socket.AF_UNSPEC}


async def check_dns(spec: CheckSpec, ctx: ProbeContext) -> Probe:
    loop = asyncio.get_running_loop()
    started = ctx.clock.monotonic()
    try:
        answers = await loop.getaddrinfo(spec.target, None, family=FAMILIES[spec.record_type], type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return Probe(
            ok=False, latency=ctx.clock.monotonic() - started, error=f"cannot resolve {spec.target}: {exc.strerror}"
        )
    latency = ctx.clock.monotonic() - started
    addresses = sorted({str(sockaddr[0]) for *_rest, sockaddr in answers})
    detail: dict[str, str | int | float | None] = {"addresses": ", ".join(addresses)}
    missing = [a for a in spec.expected_addresses if a not in addresses]
    if missing:
        error = f"{spec.target} resolved to {', '.join(addresses) or 'nothing'}, missing {', '.join(missing)}"
        return Probe(ok=False, latency=latency, error=error, detail=detail)
    if not addresses:
        return Probe(ok=False, latency=latency, error=f"{spec.target} has no {spec.record_type} address")
    return Probe(ok=True, latency=latency, detail=detail)
