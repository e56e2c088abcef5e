"""TLS certificate expiry: read the peer certificate (self-signed accepted) and count the days left."""

from __future__ import annotations

import asyncio
import ssl

from nightowl.health.checkers.base import ProbeContext, cert_expiry, connect_timeout, describe_error
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec, split_host_port
from nightowl.outbound import OutboundDenied, open_connection

DAY = 86400.0


def _context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_CONTEXT = _context()


async def check_tls(spec: CheckSpec, ctx: ProbeContext) -> Probe:
    host, port = split_host_port(spec.target)
    started = ctx.clock.monotonic()
    try:
        async with asyncio.timeout(connect_timeout(spec.timeout)):
            _reader, writer = await open_connection(
                ctx.policy, host, port, ssl_context=_CONTEXT, server_hostname=spec.server_name or host
            )
    except (OSError, ssl.SSLError, OutboundDenied) as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc, spec.target))
    latency = ctx.clock.monotonic() - started
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
    expiry = cert_expiry(der)
    if expiry is None:
        return Probe(ok=False, latency=latency, error="the server sent no certificate")
    return judge_expiry(expiry, ctx.clock.now(), spec.tls_warn_days, spec.tls_critical_days, latency)


def judge_expiry(expiry: float, now: float, warn_days: float, critical_days: float, latency: float) -> Probe:
    days_left = (expiry - now) / DAY
    detail: dict[str, str | int | float | None] = {"days_left": round(days_left, 2)}
    if days_left <= 0:
        return Probe(ok=False, latency=latency, error="certificate expired", tls_expiry=expiry, detail=detail)
    if days_left < critical_days:
        error = f"certificate expires in {days_left:.1f} days (critical below {critical_days:g})"
        return Probe(ok=False, latency=latency, error=error, tls_expiry=expiry, detail=detail)
    soft: tuple[str, ...] = ()
    if days_left < warn_days:
        soft = (f"certificate expires in {days_left:.1f} days (warning below {warn_days:g})",)
    return Probe(ok=True, latency=latency, soft_failures=soft, tls_expiry=expiry, detail=detail)
