"""The cardinality figures of `/api/v1/status/tsdb`, computed from label sets as Prometheus's head does.

For each label name Prometheus keeps postings per value; from them: series per metric name, distinct
values per label name, the bytes of a label's distinct values (`memoryInBytesByLabelName`: the sum of
the values' lengths, each value counted once), and series per `name=value` pair. Each list keeps the
`limit` largest, largest first (ties by name).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from nightowl.metrics.model import METRIC_NAME, Labels


@dataclass(frozen=True)
class Cardinality:
    num_series: int
    num_label_pairs: int
    series_count_by_metric_name: list[tuple[str, int]]
    label_value_count_by_label_name: list[tuple[str, int]]
    memory_in_bytes_by_label_name: list[tuple[str, int]]
    series_count_by_label_value_pair: list[tuple[str, int]]


def _top(counts: Iterable[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    return sorted(counts, key=lambda item: (-item[1], item[0]))[:limit]


def cardinality(series: Iterable[Labels], limit: int = 10) -> Cardinality:
    pairs: Counter[tuple[str, str]] = Counter()
    count = 0
    for labels in series:
        count += 1
        pairs.update(labels)
    values: Counter[str] = Counter()
    size: Counter[str] = Counter()
    for name, value in pairs:
        values[name] += 1
        size[name] += len(value.encode())
    return Cardinality(
        num_series=count,
        num_label_pairs=len(pairs),
        series_count_by_metric_name=_top(((v, n) for (k, v), n in pairs.items() if k == METRIC_NAME), limit),
        label_value_count_by_label_name=_top(values.items(), limit),
        memory_in_bytes_by_label_name=_top(size.items(), limit),
        series_count_by_label_value_pair=_top(((f"{k}={v}", n) for (k, v), n in pairs.items()), limit),
    )
