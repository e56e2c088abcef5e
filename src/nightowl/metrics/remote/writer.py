"""The remote write queue: appends wait in a bounded queue; one sender drains it in batches with retries.

A batch that the remote refuses for what it holds (400, 409, 413, 422...: out of order, too old, too big)
is dropped and counted. Anything else (5xx, 429, network errors, and the answers of a misconfigured
endpoint or credentials, which every batch would get) is retried with exponential backoff and jitter, for
as long as it takes, honouring Retry-After. Meanwhile the queue fills, and a full queue refuses appends with 503 so
the pressure reaches the senders of the samples instead of growing memory.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import httpx
import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge

from nightowl.core.errors import LimitExceeded, Unavailable
from nightowl.metrics.model import SampleBatch
from nightowl.metrics.remote.config import RemoteConfig
from nightowl.metrics.remote.writeproto import HEADERS, compress, encode_write_request

log = logging.getLogger(__name__)

RETRIED = frozenset({401, 403, 404, 405, 408, 429})
"""4xx answers that say nothing about the batch: fixing the remote or the credentials makes it go through."""


@dataclass(frozen=True)
class SendOutcome:
    """What one attempt did: samples sent or dropped, or a retry due after `retry_in` seconds."""

    sent: int = 0
    dropped: int = 0
    retry_in: float | None = None
    error: str | None = None


@dataclass
class _InFlight:
    batches: int
    samples: int
    body: bytes
    attempts: int = 0


@dataclass
class WriterMetrics:
    samples: Counter
    retries: Counter
    dropped_batches: Counter
    queue: Gauge

    @classmethod
    def on(cls, registry: CollectorRegistry) -> WriterMetrics:
        return cls(
            samples=Counter(
                "nightowl_remote_write_samples_total",
                "Samples through remote write, by result: sent, dropped (refused by the remote), queue_full.",
                ["result"],
                registry=registry,
            ),
            retries=Counter("nightowl_remote_write_retries_total", "Remote write requests retried.", registry=registry),
            dropped_batches=Counter(
                "nightowl_remote_write_dropped_batches_total",
                "Remote write batches dropped because the remote refused them (4xx).",
                registry=registry,
            ),
            queue=Gauge(
                "nightowl_remote_write_queue_samples", "Samples waiting to be sent by remote write.", registry=registry
            ),
        )


def split(batch: SampleBatch, size: int) -> list[SampleBatch]:
    """Pieces of at most `size` samples; all share the series list (the index says which are used)."""
    if len(batch) <= size:
        return [batch]
    return [
        SampleBatch(
            batch.series,
            batch.series_index[lo : lo + size],
            batch.timestamps[lo : lo + size],
            batch.values[lo : lo + size],
            batch.metadata if lo == 0 else {},
        )
        for lo in range(0, len(batch), size)
    ]


@dataclass
class RemoteWriter:
    config: RemoteConfig
    client: httpx.Client
    metrics: WriterMetrics
    rng: random.Random = field(default_factory=random.Random)
    _queue: deque[SampleBatch] = field(default_factory=deque)
    _queued: int = 0
    _inflight: _InFlight | None = None
    _last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _send_lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(init=False)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def enqueue(self, batch: SampleBatch) -> None:
        n = len(batch)
        limit = self.config.queue_max_samples
        if n > limit:
            raise LimitExceeded(f"{n} samples in one append exceed metrics_queue_max_samples={limit}")
        with self._lock:
            if self._queued + n > limit:
                self.metrics.samples.labels("queue_full").inc(n)
                why = f"; last error: {self._last_error}" if self._last_error else ""
                raise Unavailable(
                    f"the remote write queue is full ({self._queued} of {limit} samples waiting for "
                    f"{self.config.write_url}){why}",
                    headers={"Retry-After": str(max(1, round(self.config.max_backoff_s)))},
                )
            self._queue.extend(split(batch, self.config.batch_max_samples))
            self._queued += n
            self.metrics.queue.set(self._queued)
            self._changed.notify_all()

    def _next_request(self) -> _InFlight | None:
        """The head of the queue as one request of at most batch_max_samples (kept until it is settled).

        Raises UnicodeEncodeError for a label that is not valid UTF-8 (a lone surrogate), with `_inflight`
        holding the batches and an empty body, so the caller drops them instead of retrying forever.
        """
        with self._lock:
            if self._inflight is None and self._queue:
                take, samples = 0, 0
                for batch in self._queue:
                    if take and samples + len(batch) > self.config.batch_max_samples:
                        break
                    take, samples = take + 1, samples + len(batch)
                self._inflight = _InFlight(take, samples, b"")
                self._inflight.body = compress(encode_write_request([self._queue[i] for i in range(take)]))
            return self._inflight

    def _settle(self, request: _InFlight) -> None:
        with self._lock:
            for _ in range(request.batches):
                self._queue.popleft()
            self._queued -= request.samples
            self._inflight = None
            self.metrics.queue.set(self._queued)
            self._changed.notify_all()

    def send_once(self) -> SendOutcome:
        """One attempt at the head of the queue. The loop (or a test) decides when to call it again."""
        with self._send_lock:
            try:
                request = self._next_request()
            except UnicodeEncodeError as exc:
                assert self._inflight is not None
                return self._drop(self._inflight, f"cannot encode: {exc}")
            if request is None:
                return SendOutcome()
            request.attempts += 1
            try:
                response = self.client.post(self.config.write_url, content=request.body, headers=HEADERS)
            except httpx.HTTPError as exc:
                return self._retry(request, f"{type(exc).__name__}: {exc}", None)
            status = response.status_code
            if status < 300:
                self._settle(request)
                self._last_error = None
                self.metrics.samples.labels("sent").inc(request.samples)
                return SendOutcome(sent=request.samples)
            error = f"HTTP {status}: {response.text[:200].strip()}"
            if status in RETRIED or status >= 500:
                return self._retry(request, error, _retry_after(response))
            return self._drop(request, error)

    def _drop(self, request: _InFlight, error: str) -> SendOutcome:
        self._settle(request)
        self.metrics.samples.labels("dropped").inc(request.samples)
        self.metrics.dropped_batches.inc()
        log.warning(
            "remote write batch dropped",
            extra={"url": self.config.write_url, "samples": request.samples, "error": error},
        )
        return SendOutcome(dropped=request.samples, error=error)

    def _retry(self, request: _InFlight, error: str, retry_after: float | None) -> SendOutcome:
        self._last_error = error
        self.metrics.retries.inc()
        delay = backoff(request.attempts, self.config.min_backoff_s, self.config.max_backoff_s, self.rng)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.max_backoff_s))
        log.warning(
            "remote write failed, will retry",
            extra={"url": self.config.write_url, "error": error, "retry_in": round(delay, 3)},
        )
        return SendOutcome(retry_in=delay, error=error)

    def flush(self, timeout_s: float | None = None) -> bool:
        """Send until the queue is empty or the timeout passes; True when everything went out."""
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else self.config.flush_timeout_s)
        while self._queued:
            outcome = self.send_once()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._queued == 0
            if outcome.retry_in is not None:
                time.sleep(min(outcome.retry_in, remaining))
        return True

    def start(self) -> None:
        """Drain the queue in a background thread until `stop`."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="nightowl-remote-write", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                while not self._queue and not self._stopping.is_set():
                    self._changed.wait()
            if self._stopping.is_set():
                return
            try:
                outcome = self.send_once()
            except Exception:  # the sender must outlive any surprise; the batch stays queued
                log.exception("remote write sender failed")
                outcome = SendOutcome(retry_in=self.config.max_backoff_s)
            if outcome.retry_in is not None:
                self._stopping.wait(outcome.retry_in)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.config.timeout_s + 5.0)
            self._thread = None


def backoff(attempt: int, low: float, high: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter in its upper half: attempt 1 waits ~low, doubling to high."""
    ceiling = min(high, low * 2.0 ** (attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if np.isfinite(seconds) and seconds >= 0 else None
