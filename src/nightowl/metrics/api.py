"""The two interfaces every metrics backend implements. PromQL, alerting, dashboards and reports read
only through `Querier`; every ingest protocol writes only through `Appender`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from nightowl.metrics.model import AppendResult, Labels, Matcher, SampleBatch, Series


@dataclass(frozen=True)
class SelectHints:
    """What the query will do with the data, so a backend may serve it from a downsampled tier.

    `step_ms` is the query resolution, `range_ms` the window of a range function (0 for instant
    selectors), `func` the function applied (`rate`, `avg_over_time`, ... or "" for none).
    """

    step_ms: int = 0
    range_ms: int = 0
    func: str = ""


class Appender(Protocol):
    def append(self, batch: SampleBatch) -> AppendResult:
        """Store the batch; when this returns, accepted samples are durable per the WAL policy."""
        ...


class Querier(Protocol):
    def select(
        self,
        matchers: Sequence[Matcher],
        start_ms: int,
        end_ms: int,
        hints: SelectHints | None = None,
    ) -> list[Series]:
        """Series matching all `matchers` with their samples in [start_ms, end_ms] (both inclusive)."""
        ...

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        """Label sets of series matching any of the matcher sets with samples in the window."""
        ...

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        """Sorted label names; with no matcher sets, of every series in the window."""
        ...

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        """Sorted values of label `name`; with no matcher sets, of every series in the window."""
        ...
