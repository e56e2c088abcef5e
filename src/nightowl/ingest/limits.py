"""Validation and limits, the same for every protocol, applied to each batch before it is stored.

A hard limit (too many samples or series in one request, a bad name, too many or too long labels)
refuses the whole batch, so a client never has to guess which half was stored. The non-finite
value policy may instead drop just the offending samples, and samples too far in the future are
dropped and reported (as the storage reports out-of-order ones). Series that passed once are
remembered, so a scrape or a remote-write stream that repeats its series pays the checks only the
first time; that memory is bounded by bytes, since one label value may be kilobytes long.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from nightowl.core.clock import Clock, SystemClock
from nightowl.core.errors import LimitExceeded
from nightowl.ingest.caches import labels_size
from nightowl.ingest.errors import InvalidSeries
from nightowl.metrics.model import METRIC_NAME, Labels, SampleBatch, is_stale

NameValidation = Literal["legacy", "utf8"]
NonFinitePolicy = Literal["accept", "drop", "reject"]

LEGACY_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LEGACY_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
VALID_CACHE_BYTES = 64 * 2**20
"""Memory the remembered valid label sets may take (estimated) before they are forgotten and re-checked."""
TOO_FAR_IN_FUTURE = "too_far_in_future"
REFUSED = frozenset({TOO_FAR_IN_FUTURE})
"""Drop reasons the client must hear about (400 unless partial writes are allowed), unlike chosen policies."""

if TYPE_CHECKING:
    from nightowl.config import Settings


@dataclass(frozen=True)
class IngestLimits:
    max_samples_per_request: int = 5_000_000
    max_series_per_request: int = 1_000_000
    max_labels_per_series: int = 64
    max_label_name_length: int = 1024
    max_label_value_length: int = 4096
    names: NameValidation = "utf8"
    non_finite: NonFinitePolicy = "accept"
    future_tolerance_ms: int = 10 * 60_000
    future_tolerance: str = "10m"
    """The setting as written, for messages."""
    max_metadata_length: int = 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestLimits:
        from nightowl.tsdb.options import parse_duration_ms  # the one Prometheus duration syntax

        return cls(
            max_samples_per_request=settings.ingest_max_samples_per_request,
            max_series_per_request=settings.ingest_max_series_per_request,
            max_labels_per_series=settings.ingest_max_labels_per_series,
            max_label_name_length=settings.ingest_max_label_name_length,
            max_label_value_length=settings.ingest_max_label_value_length,
            names=settings.ingest_metric_names,
            non_finite=settings.ingest_non_finite,
            future_tolerance_ms=parse_duration_ms(settings.ingest_future_tolerance),
            future_tolerance=settings.ingest_future_tolerance,
            max_metadata_length=settings.ingest_max_metadata_length,
        )


class LimitViolation(Exception):
    """Why a batch was refused: the counter reason, and the error the client gets."""

    def __init__(self, reason: str, error: InvalidSeries | LimitExceeded) -> None:
        super().__init__(error.detail)
        self.reason = reason
        self.error = error


def _series_error(reason: str, detail: str, limit: str | None = None, value: int | None = None) -> LimitViolation:
    extra: dict[str, object] = {"reason": reason}
    if limit is not None:
        extra.update(limit=limit, limit_value=value)
    return LimitViolation(reason, InvalidSeries(detail, field="series", extra=extra))


def _show(labels: Labels) -> str:
    text = "{" + ", ".join(f'{n}="{v}"' for n, v in labels) + "}"
    return text if len(text) <= 300 else text[:297] + "..."


class Validator:
    """Checks batches against `IngestLimits`; keeps the label sets already found valid."""

    def __init__(self, limits: IngestLimits, clock: Clock | None = None) -> None:
        self.limits = limits
        self.clock = clock or SystemClock()
        self._valid: set[Labels] = set()
        self._valid_objects: dict[int, Labels] = {}
        self.cached_bytes = 0
        """Estimated memory of the remembered label sets (`VALID_CACHE_BYTES` bounds it)."""
        self.max_cached_bytes = VALID_CACHE_BYTES

    def check(self, batch: SampleBatch) -> tuple[SampleBatch, dict[str, int]]:
        """The batch to store and samples dropped by reason; raise `LimitViolation` to refuse it whole."""
        limits = self.limits
        if len(batch) > limits.max_samples_per_request:
            raise LimitViolation(
                "too_many_samples",
                LimitExceeded(
                    f"{len(batch)} samples in one request exceed ingest_max_samples_per_request="
                    f"{limits.max_samples_per_request}",
                    field="samples",
                    extra={"limit": "ingest_max_samples_per_request", "limit_value": limits.max_samples_per_request},
                ),
            )
        if len(batch.series) > limits.max_series_per_request:
            raise LimitViolation(
                "too_many_series",
                LimitExceeded(
                    f"{len(batch.series)} series in one request exceed ingest_max_series_per_request="
                    f"{limits.max_series_per_request}",
                    field="series",
                    extra={"limit": "ingest_max_series_per_request", "limit_value": limits.max_series_per_request},
                ),
            )
        valid, objects = self._valid, self._valid_objects
        # A scrape or stream that repeats its series hands the very same tuples: one pass in C settles
        # it (an id in `objects` is that object's, since the dict keeps it alive).
        if all(map(objects.__contains__, map(id, batch.series))):
            return self._check_values(batch)
        normalized: list[Labels] | None = None
        for i, labels in enumerate(batch.series):
            # Decoders hand back the same cached tuple for a series they saw before: an identity hit
            # skips hashing the whole label set (the dict holds the tuple, so its id stays unique).
            if objects.get(id(labels)) is labels:
                continue
            if labels in valid:
                objects[id(labels)] = labels
                continue
            clean = self._check_series(labels)
            if clean is not labels:
                if normalized is None:
                    normalized = list(batch.series)
                normalized[i] = clean
            size = 100 + labels_size(clean)
            if self.cached_bytes + size > self.max_cached_bytes:
                valid.clear()
                objects.clear()
                self.cached_bytes = 0
            valid.add(clean)
            self.cached_bytes += size
            if clean is labels:
                objects[id(labels)] = labels
        if normalized is not None:
            batch = SampleBatch(normalized, batch.series_index, batch.timestamps, batch.values, batch.metadata)
        return self._check_values(batch)

    def _check_values(self, batch: SampleBatch) -> tuple[SampleBatch, dict[str, int]]:
        batch = self._check_metadata(batch)
        batch, dropped = self._check_future(batch)
        if self.limits.non_finite == "accept" or len(batch) == 0:
            return batch, dropped
        bad = ~np.isfinite(batch.values) & ~is_stale(batch.values)
        count = int(bad.sum())
        if count == 0:
            return batch, dropped
        if self.limits.non_finite == "reject":
            first = batch.series[int(batch.series_index[int(np.argmax(bad))])]
            raise _series_error(
                "non_finite",
                f"{count} samples are NaN or infinite (first in {_show(first)}) and ingest_non_finite=reject",
                "ingest_non_finite",
            )
        keep = ~bad
        kept = SampleBatch(
            batch.series, batch.series_index[keep], batch.timestamps[keep], batch.values[keep], batch.metadata
        )
        return kept, {**dropped, "non_finite": count}

    def _check_future(self, batch: SampleBatch) -> tuple[SampleBatch, dict[str, int]]:
        """Drop samples stamped beyond now + `future_tolerance_ms`: stored, such a sample would make
        every later sample of its series out of order, for good."""
        if len(batch) == 0:
            return batch, {}
        latest = round(self.clock.now() * 1000) + self.limits.future_tolerance_ms
        if int(batch.timestamps.max()) <= latest:
            return batch, {}
        keep = batch.timestamps <= latest
        kept = SampleBatch(
            batch.series, batch.series_index[keep], batch.timestamps[keep], batch.values[keep], batch.metadata
        )
        return kept, {TOO_FAR_IN_FUTURE: len(batch) - len(kept)}

    def _check_metadata(self, batch: SampleBatch) -> SampleBatch:
        """Bound what metadata may cost: too many families refuse the request, long texts are cut."""
        metadata = batch.metadata
        if not metadata:
            return batch
        limits = self.limits
        if len(metadata) > limits.max_series_per_request:
            raise LimitViolation(
                "too_many_metadata",
                LimitExceeded(
                    f"{len(metadata)} metric metadata entries in one request exceed ingest_max_series_per_request="
                    f"{limits.max_series_per_request}",
                    field="metadata",
                    extra={"limit": "ingest_max_series_per_request", "limit_value": limits.max_series_per_request},
                ),
            )
        longest = limits.max_metadata_length
        fits = all(
            len(name) <= limits.max_label_value_length and len(help_text) <= longest and len(unit) <= longest
            for name, (_, help_text, unit) in metadata.items()
        )
        if fits:
            return batch
        bounded = {
            name: (kind, help_text[:longest], unit[:longest])
            for name, (kind, help_text, unit) in metadata.items()
            if len(name) <= limits.max_label_value_length  # a name no series may carry has no metadata to keep
        }
        return SampleBatch(batch.series, batch.series_index, batch.timestamps, batch.values, bounded)

    def _check_series(self, labels: Labels) -> Labels:
        limits = self.limits
        unsorted = any(a[0] >= b[0] for a, b in zip(labels, labels[1:], strict=False))
        if unsorted or any(not value for _, value in labels):
            names = [name for name, _ in labels]
            if len(set(names)) != len(names):
                duplicate = next(n for n in names if names.count(n) > 1)
                raise _series_error("duplicate_label", f"label {duplicate!r} appears twice in {_show(labels)}")
            labels = tuple(sorted(pair for pair in labels if pair[1]))
        if len(labels) > limits.max_labels_per_series:
            raise _series_error(
                "too_many_labels",
                f"{len(labels)} labels exceed ingest_max_labels_per_series={limits.max_labels_per_series} "
                f"in {_show(labels)}",
                "ingest_max_labels_per_series",
                limits.max_labels_per_series,
            )
        check_lengths(labels, limits)
        has_name = False
        legacy = limits.names == "legacy"
        for name, value in labels:
            if name == METRIC_NAME:
                has_name = True
                if legacy and LEGACY_METRIC_NAME.match(value) is None:
                    raise _series_error(
                        "invalid_metric_name",
                        f"metric name {value!r} is invalid: must match [a-zA-Z_:][a-zA-Z0-9_:]* "
                        "(ingest_metric_names=legacy)",
                    )
            elif (legacy and LEGACY_LABEL_NAME.match(name) is None) or not name:
                raise _series_error(
                    "invalid_label_name",
                    f"label name {name!r} is invalid: must match [a-zA-Z_][a-zA-Z0-9_]* (ingest_metric_names=legacy)"
                    if legacy
                    else "a label name is empty",
                )
        if not has_name:
            raise _series_error("missing_metric_name", f"series {_show(labels)} has no metric name (__name__)")
        return labels


def within_lengths(pairs: Iterable[tuple[str, str]], limits: IngestLimits) -> bool:
    """Whether every label name and value is within its length limit.

    Decoders ask before they cache or intern a label set: one that the validator will refuse must
    leave no trace in memory (ten refused requests with a 1 MiB label value each once kept gigabytes).
    """
    most_name, most_value = limits.max_label_name_length, limits.max_label_value_length
    return all(len(name) <= most_name and len(value) <= most_value for name, value in pairs)


def check_lengths(pairs: Iterable[tuple[str, str]], limits: IngestLimits) -> None:
    """Refuse label names and values over their length limits, naming the limit."""
    for name, value in pairs:
        if len(name) > limits.max_label_name_length:
            raise _series_error(
                "label_name_too_long",
                f"label name {name[:64]!r}... is {len(name)} characters, over "
                f"ingest_max_label_name_length={limits.max_label_name_length}",
                "ingest_max_label_name_length",
                limits.max_label_name_length,
            )
        if len(value) > limits.max_label_value_length:
            raise _series_error(
                "label_value_too_long",
                f"value of label {name[:64]!r} is {len(value)} characters, over "
                f"ingest_max_label_value_length={limits.max_label_value_length} (starts {value[:64]!r})",
                "ingest_max_label_value_length",
                limits.max_label_value_length,
            )
