"""A read-through memo of `Querier.select` for one evaluation of one rule group.

The rules of a group are evaluated at the same instant and often select the same series (a metric with
a warning and a critical threshold, the numerator and denominator of a ratio, `avg` and `count` of one
gauge): each distinct selection is read from storage once per evaluation instead of once per rule.
The memo lives only as long as the evaluation, so it never serves data older than that instant.
"""

from __future__ import annotations

from collections.abc import Sequence

from nightowl.metrics.api import Querier, QueryEngine, SelectHints
from nightowl.metrics.model import Labels, Matcher, Series
from nightowl.promql.engine import PromQLEngine

Key = tuple[tuple[Matcher, ...], int, int, SelectHints | None]


class MemoQuerier:
    """Implements `nightowl.metrics.api.Querier`, answering repeated selections from memory."""

    def __init__(self, inner: Querier) -> None:
        self.inner = inner
        self.selects = 0
        self.hits = 0
        self._memo: dict[Key, list[Series]] = {}

    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, hints: SelectHints | None = None
    ) -> list[Series]:
        key = (tuple(matchers), start_ms, end_ms, hints)
        self.selects += 1
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self.inner.select(matchers, start_ms, end_ms, hints)
        else:
            self.hits += 1
        return list(found)

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        return self.inner.series(matcher_sets, start_ms, end_ms, limit)

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        return self.inner.label_names(matcher_sets, start_ms, end_ms, limit)

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        return self.inner.label_values(name, matcher_sets, start_ms, end_ms, limit)


def for_one_evaluation(engine: QueryEngine) -> QueryEngine:
    """The engine to evaluate one group with: the embedded engine over a fresh memo; a remote engine as is
    (the remote server does its own caching)."""
    if isinstance(engine, PromQLEngine):
        return PromQLEngine(MemoQuerier(engine.querier), engine.limits)
    return engine
