"""Rate limits: token buckets per API key and per client IP, and the login brute-force guard.

Both live in process behind small interfaces (`RateLimiter`, `FailureLimiter`), so a shared store such
as Redis can replace them for several instances without touching the callers.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from threading import Lock
from typing import Protocol

from nightowl.core.clock import Clock

MAX_TRACKED = 100_000  # bound on buckets/counters kept in memory; idle ones are dropped first


@dataclass(frozen=True)
class Decision:
    """The outcome of one request against a bucket, with what the X-RateLimit-* headers report."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float  # seconds until the bucket is full again
    retry_after: float  # seconds until one request would be allowed (0 when allowed)

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_after)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


class RateLimiter(Protocol):
    def hit(self, key: str, per_hour: int) -> Decision:
        """Take one token from `key`'s bucket of capacity `per_hour`, refilled evenly over an hour."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """In-process token buckets: a burst of up to `per_hour` requests, then `per_hour / 3600` per second."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = Lock()

    def hit(self, key: str, per_hour: int) -> Decision:
        now = self.clock.monotonic()
        rate = per_hour / 3600.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_TRACKED:
                    self._prune()
                bucket = self._buckets[key] = _Bucket(float(per_hour), now)
            bucket.tokens = min(float(per_hour), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            allowed = bucket.tokens >= 1.0
            if allowed:
                bucket.tokens -= 1.0
            tokens = bucket.tokens
        return Decision(
            allowed=allowed,
            limit=per_hour,
            remaining=int(tokens),
            reset_after=(per_hour - tokens) / rate,
            retry_after=0.0 if allowed else (1.0 - tokens) / rate,
        )

    def _prune(self) -> None:
        """Drop the buckets idle longest (a full bucket is the same as no bucket)."""
        by_age = sorted(self._buckets.items(), key=lambda item: item[1].updated)
        for name, _bucket in by_age[: len(by_age) // 2 or 1]:
            del self._buckets[name]


class FailureLimiter(Protocol):
    def locked_for(self, key: str) -> float:
        """Seconds until `key` may try again (0 when it may try now)."""

    def fail(self, key: str) -> None: ...

    def reset(self, key: str) -> None: ...


class FailureWindow:
    """Counts failures per key in a sliding window; `max_failures` inside the window locks the key."""

    def __init__(self, clock: Clock, max_failures: int, window: float) -> None:
        self.clock, self.max_failures, self.window = clock, max_failures, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def locked_for(self, key: str) -> float:
        now = self.clock.monotonic()
        with self._lock:
            failures = self._recent(key, now)
            if not failures:
                self._failures.pop(key, None)
            if len(failures) < self.max_failures:
                return 0.0
            return failures[-self.max_failures] + self.window - now

    def fail(self, key: str) -> None:
        now = self.clock.monotonic()
        with self._lock:
            if key not in self._failures and len(self._failures) >= MAX_TRACKED:
                oldest = min(self._failures, key=lambda k: self._failures[k][-1] if self._failures[k] else 0.0)
                del self._failures[oldest]
            failures = self._recent(key, now)
            failures.append(now)
            while len(failures) > self.max_failures:
                failures.popleft()
            self._failures[key] = failures

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
