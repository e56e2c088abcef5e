"""Redis: connect and `PING`."""

from __future__ import annotations

from nightowl.health.checkers.base import ProbeContext, describe_error
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec


async def check_redis(spec: CheckSpec, ctx: ProbeContext) -> Probe:
    import redis.asyncio as aioredis  # imported on first use: ~5 MiB a server without Redis checks need not hold
    from redis.exceptions import RedisError

    client = aioredis.Redis.from_url(
        spec.target, socket_timeout=spec.timeout, socket_connect_timeout=spec.timeout, retry_on_timeout=False
    )
    started = ctx.clock.monotonic()
    try:
        answer = await client.ping()  # type: ignore[misc]  # redis-py types ping() for sync and async
        latency = ctx.clock.monotonic() - started
    except (RedisError, OSError) as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc))
    finally:
        await client.aclose()
    if answer is not True:
        return Probe(ok=False, latency=latency, error=f"PING answered {answer!r}")
    return Probe(ok=True, latency=latency)
