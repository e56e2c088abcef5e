"""The two interfaces every metrics backend implements. PromQL, alerting, dashboards and reports read
only through `Querier`; every ingest protocol writes only through `Appender`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class BatchedQuerier(Protocol):
    """A `Querier` that can hand a large selection over in batches of series, so a query over many
    series holds one batch of samples at a time instead of all of them."""

    def select_batches(
        self,
        matchers: Sequence[Matcher],
        start_ms: int,
        end_ms: int,
        hints: SelectHints | None,
        batch_series: int,
    ) -> Iterator[list[Series]]:
        """What `select` returns, split into batches of at most `batch_series` series (each sorted by
        labels; the batches partition the selection but are not ordered among themselves)."""
        ...


def select_in_batches(
    querier: Querier,
    matchers: Sequence[Matcher],
    start_ms: int,
    end_ms: int,
    hints: SelectHints | None,
    batch_series: int,
) -> Iterator[list[Series]]:
    """Batches where the backend offers them, else the whole selection as one batch."""
    if isinstance(querier, BatchedQuerier):
        yield from querier.select_batches(matchers, start_ms, end_ms, hints, batch_series)
    else:
        yield querier.select(matchers, start_ms, end_ms, hints)


@dataclass(frozen=True)
class MetricMetadata:
    """TYPE/HELP/UNIT of a metric family, as remote write, exposition text and OTLP carry them."""

    type: str
    help: str = ""
    unit: str = ""


class Storage(Appender, Querier, Protocol):
    """A whole metrics backend: what the runtime holds as `nightowl.storage`."""

    def delete_series(self, matchers: Sequence[Matcher], start_ms: int | None = None, end_ms: int | None = None) -> int:
        """Delete matching series (or only their samples in the window); returns how many series were touched."""
        ...

    def metadata(self, metric: str | None = None, limit: int = 0) -> dict[str, list[MetricMetadata]]:
        """Known metadata by metric family name."""
        ...

    def flush(self) -> None:
        """Persist what is buffered in memory (head -> blocks); used before backups and benchmarks."""
        ...

    def close(self) -> None:
        """Release files and threads; called once at shutdown."""
        ...


@dataclass
class QueryResult:
    """The answer to a PromQL query, in plain data.

    `result_type` is one of vector, matrix, scalar, string. Vectors hold one sample per series (at the
    evaluation time); matrices hold each series' points in time order. `scalar` is (time_ms, value);
    `string` is (time_ms, text).
    """

    result_type: str
    series: list[Series]
    scalar: tuple[int, float] | None = None
    string: tuple[int, str] | None = None
    warnings: list[str] | None = None
    infos: list[str] | None = None
    samples_loaded: int = 0


class QueryEngine(Protocol):
    """Runs PromQL: the embedded engine over a Querier, or a remote Prometheus-compatible server."""

    def instant(self, query: str, time_ms: int, *, timeout_s: float | None = None) -> QueryResult: ...

    def range(
        self, query: str, start_ms: int, end_ms: int, step_ms: int, *, timeout_s: float | None = None
    ) -> QueryResult: ...


class LiveQuerier:
    """A `Querier` that always reads the runtime's current storage, which the TSDB replaces at start-up."""

    def __init__(self, current: Callable[[], Querier]) -> None:
        self._current = current

    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, hints: SelectHints | None = None
    ) -> list[Series]:
        return self._current().select(matchers, start_ms, end_ms, hints)

    def select_batches(
        self,
        matchers: Sequence[Matcher],
        start_ms: int,
        end_ms: int,
        hints: SelectHints | None,
        batch_series: int,
    ) -> Iterator[list[Series]]:
        return select_in_batches(self._current(), matchers, start_ms, end_ms, hints, batch_series)

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        return self._current().series(matcher_sets, start_ms, end_ms, limit)

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        return self._current().label_names(matcher_sets, start_ms, end_ms, limit)

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        return self._current().label_values(name, matcher_sets, start_ms, end_ms, limit)
