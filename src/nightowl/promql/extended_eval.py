"""Evaluating the `anchored`/`smoothed` marker calls `extended.rewrite` puts around selectors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import promql_parser as pp

from nightowl.metrics.api import SelectHints
from nightowl.promql import extended_range
from nightowl.promql.errors import QueryParseError
from nightowl.promql.extended import ANCHORED, MARKERS, SMOOTHED, SMOOTHED_VECTOR
from nightowl.promql.parse import duration_ms, selector_matchers
from nightowl.promql.selectors import fetch, range_vector
from nightowl.promql.values import Ints, RangeVector, Value, Vector

if TYPE_CHECKING:
    from nightowl.promql.evaluator import Evaluator


def _unwrap(node: pp.Expr) -> pp.Expr:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def marker_of(node: pp.Expr) -> str | None:
    """The marker function name when `node` is an `anchored`/`smoothed` selector, else None."""
    node = _unwrap(node)
    if isinstance(node, pp.Call) and node.func.name in MARKERS:
        return str(node.func.name)
    return None


def involves_marker(name: str, args: list[pp.Expr]) -> bool:
    """A marker call itself, or a function over an anchored/smoothed range selector (a smoothed
    instant selector is an ordinary argument: it evaluates to a vector)."""
    return name in MARKERS or any(marker_of(a) in (ANCHORED, SMOOTHED) for a in args)


def _modifier(marker: str) -> str:
    return "anchored" if marker == ANCHORED else "smoothed"


def _matrix(ev: Evaluator, call: pp.Call, ts: Ints, func: str) -> RangeVector:
    """The widened samples of the range selector inside a marker call."""
    node = _unwrap(call.args[0])
    if not isinstance(node, pp.MatrixSelector):
        raise QueryParseError(f"{_modifier(call.func.name)} modifier can only be used with range vector selectors")
    smoothed = call.func.name == SMOOTHED
    vs = node.vector_selector
    range_ms = duration_ms(node.range)
    eval_ts = ev._eval_times(ts, vs.at, duration_ms(vs.offset))
    if len(eval_ts) == 0:
        return RangeVector([], np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0), eval_ts, range_ms)
    lo, hi = extended_range.widened_bounds(eval_ts, range_ms, ev.ctx.lookback_ms, smoothed)
    hints = SelectHints(step_ms=ev.ctx.step_ms, range_ms=range_ms, func=func)
    data = fetch(ev.ctx.querier, selector_matchers(vs), lo, hi, hints, ev.ctx.budget)
    ev.ctx.budget.charge_points(len(data.labels) * len(eval_ts))
    return range_vector(data, eval_ts, range_ms)


def evaluate(ev: Evaluator, node: pp.Call, ts: Ints) -> Value:
    """A call that is, or takes, an anchored/smoothed selector."""
    name = str(node.func.name)
    args = list(node.args)
    lookback = ev.ctx.lookback_ms
    if name == SMOOTHED_VECTOR:
        return smoothed_selector(ev, args[0], ts)
    if name in (ANCHORED, SMOOTHED):
        return bare_matrix(ev, node, ts)
    index, marker = next((i, m) for i, a in enumerate(args) if (m := marker_of(a)) in (ANCHORED, SMOOTHED))
    extended_range.check_function(_modifier(marker), name)
    call = _unwrap(args[index])
    assert isinstance(call, pp.Call)
    rv = _matrix(ev, call, ts, name)
    smoothed = marker == SMOOTHED
    if name in ("changes", "resets"):
        return extended_range.extended_changes(rv, lookback, name == "resets")
    return extended_range.extended_rate(rv, lookback, smoothed, name != "delta", name == "rate")


def bare_matrix(ev: Evaluator, node: pp.Call, ts: Ints) -> RangeVector:
    """`foo[5m] anchored` as a query of its own (instant queries only)."""
    rv = _matrix(ev, node, ts, "")
    return extended_range.extended_matrix(rv, ev.ctx.lookback_ms, node.func.name == SMOOTHED)


def smoothed_selector(ev: Evaluator, node: pp.Expr, ts: Ints) -> Vector:
    vs = _unwrap(node)
    if not isinstance(vs, pp.VectorSelector):
        raise QueryParseError("smoothed modifier can only be used with vector selectors")
    eval_ts = ev._eval_times(ts, vs.at, duration_ms(vs.offset))
    if len(eval_ts) == 0:
        return Vector.empty(0)
    lookback = ev.ctx.lookback_ms
    lo, hi = int(eval_ts.min()) - lookback + 1, int(eval_ts.max()) + lookback
    data = fetch(ev.ctx.querier, selector_matchers(vs), lo, hi, SelectHints(step_ms=ev.ctx.step_ms), ev.ctx.budget)
    ev.ctx.budget.charge_points(len(data.labels) * len(eval_ts))
    rv = RangeVector(data.labels, data.offsets, data.timestamps, data.values, eval_ts, 0)
    return extended_range.smoothed_vector(rv, lookback)
