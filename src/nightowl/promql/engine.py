"""The embedded PromQL engine: `QueryEngine` over a `Querier`, returning plain `QueryResult`s."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import promql_parser as pp

from nightowl.core import allocator
from nightowl.metrics.api import Querier, QueryResult
from nightowl.metrics.model import Series
from nightowl.promql import deadline, shape
from nightowl.promql.durations import QueryTimes
from nightowl.promql.errors import QueryExecutionError, QueryParseError, QueryTimeoutError
from nightowl.promql.evaluator import Context, Evaluator
from nightowl.promql.extended import ANCHORED, SMOOTHED
from nightowl.promql.functions import sort_rows
from nightowl.promql.parse import parse
from nightowl.promql.selectors import Budget
from nightowl.promql.values import RangeVector, Scalar, String, Value, Vector, drop_metric_name, finalize

MAX_POINTS = 11_000
RELEASE_AFTER_CELLS = 4_000_000  # samples and [series x steps] cells a query held: ~100 MiB of arrays


@dataclass(frozen=True)
class EngineLimits:
    lookback_ms: int = 300_000
    max_samples: int = 50_000_000
    max_series: int = 0
    timeout_s: float = 120.0
    max_length: int = 16_384
    max_depth: int = shape.DEFAULT_MAX_DEPTH
    max_operators: int = shape.DEFAULT_MAX_OPERATORS
    subquery_step_ms: int = 60_000
    batch_cells: int = 2_000_000  # what one batch of a selector streamed over its series may hold


def _result_order(node: pp.Expr) -> str:
    """How an instant query's vector is ordered: "keep" (sort functions), "desc"/"asc" by value
    (topk/bottomk), or "labels"."""
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    if isinstance(node, pp.Call) and node.func.name in ("sort", "sort_desc", "sort_by_label", "sort_by_label_desc"):
        return "keep"
    if isinstance(node, pp.AggregateExpr) and str(node.op) in ("topk", "bottomk"):
        return "desc" if str(node.op) == "topk" else "asc"
    return "labels"


class PromQLEngine:
    """Implements `nightowl.metrics.api.QueryEngine`."""

    def __init__(self, querier: Querier, limits: EngineLimits | None = None) -> None:
        self.querier = querier
        self.limits = limits or EngineLimits()

    def parse(self, query: str, times: QueryTimes | None = None) -> pp.Expr:
        """`query`'s tree under this engine's size and shape limits."""
        limits = self.limits
        return parse(query, limits.max_length, times, max_depth=limits.max_depth, max_operators=limits.max_operators)

    def _context(self, query: str, start_ms: int, end_ms: int, step_ms: int, timeout_s: float | None) -> Context:
        limits = self.limits
        seconds = limits.timeout_s if timeout_s is None else timeout_s
        if seconds <= 0:  # nothing left of the time budget (or `timeout=0`): cached data must not answer anyway
            raise QueryTimeoutError("query timed out in expression evaluation")
        budget = Budget(limits.max_samples, limits.max_series, time.monotonic() + seconds)
        return Context(
            self.querier,
            start_ms,
            end_ms,
            step_ms,
            limits.lookback_ms,
            budget,
            limits.subquery_step_ms,
            query,
            batch_cells=limits.batch_cells,
        )

    def instant(self, query: str, time_ms: int, *, timeout_s: float | None = None) -> QueryResult:
        expr = self.parse(query, QueryTimes(0, 0))
        ctx = self._context(query, time_ms, time_ms, 0, timeout_s)
        ts = np.array([time_ms], np.int64)
        value = _evaluate(ctx, expr, ts)
        if isinstance(value, Scalar):
            return QueryResult(
                "scalar",
                [],
                scalar=(time_ms, float(value.values[0])),
                samples_loaded=ctx.budget.samples,
                warnings=ctx.warnings,
                infos=ctx.infos,
            )
        if isinstance(value, String):
            return QueryResult(
                "string",
                [],
                string=(time_ms, value.value),
                samples_loaded=ctx.budget.samples,
                warnings=ctx.warnings,
                infos=ctx.infos,
            )
        if isinstance(value, RangeVector):
            return QueryResult(
                "matrix",
                _range_series(value),
                samples_loaded=ctx.budget.samples,
                warnings=ctx.warnings,
                infos=ctx.infos,
            )
        vector = finalize(value).compact()
        rows = list(range(len(vector)))
        order = _result_order(expr)
        if order == "labels":
            rows.sort(key=vector.labels.__getitem__)
        elif order != "keep":
            rows = sort_rows(vector, 0, descending=order == "desc")
        stamp = np.array([time_ms], np.int64)
        stamp.flags.writeable = False  # one array shared by every series of the answer
        values = vector.values[:, :1].copy()
        series = [Series(vector.labels[i], stamp, values[i]) for i in rows]
        return QueryResult("vector", series, samples_loaded=ctx.budget.samples, warnings=ctx.warnings, infos=ctx.infos)

    def range(
        self, query: str, start_ms: int, end_ms: int, step_ms: int, *, timeout_s: float | None = None
    ) -> QueryResult:
        if step_ms <= 0:
            raise QueryParseError(
                "zero or negative query resolution step widths are not accepted. Try a positive integer"
            )
        if end_ms < start_ms:
            raise QueryParseError("end timestamp must not be before start time")
        if (end_ms - start_ms) // step_ms + 1 > MAX_POINTS:
            raise QueryParseError(
                f"exceeded maximum resolution of {MAX_POINTS:,} points per timeseries. "
                "Try decreasing the query resolution (?step=XX)"
            )
        expr = self.parse(query, QueryTimes(step_ms, end_ms - start_ms))
        top = expr
        while isinstance(top, pp.ParenExpr):
            top = top.expr
        ranged_marker = isinstance(top, pp.Call) and top.func.name in (ANCHORED, SMOOTHED)
        if ranged_marker or isinstance(top, (pp.MatrixSelector, pp.SubqueryExpr, pp.StringLiteral)):
            kind = "string" if isinstance(top, pp.StringLiteral) else "range vector"
            raise QueryParseError(f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector')
        ctx = self._context(query, start_ms, end_ms, step_ms, timeout_s)
        ctx.ranged = True
        ts = np.arange(start_ms, end_ms + 1, step_ms, dtype=np.int64)
        value = _evaluate(ctx, expr, ts)
        if isinstance(value, Scalar):
            series = [Series((), ts, value.values)]
            return QueryResult(
                "matrix", series, samples_loaded=ctx.budget.samples, warnings=ctx.warnings, infos=ctx.infos
            )
        if not isinstance(value, Vector):
            kind = "range vector" if isinstance(value, RangeVector) else "string"
            raise QueryExecutionError(
                f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector'
            )
        vector = finalize(value).compact()
        out = []
        for i in sorted(range(len(vector)), key=vector.labels.__getitem__):
            mask = vector.present[i]
            out.append(Series(vector.labels[i], ts[mask], vector.values[i, mask]))
        return QueryResult("matrix", out, samples_loaded=ctx.budget.samples, warnings=ctx.warnings, infos=ctx.infos)


def _evaluate(ctx: Context, expr: pp.Expr, ts: np.ndarray) -> Value:
    """The query's value; after a big query, the freed pages of its intermediate arrays go back to the OS."""
    with deadline.until(ctx.budget.deadline):
        value = Evaluator(ctx).evaluate(expr, ts)
    if ctx.budget.samples + ctx.budget.points > RELEASE_AFTER_CELLS:
        allocator.release()
    return value


def _range_series(value: RangeVector) -> list[Series]:
    """An instant query of a range selector: each series' raw samples in the window at the one step."""
    lo, hi = value.windows()
    out = []
    for i, labels in enumerate(value.labels):
        a, b = int(lo[i, 0]), int(hi[i, 0])
        if b > a:
            named = drop_metric_name(labels) if value.drop_name[i] else labels
            out.append(Series(named, value.timestamps[a:b].copy(), value.values[a:b].copy()))
    out.sort(key=lambda s: s.labels)
    return out
