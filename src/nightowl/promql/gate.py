"""How many queries evaluate at once, and how many may wait for a turn.

Evaluation is Python and numpy under one GIL: ten heavy queries in ten threads do not finish sooner
than in two, but they take the GIL from the event loop ten times as often, so `/status`, `/health`
and quick dashboard queries stall behind them. Queries therefore run in worker threads of their own
(not the pool other endpoints share), `concurrency` at a time; others wait in a queue of at most
`max_queued` for no longer than their own timeout, and past that are refused with a clear answer.

Identical queries asked while one is being evaluated (a dashboard open in many browsers, Grafana
panels sharing a query) wait for that evaluation instead of repeating it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from nightowl.promql.errors import QueryLimitError, QueryTimeoutError

T = TypeVar("T")


class QueryQueueFull(QueryLimitError):
    """Too many queries waiting: Prometheus's API answers 503, the native API 429."""

    kind = "unavailable"


def default_concurrency() -> int:
    return max(2, os.cpu_count() or 2)


class QueryGate:
    def __init__(self, concurrency: int = 0, max_queued: int = 100) -> None:
        self.concurrency = concurrency or default_concurrency()
        self.max_queued = max_queued
        self.waiting = 0
        self.running = 0
        self._slots: asyncio.Semaphore | None = None
        self._threads: anyio.CapacityLimiter | None = None
        self._in_flight: dict[Hashable, asyncio.Future[Any]] = {}
        self.shared = 0  # requests answered by an identical query in flight

    async def run_shared(self, key: Hashable, evaluate: Callable[[float], T], timeout_s: float) -> T:
        """`run`, unless an identical query (same `key`) is already running: then its answer (or error)."""
        running = self._in_flight.get(key)
        if running is not None:
            self.shared += 1
            try:
                result: T = await asyncio.shield(running)
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise  # this request itself was cancelled
                self.shared -= 1  # the leader was cancelled: evaluate after all
            else:
                return result
        return await self._lead(key, self.run(evaluate, timeout_s))

    async def _lead(self, key: Hashable, work: Awaitable[T]) -> T:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            result = await work
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody may be waiting
            raise
        else:
            future.set_result(result)
            return result
        finally:
            if self._in_flight.get(key) is future:
                del self._in_flight[key]

    async def run(self, evaluate: Callable[[float], T], timeout_s: float) -> T:
        """`evaluate(remaining_timeout_s)` in a worker thread once a slot is free; the wait for the slot
        counts against the query's timeout."""
        if self._slots is None or self._threads is None:
            self._slots = asyncio.Semaphore(self.concurrency)
            self._threads = anyio.CapacityLimiter(self.concurrency)
        if self._slots.locked() and self.waiting >= self.max_queued:
            raise QueryQueueFull(
                f"too many queries: {self.running} running (query_max_concurrency={self.concurrency}) and "
                f"{self.waiting} waiting (query_max_queued={self.max_queued}); retry later",
                "query_max_queued",
            )
        started = time.monotonic()
        self.waiting += 1
        try:
            async with asyncio.timeout(timeout_s):
                await self._slots.acquire()
        except TimeoutError:
            raise QueryTimeoutError(
                f"query timed out after {timeout_s:g}s waiting for one of query_max_concurrency={self.concurrency} "
                "slots"
            ) from None
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            remaining = timeout_s - (time.monotonic() - started)
            if remaining <= 0:  # `timeout=0`, or the wait used it all: the engine refuses to start
                remaining = 0.0
            return await anyio.to_thread.run_sync(evaluate, remaining, limiter=self._threads)
        finally:
            self.running -= 1
            self._slots.release()
