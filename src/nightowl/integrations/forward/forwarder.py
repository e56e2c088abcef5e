"""One metric forwarder: pick samples by matcher at ingest, buffer them on disk, send them in batches.

`offer` runs on the ingest path and only filters and appends to the buffer. The forwarder's scheduler
job drains the buffer: a batch the remote accepts is removed; one it refuses for what it holds (4xx other
than 401/403/404/408/429) is dropped and counted; anything else is retried with exponential backoff,
honouring Retry-After, while the buffer keeps taking samples up to its cap (then the oldest go, counted).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge

from nightowl.core.clock import Clock
from nightowl.integrations.forward.buffer import DiskBuffer, Sample
from nightowl.integrations.forward.formats import KINDS
from nightowl.integrations.webhooks import retry_after
from nightowl.metrics.model import Matcher, SampleBatch
from nightowl.metrics.remote.writer import RETRIED
from nightowl.outbound import public_error

log = logging.getLogger(__name__)

BACKOFF_BASE = 1.0
BACKOFF_MAX = 300.0
MAX_BATCHES_PER_RUN = 50


@dataclass(frozen=True)
class ForwarderConfig:
    type: str
    url: str
    api_key: str = ""
    username: str = ""
    match: tuple[tuple[Matcher, ...], ...] = ()
    batch_size: int = 500
    max_buffer_bytes: int = 64 << 20
    timeout: float = 10.0

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/") + KINDS[self.type].path if KINDS[self.type].path else self.url


@dataclass
class ForwardMetrics:
    samples: Counter
    retries: Counter
    buffer: Gauge

    @classmethod
    def on(cls, registry: CollectorRegistry | None) -> ForwardMetrics:
        return cls(
            samples=Counter(
                "nightowl_forward_samples_total",
                "Samples through the metric forwarders, by result: sent, rejected (refused by the remote), "
                "dropped (buffer full), skipped (NaN, which JSON formats cannot carry).",
                ["forwarder", "result"],
                registry=registry,
            ),
            retries=Counter(
                "nightowl_forward_retries_total", "Forwarder requests retried.", ["forwarder"], registry=registry
            ),
            buffer=Gauge(
                "nightowl_forward_buffer_bytes",
                "Bytes waiting in each forwarder's disk buffer.",
                ["forwarder"],
                registry=registry,
            ),
        )


def selected(batch: SampleBatch, match: tuple[tuple[Matcher, ...], ...]) -> list[Sample]:
    """The samples of series that match any selector (all its matchers); no selector selects everything."""
    keep = [
        not match or any(all(m.matches(dict(labels).get(m.name, "")) for m in sel) for sel in match)
        for labels in batch.series
    ]
    return [
        (batch.series[i], int(ts), float(v))
        for i, ts, v in zip(batch.series_index.tolist(), batch.timestamps.tolist(), batch.values.tolist(), strict=True)
        if keep[i]
    ]


@dataclass
class Forwarder:
    config: ForwarderConfig
    buffer: DiskBuffer
    clock: Clock
    http: Callable[[], httpx.AsyncClient]
    metrics: ForwardMetrics
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str | None = None
    _draining: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def name(self) -> str:
        return self.config.type

    def offer(self, batch: SampleBatch) -> None:
        samples = selected(batch, self.config.match)
        if not samples:
            return
        dropped = self.buffer.append(samples)
        if dropped:
            self.metrics.samples.labels(self.name, "dropped").inc(dropped)
        self.metrics.buffer.labels(self.name).set(self.buffer.bytes)

    def _headers(self) -> dict[str, str]:
        if self.config.type == "remote_write" and self.config.username:
            token = base64.b64encode(f"{self.config.username}:{self.config.api_key}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        return {}

    async def drain(self) -> None:
        """The forwarder's job: send batches until the buffer is empty, a retry is due, or the run's quota.

        One drain at a time, so overlapping runs never send a batch twice."""
        async with self._draining:
            await self._drain()

    async def _drain(self) -> None:
        if self.clock.now() < self.next_attempt_at:
            return
        kind = KINDS[self.config.type]
        for _ in range(MAX_BATCHES_PER_RUN):
            samples = self.buffer.peek(self.config.batch_size)
            if not samples:
                break
            payload = kind.encode(samples, self.config.api_key)
            headers = payload.headers | self._headers()
            try:
                response = await self.http().post(
                    self.config.endpoint, content=payload.body, headers=headers, timeout=self.config.timeout
                )
            except httpx.HTTPError as exc:
                self._retry(public_error(exc, where=f"forwarder {self.name}"), None)
                break
            if response.is_success:
                self.buffer.commit(len(samples))
                sent = sum(1 for _, _, v in samples if v == v) if self.config.type != "remote_write" else len(samples)
                self.metrics.samples.labels(self.name, "sent").inc(sent)
                if sent < len(samples):
                    self.metrics.samples.labels(self.name, "skipped").inc(len(samples) - sent)
                self.attempts, self.last_error = 0, None
            elif 400 <= response.status_code < 500 and response.status_code not in RETRIED:
                self.buffer.commit(len(samples))
                self.metrics.samples.labels(self.name, "rejected").inc(len(samples))
                self.last_error = f"HTTP {response.status_code}: {response.text[:300]}"
                log.warning("forwarder batch refused", extra={"forwarder": self.name, "error": self.last_error})
            else:
                self._retry(f"HTTP {response.status_code}: {response.text[:300]}", retry_after(response))
                break
        self.metrics.buffer.labels(self.name).set(self.buffer.bytes)

    async def send_test(self) -> dict[str, object]:
        """POST one `nightowl_forward_test` gauge now, outside the buffer, and say what the remote answered."""
        labels = (("__name__", "nightowl_forward_test"), ("forwarder", self.name))
        payload = KINDS[self.config.type].encode([(labels, int(self.clock.now() * 1000), 1.0)], self.config.api_key)
        try:
            response = await self.http().post(
                self.config.endpoint,
                content=payload.body,
                headers=payload.headers | self._headers(),
                timeout=self.config.timeout,
            )
        except httpx.HTTPError as exc:
            return {"ok": False, "status_code": None, "error": public_error(exc, where=f"forwarder {self.name}")}
        error = None if response.is_success else f"HTTP {response.status_code}: {response.text[:300]}"
        return {"ok": response.is_success, "status_code": response.status_code, "error": error}

    def _retry(self, error: str, wait: float | None) -> None:
        self.attempts += 1
        self.last_error = error
        self.metrics.retries.labels(self.name).inc()
        delay = min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** (self.attempts - 1)) * (0.5 + self.rng.random() / 2)
        self.next_attempt_at = self.clock.now() + max(delay, wait or 0.0)

    def status(self) -> dict[str, object]:
        return {
            "buffer_bytes": self.buffer.bytes,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at or None,
            "last_error": self.last_error,
        }
