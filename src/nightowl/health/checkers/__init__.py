"""The checkers, one module per check type, registered by name in `CHECKERS`.

A checker takes the check's spec and a `ProbeContext` and returns a `Probe`; it measures latency with
the monotonic clock around the I/O only. The runner bounds each call by the check's timeout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nightowl.health.checkers.base import ProbeContext
from nightowl.health.checkers.dns import check_dns
from nightowl.health.checkers.http import check_http
from nightowl.health.checkers.postgres import check_postgres
from nightowl.health.checkers.redis import check_redis
from nightowl.health.checkers.tcp import check_tcp
from nightowl.health.checkers.tls import check_tls
from nightowl.health.model import Probe
from nightowl.health.spec import CheckSpec

Checker = Callable[[CheckSpec, ProbeContext], Awaitable[Probe]]

CHECKERS: dict[str, Checker] = {
    "http": check_http,
    "tls": check_tls,
    "tcp": check_tcp,
    "dns": check_dns,
    "postgres": check_postgres,
    "redis": check_redis,
}

__all__ = ["CHECKERS", "Checker", "ProbeContext"]
