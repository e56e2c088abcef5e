"""The tree walker: evaluates a promql-parser AST over a grid of step timestamps, all steps at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import promql_parser as pp

from nightowl.metrics.api import Querier, SelectHints, select_in_batches
from nightowl.metrics.model import Matcher
from nightowl.promql import aggregate as agg
from nightowl.promql import binary, extended_eval, functions, limit_ratio, rangefuncs, streaming
from nightowl.promql import info as info_join
from nightowl.promql.errors import QueryExecutionError, QueryLimitError
from nightowl.promql.parse import at_ms, duration_ms, selector_matchers
from nightowl.promql.selectors import (
    Budget,
    Fetched,
    fetch,
    flatten,
    instant_vector,
    range_vector,
    vector_to_range,
)
from nightowl.promql.values import Bools, Floats, Ints, RangeVector, Scalar, String, Value, Vector, names_dropped

_RANGE_FUNCS = {
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
    "stddev_over_time", "stdvar_over_time", "last_over_time", "first_over_time", "present_over_time",
    "mad_over_time", "ts_of_last_over_time", "ts_of_first_over_time", "ts_of_max_over_time",
    "ts_of_min_over_time",
}  # fmt: skip
_TIME_FUNCS = {"day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"}


@dataclass
class Context:
    querier: Querier
    start_ms: int
    end_ms: int
    step_ms: int
    lookback_ms: int
    budget: Budget
    subquery_step_ms: int = 60_000
    query: str = ""
    ranged: bool = False
    batch_cells: int = 2_000_000  # samples plus [series x steps] cells a batch of a streamed selector holds
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def info(self, message: str) -> None:
        if message not in self.infos:
            self.infos.append(message)

    def position_of(self, node: pp.Expr) -> str:
        """Where an argument starts in the query text, for annotations (promql-parser keeps no positions)."""
        while isinstance(node, pp.ParenExpr):
            node = node.expr
        if isinstance(node, pp.VectorSelector) and node.name:
            return self.position(rf"(?<![\w:]){re.escape(node.name)}(?![\w:])")
        if isinstance(node, pp.NumberLiteral):
            value = float(node.val)
            if value != value:
                return self.position(r"(?i)(?<![\w.])nan(?![\w.])")
        try:
            text = node.prettify()
        except BaseException:  # promql-parser may panic while printing
            return ""
        return self.position(re.escape(text))

    def position(self, pattern: str) -> str:
        """A `(line:column)` suffix like Prometheus's annotations carry, found by searching the query text."""
        match = re.search(pattern, self.query)
        if match is None:
            return ""
        line = self.query.count("\n", 0, match.start()) + 1
        column = match.start() - (self.query.rfind("\n", 0, match.start()) + 1) + 1
        return f" ({line}:{column})"


def _go_div(a: int, b: int) -> int:
    """Go's integer division truncates toward zero; subquery alignment depends on it."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@dataclass(frozen=True)
class _Plan:
    matchers: list[list[Matcher]]
    start_ms: int
    end_ms: int
    hints: SelectHints
    eval_ts: Ints
    window_ms: int


class Evaluator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._batch: Fetched | None = None  # the batch of series a streamed selector reads (see `batched`)

    def eval(self, node: pp.Expr, ts: Ints) -> Value:
        self.ctx.budget.check_time()
        if isinstance(node, pp.ParenExpr):
            return self.eval(node.expr, ts)
        if isinstance(node, pp.NumberLiteral):
            return Scalar(np.full(len(ts), node.val, dtype=np.float64))
        if isinstance(node, pp.StringLiteral):
            return String(node.val)
        if isinstance(node, pp.VectorSelector):
            return self.vector_selector(node, ts)
        if isinstance(node, pp.MatrixSelector):
            return self.matrix_selector(node, ts)
        if isinstance(node, pp.SubqueryExpr):
            return self.subquery(node, ts)
        if isinstance(node, pp.UnaryExpr):
            value = self.eval(node.expr, ts)
            if isinstance(value, Scalar):
                return Scalar(-value.values)
            if isinstance(value, Vector):
                return Vector(list(value.labels), -value.values, value.present, np.ones(len(value), bool))
            raise QueryExecutionError("unary minus needs a scalar or instant vector")
        if isinstance(node, pp.BinaryExpr):
            return self.binary_expr(node, ts)
        if isinstance(node, pp.AggregateExpr):
            return self.aggregate(node, ts)
        if isinstance(node, pp.Call):
            return self.call(node, ts)
        raise QueryExecutionError(f"unsupported expression {type(node).__name__}")

    def _eval_times(self, ts: Ints, at: pp.AtModifier | None, offset: int) -> Ints:
        fixed = at_ms(at, self.ctx.start_ms, self.ctx.end_ms)
        base = ts if fixed is None else np.full(len(ts), fixed, np.int64)
        shifted: Ints = base - offset
        return shifted

    def _selector_plan(self, node: pp.VectorSelector | pp.MatrixSelector, func: str, ts: Ints) -> _Plan:
        """What a selector reads: its matchers, the sample window for all steps and the hints."""
        vs = node.vector_selector if isinstance(node, pp.MatrixSelector) else node
        eval_ts = self._eval_times(ts, vs.at, duration_ms(vs.offset))
        if isinstance(node, pp.MatrixSelector):
            window, hints = duration_ms(node.range), SelectHints(self.ctx.step_ms, duration_ms(node.range), func)
        else:
            window, hints = self.ctx.lookback_ms, SelectHints(step_ms=self.ctx.step_ms)
        lo = int(eval_ts.min()) - window + 1 if len(eval_ts) else 0
        hi = int(eval_ts.max()) if len(eval_ts) else 0
        return _Plan(selector_matchers(vs), lo, hi, hints, eval_ts, window)

    def _read(self, plan: _Plan) -> Fetched:
        """The selector's samples: the current batch while streaming, else the whole selection."""
        data = (
            self._batch
            if self._batch is not None
            else fetch(self.ctx.querier, plan.matchers, plan.start_ms, plan.end_ms, plan.hints, self.ctx.budget)
        )
        # the [series x steps] matrices count against the sample budget too, as Prometheus counts points
        self.ctx.budget.charge_points(len(data.labels) * len(plan.eval_ts))
        return data

    def vector_selector(self, node: pp.VectorSelector, ts: Ints) -> Vector:
        plan = self._selector_plan(node, "", ts)
        if len(plan.eval_ts) == 0:
            return Vector.empty(0)
        return instant_vector(self._read(plan), plan.eval_ts, plan.window_ms).compact()

    def matrix_selector(self, node: pp.MatrixSelector, ts: Ints, func: str = "") -> RangeVector:
        plan = self._selector_plan(node, func, ts)
        return range_vector(self._read(plan), plan.eval_ts, plan.window_ms)

    def batched(self, node: pp.Expr, ts: Ints) -> Iterator[Vector] | None:
        """`node`'s value a batch of series at a time, when it reads one selector series by series
        (see `streaming`); None when it must be evaluated whole."""
        if self._batch is not None or len(ts) == 0:
            return None
        found = streaming.lone_selector(node)
        if found is None:
            return None
        plan = self._selector_plan(*found, ts)
        if len(plan.matchers) != 1:
            return None
        # batches of about `batch_cells` samples and [series x steps] cells, assuming a 15 s interval
        per_series = (plan.end_ms - plan.start_ms) // 15_000 + 1 + 2 * len(ts)
        batch_series = max(1, self.ctx.batch_cells // per_series)
        return self._stream(node, ts, plan, batch_series)

    def _stream(self, node: pp.Expr, ts: Ints, plan: _Plan, batch_series: int) -> Iterator[Vector]:
        querier, budget = self.ctx.querier, self.ctx.budget
        batches = select_in_batches(querier, plan.matchers[0], plan.start_ms, plan.end_ms, plan.hints, batch_series)
        for chosen in batches:
            self._batch = flatten(chosen, budget)
            try:
                value = self.eval(node, ts)
            finally:
                self._batch = None
            if not isinstance(value, Vector):
                raise QueryExecutionError("expected an instant vector argument")
            yield value

    def evaluate(self, node: pp.Expr, ts: Ints) -> Value:
        """The query's value: streamed through series batches where the expression allows it."""
        parts = self.batched(node, ts)
        return self.eval(node, ts) if parts is None else streaming.stack(list(parts), len(ts))

    def instant_vector_of(self, node: pp.Expr, ts: Ints) -> Vector:
        """An instant-vector argument, streamed through series batches where the expression allows it."""
        parts = self.batched(node, ts)
        if parts is None:
            return self._vector_arg(node, ts)
        return streaming.stack(list(parts), len(ts))

    def subquery(self, node: pp.SubqueryExpr, ts: Ints) -> RangeVector:
        range_ms = duration_ms(node.range)
        step = duration_ms(node.step) or self.ctx.subquery_step_ms
        eval_ts = self._eval_times(ts, node.at, duration_ms(node.offset))
        if len(eval_ts) == 0:
            return RangeVector([], np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0), eval_ts, range_ms)
        first = int(eval_ts.min()) - range_ms
        start = step * _go_div(first, step)
        if start <= first:
            start += step
        steps = (int(eval_ts.max()) - start) // step + 1
        budget = self.ctx.budget
        if budget.max_samples and steps > budget.max_samples:
            # refuse before the grid is allocated (`x[1d:1ms]` would build 86 M steps per series first)
            raise QueryLimitError(
                f"subquery would evaluate {steps} steps, more than query_max_samples={budget.max_samples}; "
                "use a longer subquery step",
                "query_max_samples",
            )
        inner_ts = np.arange(start, int(eval_ts.max()) + 1, step, dtype=np.int64)
        inner = Evaluator(Context(**{**self.ctx.__dict__, "step_ms": step}))
        value = inner.eval(node.expr, inner_ts)
        if not isinstance(value, Vector):
            raise QueryExecutionError("subquery is only allowed on instant vector")
        return vector_to_range(value, inner_ts, eval_ts, range_ms)

    def _range_arg(self, node: pp.Expr, ts: Ints, func: str) -> RangeVector:
        while isinstance(node, pp.ParenExpr):
            node = node.expr
        if isinstance(node, pp.MatrixSelector):
            return self.matrix_selector(node, ts, func)
        if isinstance(node, pp.SubqueryExpr):
            return self.subquery(node, ts)
        raise QueryExecutionError(f"expected type range vector in call to function {func!r}")

    def _scalar_arg(self, node: pp.Expr, ts: Ints) -> Floats:
        value = self.eval(node, ts)
        if isinstance(value, Scalar):
            return value.values
        raise QueryExecutionError("expected a scalar argument")

    def _vector_arg(self, node: pp.Expr, ts: Ints) -> Vector:
        value = self.eval(node, ts)
        if isinstance(value, Vector):
            return value
        raise QueryExecutionError("expected an instant vector argument")

    def _string_arg(self, node: pp.Expr, ts: Ints) -> str:
        value = self.eval(node, ts)
        if isinstance(value, String):
            return value.value
        raise QueryExecutionError("expected a string argument")

    def binary_expr(self, node: pp.BinaryExpr, ts: Ints) -> Value:
        op = str(node.op)
        lhs = self.eval(node.lhs, ts)
        rhs = self.eval(node.rhs, ts)
        mod = node.modifier
        return_bool = bool(mod.return_bool) if mod is not None else False
        if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
            return binary.scalar_scalar(op, lhs, rhs)
        if isinstance(lhs, Vector) and isinstance(rhs, Scalar):
            return binary.vector_scalar(op, lhs, rhs, False, return_bool)
        if isinstance(lhs, Scalar) and isinstance(rhs, Vector):
            return binary.vector_scalar(op, rhs, lhs, True, return_bool)
        if isinstance(lhs, Vector) and isinstance(rhs, Vector):
            return binary.vector_vector(op, lhs, rhs, self._matching(op, mod, return_bool))
        raise QueryExecutionError(f"binary operator {op!r} needs scalars or instant vectors")

    @staticmethod
    def _matching(op: str, mod: pp.BinModifier | None, return_bool: bool) -> binary.Matching:
        matching = binary.Matching(return_bool=return_bool)
        if op in binary.SET_OPS:
            matching.card = "many-to-many"
        if mod is None:
            return matching
        card = mod.card
        if card == pp.VectorMatchCardinality.ManyToOne:
            matching.card = "many-to-one"
        elif card == pp.VectorMatchCardinality.OneToMany:
            matching.card = "one-to-many"
        if mod.matching is not None:
            matching.on = mod.matching.type == pp.LabelModifierType.Include
            matching.labels = list(mod.matching.labels)
        matching.include = list(mod.group_labels or [])
        fill = mod.fill_values
        if fill is not None:
            matching.fill_many = None if fill.lhs is None else float(fill.lhs)
            matching.fill_one = None if fill.rhs is None else float(fill.rhs)
        return matching

    def aggregate(self, node: pp.AggregateExpr, ts: Ints) -> Vector:
        op = str(node.op)
        if op in streaming.MERGE_OP:
            merged = self._aggregate_batches(node, op, ts)
            if merged is not None:
                return merged
        vector = self.instant_vector_of(node.expr, ts)
        without = False
        grouping: list[str] = []
        if node.modifier is not None:
            without = node.modifier.type == pp.AggModifierType.Without
            grouping = list(node.modifier.labels)
        if op == "count_values":
            label = self._string_arg(_required(node.param), ts)
            if not functions._LABEL_NAME.match(label):
                raise QueryExecutionError(f'invalid label name "{label}"')
            return agg.count_values(vector, label, grouping, without)
        param = self._scalar_arg(_required(node.param), ts) if op in ("topk", "bottomk", "quantile", "limitk") else None
        if op == "limit_ratio":
            ratio = self._scalar_arg(_required(node.param), ts)
            if np.isnan(ratio).any():
                raise QueryExecutionError("Ratio value is NaN")
            ratio, notes = limit_ratio.clamp(ratio)
            self._annotate(notes, _required(node.param))
            return limit_ratio.limit_ratio(vector, ratio)
        if op in ("topk", "bottomk", "limitk") and param is not None:
            if np.isnan(param).any():
                raise QueryExecutionError("Parameter value is NaN")
            return agg.aggregate(op, vector, grouping, without, param)
        if op == "quantile" and param is not None:
            self._check_quantile(param, _required(node.param))
        return agg.aggregate(op, vector, grouping, without, param)

    def _aggregate_batches(self, node: pp.AggregateExpr, op: str, ts: Ints) -> Vector | None:
        """An associative aggregation reduced batch by batch, then once over the partial results."""
        parts = self.batched(node.expr, ts)
        if parts is None:
            return None
        without = node.modifier is not None and node.modifier.type == pp.AggModifierType.Without
        grouping = list(node.modifier.labels) if node.modifier is not None else []
        partial = [agg.aggregate(op, part, grouping, without, None) for part in parts]
        if len(partial) == 1:
            return partial[0]
        return agg.aggregate(streaming.MERGE_OP[op], streaming.stack(partial, len(ts)), grouping, without, None)

    def _check_quantile(self, q: Floats, node: pp.Expr) -> None:
        bad = np.isnan(q) | (q < 0) | (q > 1)
        if bad.any():
            value = float(q[np.flatnonzero(bad)[0]])
            text = "NaN" if value != value else f"{value:g}"
            where = self.ctx.position_of(node)
            self.ctx.warn(f"PromQL warning: quantile value should be between 0 and 1, got {text}{where}")

    def _annotate(self, notes: list[str], node: pp.Expr) -> None:
        where = self.ctx.position_of(node)
        for note in notes:
            (self.ctx.info if note.startswith("PromQL info") else self.ctx.warn)(note + where)

    def _counter_hint(self, node: pp.Expr, func: str) -> None:
        while isinstance(node, pp.ParenExpr):
            node = node.expr
        if isinstance(node, pp.MatrixSelector):
            name = node.vector_selector.name or ""
            if name and not name.endswith(("_total", "_sum", "_count", "_bucket")):
                self.ctx.info(
                    "PromQL info: metric might not be a counter, name does not end in "
                    f'_total/_sum/_count/_bucket: "{name}"'
                )

    def call(self, node: pp.Call, ts: Ints) -> Value:
        name = node.func.name
        args = list(node.args)
        if extended_eval.involves_marker(name, args):
            return extended_eval.evaluate(self, node, ts)
        if name in ("rate", "increase", "delta"):
            rv = self._range_arg(args[0], ts, name)
            if name != "delta":
                self._counter_hint(args[0], name)
            return rangefuncs.extrapolated_rate(rv, name != "delta", name == "rate")
        if name in ("irate", "idelta"):
            return rangefuncs.instant_rate(self._range_arg(args[0], ts, name), name == "irate")
        if name in ("changes", "resets"):
            return rangefuncs.count_changes(self._range_arg(args[0], ts, name), name == "resets")
        if name in _RANGE_FUNCS:
            return rangefuncs.over_time(self._range_arg(args[0], ts, name), name)
        if name == "quantile_over_time":
            q = self._scalar_arg(args[0], ts)
            self._check_quantile(q, args[0])
            return rangefuncs.over_time(self._range_arg(args[1], ts, name), name, q)
        if name == "deriv":
            return rangefuncs.deriv(self._range_arg(args[0], ts, name))
        if name == "predict_linear":
            seconds = self._scalar_arg(args[1], ts)
            return rangefuncs.predict_linear(self._range_arg(args[0], ts, name), seconds, ts)
        if name in ("holt_winters", "double_exponential_smoothing"):
            rv = self._range_arg(args[0], ts, name)
            sf, tf = self._scalar_arg(args[1], ts), self._scalar_arg(args[2], ts)
            return rangefuncs.double_exponential_smoothing(rv, float(sf[0]), float(tf[0]))
        if name == "absent_over_time":
            return self.absent(args[0], ts, over_time=True)
        if name == "absent":
            return self.absent(args[0], ts, over_time=False)
        if name in functions.MATH:
            return functions.math_function(name, self._vector_arg(args[0], ts))
        return self.other_call(name, args, ts)

    def other_call(self, name: str, args: list[pp.Expr], ts: Ints) -> Value:
        if name == "time":
            return Scalar(ts / 1000.0)
        if name in ("start", "end", "step", "range"):
            ctx = self.ctx
            seconds = {
                "start": ctx.start_ms,
                "end": ctx.end_ms,
                "step": ctx.step_ms,
                "range": ctx.end_ms - ctx.start_ms,
            }[name]
            return Scalar(np.full(len(ts), seconds / 1000.0))
        if name in ("min_of", "max_of"):
            a, b = self._scalar_arg(args[0], ts), self._scalar_arg(args[1], ts)
            return Scalar(np.minimum(a, b) if name == "min_of" else np.maximum(a, b))
        if name == "pi":
            return Scalar(np.full(len(ts), np.pi))
        if name == "vector":
            s = self._scalar_arg(args[0], ts)
            return Vector([()], s[None, :].copy(), np.ones((1, len(ts)), bool))
        if name == "scalar":
            v = self._vector_arg(args[0], ts)
            one = v.present.sum(axis=0) == 1
            values = np.where(v.present, v.values, 0.0).sum(axis=0) if len(v) else np.zeros(len(ts))
            return Scalar(np.where(one, values, np.nan))
        if name in _TIME_FUNCS:
            if not args:
                return Vector([()], functions.time_part(name, ts / 1000.0)[None, :], np.ones((1, len(ts)), bool))
            v = self._vector_arg(args[0], ts)
            return functions.with_values(v, functions.time_part(name, v.values))
        if name == "timestamp":
            return self.timestamp(args[0], ts)
        if name == "round":
            to = self._scalar_arg(args[1], ts) if len(args) > 1 else np.ones(len(ts))
            return functions.round_to(self._vector_arg(args[0], ts), to)
        if name in ("clamp", "clamp_min", "clamp_max"):
            v = self._vector_arg(args[0], ts)
            inf = np.full(len(ts), np.inf)
            if name == "clamp":
                return functions.clamp(v, self._scalar_arg(args[1], ts), self._scalar_arg(args[2], ts))
            if name == "clamp_min":
                return functions.clamp(v, self._scalar_arg(args[1], ts), inf)
            return functions.clamp(v, -inf, self._scalar_arg(args[1], ts))
        if name == "label_replace":
            v = self._vector_arg(args[0], ts)
            dst, repl, src, regex = (self._string_arg(a, ts) for a in args[1:5])
            return functions.label_replace(v, dst, repl, src, regex)
        if name == "label_join":
            v = self._vector_arg(args[0], ts)
            dst, sep = self._string_arg(args[1], ts), self._string_arg(args[2], ts)
            return functions.label_join(v, dst, sep, [self._string_arg(a, ts) for a in args[3:]])
        if name in ("sort", "sort_desc", "sort_by_label", "sort_by_label_desc"):
            v = self._vector_arg(args[0], ts)
            if self.ctx.ranged:
                where = self.ctx.position(rf"\b{name}\s*\(")
                self.ctx.warn(
                    "PromQL warning: sort is ineffective for range queries since results are always ordered "
                    f"by labels{where}"
                )
            if name.startswith("sort_by_label"):
                names = [self._string_arg(a, ts) for a in args[1:]]
                return v.take(functions.sort_by_label_rows(v, names, name.endswith("desc")))
            if len(ts) == 1:
                v = _apply_drop(v)
                return v.take(functions.sort_rows(v, 0, name == "sort_desc"))
            return v
        if name == "histogram_quantile":
            q = self._scalar_arg(args[0], ts)
            self._check_quantile(q, args[0])
            result, notes = functions.histogram_quantile(q, self._vector_arg(args[1], ts))
            self._annotate(notes, args[1])
            return result
        if name == "histogram_fraction":
            lower, upper = self._scalar_arg(args[0], ts), self._scalar_arg(args[1], ts)
            fraction, notes = functions.histogram_fraction(lower, upper, self._vector_arg(args[2], ts))
            self._annotate(notes, args[2])
            return fraction
        if name == "histogram_quantiles":
            return self.histogram_quantiles(args, ts)
        if name == "info":
            return self.info(args, ts)
        raise QueryExecutionError(f"function {name!r} is not supported")

    def info(self, args: list[pp.Expr], ts: Ints) -> Vector:
        base = self._vector_arg(args[0], ts)
        selector = args[1] if len(args) > 1 else None
        while isinstance(selector, pp.ParenExpr):
            selector = selector.expr
        if selector is not None and not isinstance(selector, pp.VectorSelector):
            raise QueryExecutionError("info(): the second argument must be a series selector")
        matchers = selector_matchers(selector)[0] if selector is not None else []
        names, data = info_join.split_matchers(matchers)
        # info series are looked up at the time the base samples come from (`@`, `offset`)
        lookup = info_join.reference_times(args[0], ts, self.ctx.start_ms, self.ctx.end_ms)
        lookback = self.ctx.lookback_ms
        fetched = fetch(
            self.ctx.querier,
            [names],
            int(lookup.min()) - lookback + 1,
            int(lookup.max()),
            SelectHints(step_ms=self.ctx.step_ms),
            self.ctx.budget,
        )
        infos = instant_vector(fetched, lookup, lookback)
        _, hi = RangeVector(fetched.labels, fetched.offsets, fetched.timestamps, fetched.values, lookup, 0).windows()
        stamps = fetched.timestamps[np.maximum(hi - 1, 0)] if len(fetched.timestamps) else np.zeros(hi.shape, np.int64)
        return info_join.enrich(base, infos, stamps, names, data)

    def histogram_quantiles(self, args: list[pp.Expr], ts: Ints) -> Vector:
        """One output series per requested quantile, told apart by the given label."""
        buckets = self._vector_arg(args[0], ts)
        label = self._string_arg(args[1], ts)
        parts: list[Vector] = []
        for arg in args[2:]:
            q = self._scalar_arg(arg, ts)
            self._check_quantile(q, arg)
            result, notes = functions.histogram_quantile(q, buckets)
            self._annotate(notes, args[0])
            text = repr(float(q[0])) if np.isfinite(q[0]) else agg.format_value(float(q[0]))
            result.labels = [tuple(sorted({**dict(lbl), label: text}.items())) for lbl in result.labels]
            parts.append(result)
        if not parts:
            return Vector.empty(len(ts))
        return Vector(
            [lbl for p in parts for lbl in p.labels],
            np.concatenate([p.values for p in parts]),
            np.concatenate([p.present for p in parts]),
            np.concatenate([p.drop_name for p in parts]),
        )

    def timestamp(self, node: pp.Expr, ts: Ints) -> Vector:
        inner = node
        while isinstance(inner, pp.ParenExpr):
            inner = inner.expr
        if isinstance(inner, pp.VectorSelector):
            eval_ts = self._eval_times(ts, inner.at, duration_ms(inner.offset))
            lookback = self.ctx.lookback_ms
            hints = SelectHints(step_ms=self.ctx.step_ms)
            lo = int(eval_ts.min()) - lookback + 1
            data = fetch(self.ctx.querier, selector_matchers(inner), lo, int(eval_ts.max()), hints, self.ctx.budget)
            picked = instant_vector(data, eval_ts, lookback)
            rv = RangeVector(data.labels, data.offsets, data.timestamps, data.values, eval_ts, lookback)
            _, hi = rv.windows()
            idx = np.where(picked.present, hi - 1, 0)
            values = data.timestamps[idx] / 1000.0 if len(data.timestamps) else np.zeros(picked.present.shape)
            return Vector(list(picked.labels), values, picked.present, np.ones(len(picked), bool)).compact()
        v = self._vector_arg(node, ts)
        return functions.with_values(v, np.broadcast_to(ts / 1000.0, v.values.shape).copy())

    def absent(self, node: pp.Expr, ts: Ints, over_time: bool) -> Vector:
        inner = node
        while isinstance(inner, pp.ParenExpr):
            inner = inner.expr
        if over_time:
            rv = self._range_arg(inner, ts, "absent_over_time")
            lo, hi = rv.windows()
            any_present: Bools = np.asarray((hi > lo).any(axis=0) if len(rv.labels) else np.zeros(len(ts), bool))
            selector = inner.vector_selector if isinstance(inner, pp.MatrixSelector) else None
        else:
            v = self._vector_arg(inner, ts)
            any_present = np.asarray(v.present.any(axis=0) if len(v) else np.zeros(len(ts), bool))
            selector = inner if isinstance(inner, pp.VectorSelector) else None
        matchers: list[list[Matcher]] = selector_matchers(selector) if selector is not None else []
        labels = functions.absent_labels(matchers)
        return Vector([labels], np.ones((1, len(ts))), ~any_present[None, :]).compact()


def _required(param: pp.Expr | None) -> pp.Expr:
    if param is None:
        raise QueryExecutionError("aggregation needs a parameter")
    return param


def _apply_drop(vector: Vector) -> Vector:
    """Apply delayed name drops before an operation that groups or compares label sets."""
    return names_dropped(vector)
