"""Redis: connect and `PING`.

The URL's host is resolved and judged here and redis-py connects to the judged address (TLS still
checks the certificate against the URL's host), so a second lookup cannot send it elsewhere.
"""

from __future__ import annotations

from typing import Any

from nightowl.health.checkers.base import ProbeContext, describe_error
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec
from nightowl.outbound import OutboundDenied, OutboundPolicy


async def pinned_options(policy: OutboundPolicy, url: str) -> dict[str, Any]:
    """redis-py's connection options of the URL, its host replaced by an allowed address of it."""
    from redis.asyncio.connection import SSLConnection, parse_url

    options: dict[str, Any] = dict(parse_url(url))
    if "path" in options:  # unix://: the local machine
        if not policy.allow_loopback:
            raise OutboundDenied(
                "destination not allowed by the outbound policy: a Unix socket is a loopback destination "
                "(set outbound_allow_loopback)"
            )
        return options
    host = str(options.get("host") or "localhost")
    options["host"] = (await policy.resolve(host, int(options.get("port") or 6379)))[0]
    if options.get("connection_class") is SSLConnection:
        options["connection_class"] = _pinned_tls(host)
    return options


def _pinned_tls(server_hostname: str) -> Any:
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
        options = await pinned_options(ctx.policy, spec.target)
    except (OSError, OutboundDenied, ValueError) as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc, "redis"))
    pool = aioredis.ConnectionPool(
        **options, socket_timeout=spec.timeout, socket_connect_timeout=spec.timeout, retry_on_timeout=False
    )
    client = aioredis.Redis.from_pool(pool)
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
