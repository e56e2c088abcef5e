"""Parsing through promql-parser, with the guards its Rust core needs (length cap, panics, `@` range)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import promql_parser as pp

from nightowl.metrics.model import METRIC_NAME, Matcher, MatchOp
from nightowl.promql import extended, shape
from nightowl.promql.durations import QueryTimes
from nightowl.promql.errors import QueryParseError
from nightowl.promql.regex import compile_anchored

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_AT_MS = 253402300799000  # 9999-12-31T23:59:59Z, the largest time promql-parser can represent
_OPS: dict[str, MatchOp] = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}

# `step()`/`range()` in durations when no query is being run (rule and format checks): any positive value
UNKNOWN_TIMES = QueryTimes(step_ms=60_000, range_ms=60_000)

pp.register_extra_functions(
    [
        pp.Function(
            "holt_winters", [pp.ValueType.Matrix, pp.ValueType.Scalar, pp.ValueType.Scalar], pp.ValueType.Vector
        ),
        pp.Function(extended.ANCHORED, [pp.ValueType.Matrix], pp.ValueType.Matrix),
        pp.Function(extended.SMOOTHED, [pp.ValueType.Matrix], pp.ValueType.Matrix),
        pp.Function(extended.SMOOTHED_VECTOR, [pp.ValueType.Vector], pp.ValueType.Vector),
    ]
)


PARSED_KEPT = 512
_PARSED: dict[str, pp.Expr] = {}
_PARSED_LOCK = threading.Lock()
"""Recent queries' trees (never changed by the evaluator): dashboards and rules send the same texts again
and again, and parsing one with regex matchers costs ~0.1 ms (the parser compiles them)."""


def parse(
    query: str,
    max_length: int,
    times: QueryTimes | None = None,
    *,
    max_depth: int = shape.DEFAULT_MAX_DEPTH,
    max_operators: int = shape.DEFAULT_MAX_OPERATORS,
) -> pp.Expr:
    """The AST of `query`; QueryParseError (bad_data) for anything promql-parser rejects or chokes on.
    `times` gives `step()`/`range()` in duration expressions (the query being run). Every PromQL text
    Nightowl reads comes through here, so the size and shape limits guard them all."""
    if not query.strip():
        raise QueryParseError("1:1: parse error: no expression found in input")
    check_size(query, max_length, max_depth, max_operators)
    text = extended.rewrite(query, times or UNKNOWN_TIMES)  # keyed after rewriting: `step()` varies
    expr = _PARSED.get(text)
    if expr is not None:
        return expr
    try:
        expr = pp.parse(text)
    except BaseException as exc:  # the Rust core raises ValueError, and PanicException (a BaseException)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise QueryParseError(f"1:1: parse error: {exc}") from None
    with _PARSED_LOCK:
        while _PARSED and len(_PARSED) >= PARSED_KEPT:
            del _PARSED[next(iter(_PARSED))]  # the oldest
        _PARSED[text] = expr
    return expr


def check_size(query: str, max_length: int, max_depth: int, max_operators: int) -> None:
    """QueryParseError naming the setting when `query` is longer, deeper or has more operators than allowed
    (also for queries a remote backend evaluates: they are refused before they leave)."""
    if len(query) > max_length:
        raise QueryParseError(f"query is {len(query)} characters long, more than query_max_length={max_length}")
    shape.check(query, min(max_depth, shape.DEPTH_CEILING), max_operators)


def duration_ms(value: timedelta | None) -> int:
    if value is None:
        return 0
    return value.days * 86_400_000 + value.seconds * 1000 + value.microseconds // 1000


def at_ms(at: pp.AtModifier | None, start_ms: int, end_ms: int) -> int | None:
    """The fixed evaluation time an `@` modifier sets, or None without one."""
    if at is None:
        return None
    if at.type == pp.AtModifierType.Start:
        return start_ms
    if at.type == pp.AtModifierType.End:
        return end_ms
    try:
        moment = at.at
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise QueryParseError("@ modifier timestamp is out of range") from None
    if moment is None:
        raise QueryParseError("@ modifier without a timestamp")
    ms = duration_ms(moment - _EPOCH)
    if ms > _MAX_AT_MS:
        raise QueryParseError("@ modifier timestamp is out of range")
    return ms


def _matcher(m: pp.Matcher) -> Matcher:
    op = _OPS[str(m.op)]
    if op in ("=~", "!~"):
        compile_anchored(m.value)
        return Matcher(m.name, op, m.value)
    return Matcher(m.name, op, m.value)


def selector_matchers(selector: pp.VectorSelector) -> list[list[Matcher]]:
    """The matcher sets of a selector (several for `{a="1" or b="2"}`), `__name__` folded in; regexes
    are checked (and compiled, for the index to reuse) here."""
    base = [_matcher(m) for m in selector.matchers.matchers]
    if selector.name:
        base.insert(0, Matcher(METRIC_NAME, "=", selector.name))
    alternatives = selector.matchers.or_matchers
    if not alternatives:
        return [base]
    return [base + [_matcher(m) for m in group] for group in alternatives]
