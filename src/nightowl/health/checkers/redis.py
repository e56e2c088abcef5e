"""Redis: connect and `PING`.

The URL's host is resolved and judged here and redis-py connects to the judged address (TLS still
checks the certificate against the URL's host), so a second lookup cannot send it elsewhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from nightowl.health.checkers.base import ProbeContext, describe_error
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec
from nightowl.outbound import OutboundDenied, OutboundPolicy


async def pinned_url(policy: OutboundPolicy, url: str) -> tuple[str, str]:
    """(the URL with its host replaced by an allowed address, the original host name)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        if not policy.allow_loopback:
            raise OutboundDenied(
                "destination not allowed by the outbound policy: a Unix socket is a loopback destination "
                "(set outbound_allow_loopback)"
            )
        return url, ""
    host = parts.hostname or "localhost"
    address = (await policy.resolve(host, parts.port or 6379))[0]
    literal = f"[{address}]" if ":" in address else address
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + literal + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), host


def _connection_class(server_hostname: str) -> Any:
    """redis-py's TLS connection, naming the original host for SNI and the certificate check."""
    from redis.asyncio.connection import SSLConnection

    class PinnedSSLConnection(SSLConnection):
        def _connection_arguments(self) -> Any:
            return {**super()._connection_arguments(), "server_hostname": server_hostname}

    return PinnedSSLConnection


async def check_redis(spec: CheckSpec, ctx: ProbeContext) -> Probe:
    import redis.asyncio as aioredis  # imported on first use: ~5 MiB a server without Redis checks need not hold
    from redis.exceptions import AuthenticationError, RedisError, ResponseError

    started = ctx.clock.monotonic()
    try:
        url, host = await pinned_url(ctx.policy, spec.target)
    except (OSError, OutboundDenied) as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc, "redis"))
    extra: dict[str, Any] = {"connection_class": _connection_class(host)} if url.startswith("rediss:") else {}
    client = aioredis.Redis.from_url(
        url, socket_timeout=spec.timeout, socket_connect_timeout=spec.timeout, retry_on_timeout=False, **extra
    )
    try:
        answer = await client.ping()  # type: ignore[misc]  # redis-py types ping() for sync and async
        latency = ctx.clock.monotonic() - started
    except (AuthenticationError, ResponseError) as exc:  # the server answered: its words are no scan
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=f"Redis: {exc}")
    except (RedisError, OSError) as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc, "redis"))
    finally:
        await client.aclose()
    if answer is not True:
        return Probe(ok=False, latency=latency, error=f"PING answered {answer!r}")
    return Probe(ok=True, latency=latency)
