"""The one append path every protocol goes through: admission, limits, `storage.append`, own metrics."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from nightowl.core.clock import Clock
from nightowl.core.errors import NightowlError, TooManyRequests, Unavailable
from nightowl.ingest.errors import PartialWrite
from nightowl.ingest.limits import REFUSED, TOO_FAR_IN_FUTURE, IngestLimits, LimitViolation, Validator
from nightowl.metrics.api import Appender
from nightowl.metrics.model import AppendResult, SampleBatch

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class IngestMetrics:
    """Samples ingested and rejected, by protocol (and reason), on Nightowl's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.samples = Counter(
            "nightowl_ingest_samples_total",
            "Samples stored, by ingest protocol.",
            ["protocol"],
            registry=registry,
        )
        self.rejected = Counter(
            "nightowl_ingest_rejected_samples_total",
            "Samples refused, by ingest protocol and reason (a limit, a bad name, out_of_order, overload...).",
            ["protocol", "reason"],
            registry=registry,
        )
        self.requests = Counter(
            "nightowl_ingest_requests_total",
            "Ingest requests handled, by protocol and outcome (ok, or the error: malformed-payload, "
            "invalid-series, limit-exceeded, partial-write, unavailable, too-many-requests...).",
            ["protocol", "outcome"],
            registry=registry,
        )
        self.series_created = Counter(
            "nightowl_ingest_series_created_total",
            "New series created by ingestion, by protocol.",
            ["protocol"],
            registry=registry,
        )


class Ingestor:
    """Validate then store a batch; refuse new work when too many requests are in flight.

    `storage` is a callable because the runtime may swap its backend while it prepares.
    """

    def __init__(
        self,
        storage: Callable[[], Appender],
        limits: IngestLimits,
        registry: CollectorRegistry,
        max_in_flight: int = 16,
        clock: Clock | None = None,
    ) -> None:
        self._storage = storage
        self.validator = Validator(limits, clock)
        self.metrics = IngestMetrics(registry)
        self.max_in_flight = max_in_flight
        self._in_flight = 0
        self._lock = threading.Lock()
        self.listeners: list[Callable[[SampleBatch], object]] = []
        """Called with each validated batch once stored (the integration forwarders); must be quick."""

    @property
    def limits(self) -> IngestLimits:
        return self.validator.limits

    @contextmanager
    def admit(self, protocol: str) -> Iterator[None]:
        """Hold one of the in-flight slots while a request decodes and appends; 429 when none is free."""
        with self._lock:
            if self._in_flight >= self.max_in_flight:
                self.metrics.requests.labels(protocol, TooManyRequests.type_slug).inc()
                raise TooManyRequests(
                    f"{self._in_flight} ingest requests are in flight (ingest_max_in_flight={self.max_in_flight}); "
                    "retry later",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                    extra={"limit": "ingest_max_in_flight", "limit_value": self.max_in_flight},
                )
            self._in_flight += 1
        try:
            yield
        except NightowlError as exc:
            self.metrics.requests.labels(protocol, exc.type_slug).inc()
            raise
        else:
            self.metrics.requests.labels(protocol, "ok").inc()
        finally:
            with self._lock:
                self._in_flight -= 1

    def reject(self, protocol: str, reason: str, samples: int) -> None:
        """Count samples an adapter could not turn into a batch (e.g. native histograms)."""
        self.metrics.rejected.labels(protocol, reason).inc(samples)

    def append(self, batch: SampleBatch, protocol: str, *, allow_partial: bool = False) -> AppendResult:
        """Store `batch` or raise: a `NightowlError` naming the limit, 503 when storage is overloaded, and
        `PartialWrite` (400) when the storage refused some samples, unless `allow_partial` (OTLP reports
        those in its own answer)."""
        try:
            checked, dropped = self.validator.check(batch)
        except LimitViolation as violation:
            self.metrics.rejected.labels(protocol, violation.reason).inc(len(batch))
            raise violation.error from None
        for reason, count in dropped.items():
            self.metrics.rejected.labels(protocol, reason).inc(count)
        if len(checked) == 0 and not checked.metadata:
            result = AppendResult(accepted=0)
        else:
            try:
                result = self._storage().append(checked)
            except Unavailable as exc:
                self.metrics.rejected.labels(protocol, "unavailable").inc(len(checked))
                exc.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
                raise
        self.metrics.samples.labels(protocol).inc(result.accepted)
        self.metrics.series_created.labels(protocol).inc(result.series_created)
        for reason, count in result.rejected.items():
            self.metrics.rejected.labels(protocol, reason).inc(count)
        if result.accepted:
            self._tell_listeners(checked)
        refused = dict(result.rejected)
        for reason in REFUSED & dropped.keys():
            refused[reason] = refused.get(reason, 0) + dropped[reason]
        if refused and not allow_partial:
            raise self._partial_write(refused, result.accepted)
        rejected = dict(result.rejected)
        for reason, count in dropped.items():
            rejected[reason] = rejected.get(reason, 0) + count
        return AppendResult(result.accepted, rejected, result.series_created)

    def _partial_write(self, refused: dict[str, int], written: int) -> PartialWrite:
        total = sum(refused.values())
        reasons = ", ".join(f"{reason}={count}" for reason, count in sorted(refused.items()))
        extra: dict[str, object] = {"written": written, "rejected": refused}
        by = "" if REFUSED & refused.keys() else " by the storage"
        detail = f"{total} samples were refused{by} ({reasons}); {written} samples were written"
        if TOO_FAR_IN_FUTURE in refused:
            tolerance = self.limits.future_tolerance
            detail += f"; {TOO_FAR_IN_FUTURE}: stamped more than ingest_future_tolerance={tolerance} after now"
            extra.update(limit="ingest_future_tolerance", limit_value=tolerance)
        return PartialWrite(detail, field="samples", extra=extra)

    def _tell_listeners(self, batch: SampleBatch) -> None:
        for listener in self.listeners:
            try:
                listener(batch)
            except Exception:
                log.exception("ingest listener failed")


@dataclass(frozen=True)
class ProtocolAppender:
    """An `Appender` for in-process producers (checks, rules): their batches take the one append path."""

    ingestor: Ingestor
    protocol: str

    def append(self, batch: SampleBatch) -> AppendResult:
        return self.ingestor.append(batch, self.protocol, allow_partial=True)
