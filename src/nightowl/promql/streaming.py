"""Which expressions may be evaluated a batch of series at a time, and how batch results combine.

A query like `count by (__name__) ({__name__=~".+"})` over 100k series x 2 h would hold 48M samples at
once if its selector were loaded whole. Where every output series depends on exactly one input series
(a selector, a range function of it, math on it, arithmetic with a number), the expression can be
evaluated over one batch of series after another: the batches' results are simply stacked, and the
aggregations that are associative (sum, count, min, max, group) are reduced per batch and then once
more over the partial results, so only one batch of samples is in memory at a time.
"""

from __future__ import annotations

import numpy as np
import promql_parser as pp

from nightowl.promql.functions import MATH
from nightowl.promql.values import Vector

# range functions whose output series is computed from its own input series alone
_PER_SERIES_RANGE = {
    "rate", "increase", "delta", "irate", "idelta", "changes", "resets", "deriv",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
    "stddev_over_time", "stdvar_over_time", "last_over_time", "first_over_time", "present_over_time",
    "mad_over_time", "ts_of_last_over_time", "ts_of_first_over_time", "ts_of_max_over_time",
    "ts_of_min_over_time",
}  # fmt: skip
# functions of a range vector (at this argument position) and number literals
_RANGE_WITH_NUMBERS = {
    "predict_linear": 0, "holt_winters": 0, "double_exponential_smoothing": 0, "quantile_over_time": 1,
}  # fmt: skip
# functions of an instant vector (first) and number literals
_VECTOR_WITH_NUMBERS = {"clamp", "clamp_min", "clamp_max", "round"}
_SET_OPS = {"and", "or", "unless"}

# how the partial results of an aggregation over batches are reduced once more
MERGE_OP = {"sum": "sum", "count": "sum", "min": "min", "max": "max", "group": "group"}


def _unwrap(node: pp.Expr) -> pp.Expr:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def _is_number(node: pp.Expr) -> bool:
    node = _unwrap(node)
    if isinstance(node, pp.UnaryExpr):
        node = _unwrap(node.expr)
    return isinstance(node, pp.NumberLiteral)


def lone_selector(node: pp.Expr) -> tuple[pp.VectorSelector | pp.MatrixSelector, str] | None:
    """The one selector `node` reads and the range function applied to it ("" for an instant selector),
    if each of `node`'s output series comes from one input series."""
    node = _unwrap(node)
    if isinstance(node, pp.VectorSelector):
        return node, ""
    if isinstance(node, pp.UnaryExpr):
        return lone_selector(node.expr)
    if isinstance(node, pp.BinaryExpr):
        if str(node.op) in _SET_OPS:
            return None
        if _is_number(node.lhs):
            return lone_selector(node.rhs)
        if _is_number(node.rhs):
            return lone_selector(node.lhs)
        return None
    if isinstance(node, pp.Call):
        name = node.func.name
        args = list(node.args)
        if not args:
            return None
        if name in _PER_SERIES_RANGE or name in _RANGE_WITH_NUMBERS:
            position = _RANGE_WITH_NUMBERS.get(name, 0)
            if len(args) <= position or not all(_is_number(a) for i, a in enumerate(args) if i != position):
                return None
            matrix = _unwrap(args[position])
            return (matrix, name) if isinstance(matrix, pp.MatrixSelector) else None
        if name in MATH or name in _VECTOR_WITH_NUMBERS:
            if not all(_is_number(a) for a in args[1:]):
                return None
            return lone_selector(args[0])
    return None


def stack(parts: list[Vector], steps: int) -> Vector:
    """The batches' vectors as one, ordered by labels as a single selection would be."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Vector.empty(steps)
    if len(parts) == 1:
        return parts[0]
    labels = [lbl for p in parts for lbl in p.labels]
    merged = Vector(
        labels,
        np.concatenate([p.values for p in parts]),
        np.concatenate([p.present for p in parts]),
        np.concatenate([p.drop_name for p in parts]),
    )
    if all(a.labels[-1] < b.labels[0] for a, b in zip(parts, parts[1:], strict=False)):
        return merged  # batches of label-adjacent series, each sorted: in order already
    return merged.take(sorted(range(len(labels)), key=labels.__getitem__))
