"""An in-memory Appender + Querier: the reference behaviour backends are compared with, and a fixture.

No persistence and no compression; duplicate timestamps keep the last value written.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from nightowl.metrics.api import SelectHints
from nightowl.metrics.model import AppendResult, Labels, Matcher, SampleBatch, Series


def _matches(labels: Labels, matchers: Sequence[Matcher]) -> bool:
    present = dict(labels)
    return all(m.matches(present.get(m.name, "")) for m in matchers)


class MemoryStorage:
    def __init__(self) -> None:
        self._samples: dict[Labels, dict[int, float]] = {}
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
        return AppendResult(accepted=len(batch), series_created=created)

    def delete(self, matchers: Sequence[Matcher]) -> int:
        with self._lock:
            doomed = [labels for labels in self._samples if _matches(labels, matchers)]
            for labels in doomed:
                del self._samples[labels]
        return len(doomed)

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
