"""An in-memory Appender + Querier: the reference behaviour backends are compared with, and a fixture.

No persistence and no compression; duplicate timestamps keep the last value written.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from nightowl.metrics.api import MetricMetadata, SelectHints
from nightowl.metrics.model import AppendResult, Labels, Matcher, SampleBatch, Series


def _matches(labels: Labels, matchers: Sequence[Matcher]) -> bool:
    present = dict(labels)
    return all(m.matches(present.get(m.name, "")) for m in matchers)


class MemoryStorage:
    def __init__(self) -> None:
        self._samples: dict[Labels, dict[int, float]] = {}
        self._metadata: dict[str, MetricMetadata] = {}
        self._lock = threading.Lock()

    def append(self, batch: SampleBatch) -> AppendResult:
        created = 0
        with self._lock:
            for i in range(len(batch)):
                labels = batch.series[int(batch.series_index[i])]
                points = self._samples.get(labels)
                if points is None:
                    points = self._samples[labels] = {}
                    created += 1
                points[int(batch.timestamps[i])] = float(batch.values[i])
            for name, (kind, help_text, unit) in batch.metadata.items():
                self._metadata[name] = MetricMetadata(kind, help_text, unit)
        return AppendResult(accepted=len(batch), series_created=created)

    def delete_series(self, matchers: Sequence[Matcher], start_ms: int | None = None, end_ms: int | None = None) -> int:
        lo = start_ms if start_ms is not None else -(2**63)
        hi = end_ms if end_ms is not None else 2**63 - 1
        with self._lock:
            touched = [labels for labels in self._samples if _matches(labels, matchers)]
            for labels in touched:
                points = self._samples[labels]
                for t in [t for t in points if lo <= t <= hi]:
                    del points[t]
                if not points:
                    del self._samples[labels]
        return len(touched)

    def metadata(self, metric: str | None = None, limit: int = 0) -> dict[str, list[MetricMetadata]]:
        with self._lock:
            found = {n: [m] for n, m in sorted(self._metadata.items()) if metric is None or n == metric}
        return dict(list(found.items())[:limit]) if limit else found

    def flush(self) -> None:
        """Nothing to persist: memory is all there is."""

    def close(self) -> None:
        self._samples.clear()

    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, hints: SelectHints | None = None
    ) -> list[Series]:
        result = []
        with self._lock:
            for labels, points in self._samples.items():
                if not _matches(labels, matchers):
                    continue
                times = sorted(t for t in points if start_ms <= t <= end_ms)
                if times:
                    result.append(
                        Series(
                            labels,
                            np.array(times, np.int64),
                            np.array([points[t] for t in times], np.float64),
                        )
                    )
        result.sort(key=lambda s: s.labels)
        return result

    def _in_window(self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int) -> list[Labels]:
        sets = matcher_sets or [[]]
        with self._lock:
            return sorted(
                labels
                for labels, points in self._samples.items()
                if any(_matches(labels, ms) for ms in sets) and any(start_ms <= t <= end_ms for t in points)
            )

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        found = self._in_window(matcher_sets, start_ms, end_ms)
        return found[:limit] if limit else found

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        names = sorted({name for labels in self._in_window(matcher_sets, start_ms, end_ms) for name, _ in labels})
        return names[:limit] if limit else names

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        values = sorted(
            {v for labels in self._in_window(matcher_sets, start_ms, end_ms) for n, v in labels if n == name}
        )
        return values[:limit] if limit else values
