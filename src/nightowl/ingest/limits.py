"""Validation and limits, the same for every protocol, applied to each batch before it is stored.

A hard limit (too many samples or series in one request, a bad name, too many or too long labels)
refuses the whole batch, so a client never has to guess which half was stored. The non-finite
value policy may instead drop just the offending samples. Series that passed once are remembered,
so a scrape or a remote-write stream that repeats its series pays the checks only the first time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from nightowl.core.errors import LimitExceeded
from nightowl.ingest.errors import InvalidSeries
from nightowl.metrics.model import METRIC_NAME, Labels, SampleBatch, is_stale

NameValidation = Literal["legacy", "utf8"]
NonFinitePolicy = Literal["accept", "drop", "reject"]

LEGACY_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LEGACY_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_VALID_CACHE_MAX = 1_000_000

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

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestLimits:
        return cls(
            max_samples_per_request=settings.ingest_max_samples_per_request,
            max_series_per_request=settings.ingest_max_series_per_request,
            max_labels_per_series=settings.ingest_max_labels_per_series,
            max_label_name_length=settings.ingest_max_label_name_length,
            max_label_value_length=settings.ingest_max_label_value_length,
            names=settings.ingest_metric_names,
            non_finite=settings.ingest_non_finite,
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

    def __init__(self, limits: IngestLimits) -> None:
        self.limits = limits
        self._valid: set[Labels] = set()
        self._valid_objects: dict[int, Labels] = {}

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
            if len(valid) >= _VALID_CACHE_MAX:
                valid.clear()
                objects.clear()
            valid.add(clean)
            if clean is labels:
                objects[id(labels)] = labels
        if normalized is not None:
            batch = SampleBatch(normalized, batch.series_index, batch.timestamps, batch.values, batch.metadata)
        return self._check_values(batch)

    def _check_values(self, batch: SampleBatch) -> tuple[SampleBatch, dict[str, int]]:
        if self.limits.non_finite == "accept" or len(batch) == 0:
            return batch, {}
        bad = ~np.isfinite(batch.values) & ~is_stale(batch.values)
        count = int(bad.sum())
        if count == 0:
            return batch, {}
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
        return kept, {"non_finite": count}

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
        has_name = False
        legacy = limits.names == "legacy"
        for name, value in labels:
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
                    f"value of label {name!r} is {len(value)} characters, over "
                    f"ingest_max_label_value_length={limits.max_label_value_length} in {_show(labels)}",
                    "ingest_max_label_value_length",
                    limits.max_label_value_length,
                )
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
