"""Aggregation operators, over all steps at once: series are grouped once, then each group's rows are
laid out as a padded [groups x members x steps] block and reduced along the member axis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nightowl.metrics.model import METRIC_NAME, Labels
from nightowl.promql.errors import QueryExecutionError
from nightowl.promql.rangefuncs import quantile_of
from nightowl.promql.summation import accurate_sum, welford_variance
from nightowl.promql.values import Bools, Floats, Vector


@dataclass
class Groups:
    labels: list[Labels]  # output labels per group
    index: np.ndarray  # group of each input series
    rank: np.ndarray  # position of each input series within its group
    size: int  # members of the largest group


def group_series(vector: Vector, grouping: list[str], without: bool) -> Groups:
    names = frozenset(grouping)
    keys: dict[Labels, int] = {}
    # Labels are sorted by name, so the kept pairs come out in the key's order (list comprehensions:
    # a generator per series costs twice as much).
    if without:
        dropped = names | {METRIC_NAME}
        found = [tuple([p for p in labels if p[0] not in dropped]) for labels in vector.labels]
    else:
        found = [tuple([p for p in labels if p[0] in names and p[1]]) for labels in vector.labels]
    setdefault = keys.setdefault
    index = np.array([setdefault(key, len(keys)) for key in found], np.int64)
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index, minlength=len(keys))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(keys) else np.zeros(0, np.int64)
    rank = np.empty(len(index), np.int64)
    rank[order] = np.arange(len(index)) - starts[index[order]]
    return Groups(list(keys), index, rank, int(counts.max()) if len(keys) else 0)


def _padded(vector: Vector, groups: Groups, fill: float) -> tuple[Floats, Bools]:
    steps = vector.values.shape[1]
    values = np.full((len(groups.labels), groups.size, steps), fill)
    present = np.zeros((len(groups.labels), groups.size, steps), bool)
    values[groups.index, groups.rank] = np.where(vector.present, vector.values, fill)
    present[groups.index, groups.rank] = vector.present
    return values, present


def kahan_sum(values: Floats, axis: int = 1) -> Floats:
    return accurate_sum(values, axis)


def aggregate(op: str, vector: Vector, grouping: list[str], without: bool, param: Floats | None) -> Vector:
    groups = group_series(vector, grouping, without)
    steps = vector.values.shape[1]
    if not groups.labels:
        return Vector.empty(steps)
    if op in ("topk", "bottomk", "limitk"):
        assert param is not None
        return _select_k(op, vector, groups, param)
    drop = np.zeros(len(groups.labels), bool)
    np.logical_or.at(drop, groups.index, vector.drop_name)
    if op in ("sum", "count", "group", "min", "max"):
        result, out_present = _reduce_sorted(op, vector, groups)
        return Vector(groups.labels, np.where(out_present, result, 0.0), out_present, drop)
    values, present = _padded(vector, groups, 0.0)
    count = present.sum(axis=1)
    out_present = count > 0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if op == "sum":
            result = kahan_sum(values)
        elif op == "count":
            result = count.astype(np.float64)
        elif op == "group":
            result = np.ones(count.shape)
        elif op == "avg":
            total = kahan_sum(values)
            result = total / count
            overflow = np.isinf(result) & ~np.isinf(values).any(axis=1)
            if overflow.any():
                result = np.where(overflow, kahan_sum(values / np.maximum(count, 1)[:, None, :]), result)
        elif op in ("min", "max"):
            filled = np.where(present, values, np.nan)
            result = np.fmin.reduce(filled, axis=1) if op == "min" else np.fmax.reduce(filled, axis=1)
        elif op in ("stddev", "stdvar"):
            result = welford_variance(values, present, axis=1)
            result = np.sqrt(result) if op == "stddev" else result
        elif op == "quantile":
            assert param is not None
            filled = np.moveaxis(np.where(present, values, np.inf), 1, -1)
            q = np.broadcast_to(param[None, :], count.shape)
            result = quantile_of(q, filled, count)
        else:
            raise QueryExecutionError(f"unknown aggregation {op!r}")
    return Vector(groups.labels, np.where(out_present, result, 0.0), out_present, drop)


def _reduce_sorted(op: str, vector: Vector, groups: Groups) -> tuple[Floats, Bools]:
    """sum/count/group/min/max with `reduceat` over rows sorted by group: no padding, so memory stays
    O(series x steps) however uneven the groups are. Sums whose terms cancel are redone compensated."""
    order = np.argsort(groups.index, kind="stable")
    sizes = np.bincount(groups.index, minlength=len(groups.labels))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    present = vector.present[order]
    count = np.add.reduceat(present, starts, axis=0)
    out_present: Bools = count > 0
    with np.errstate(invalid="ignore", over="ignore"):
        if op == "count":
            return count.astype(np.float64), out_present
        if op == "group":
            return np.ones(count.shape), out_present
        if op in ("min", "max"):
            filled = np.where(present, vector.values[order], np.nan)
            ufunc = np.fmin if op == "min" else np.fmax
            return ufunc.reduceat(filled, starts, axis=0), out_present
        terms = np.where(present, vector.values[order], 0.0)
        total: Floats = np.add.reduceat(terms, starts, axis=0)
        magnitude = np.add.reduceat(np.abs(terms), starts, axis=0)
        suspect = (magnitude > 1e6 * np.abs(total)) & np.isfinite(magnitude) & out_present
        suspect |= np.isinf(magnitude) & np.isfinite(np.where(np.isnan(total), 0.0, total))
    if suspect.any():
        for g in np.flatnonzero(suspect.any(axis=1)):
            block = terms[starts[g] : starts[g] + sizes[g]]
            total[g] = np.where(suspect[g], accurate_sum(block, axis=0), total[g])
    return total, out_present


def _select_k(op: str, vector: Vector, groups: Groups, param: Floats) -> Vector:
    """topk/bottomk/limitk: keep each input series at the steps where it ranks within k of its group."""
    with np.errstate(invalid="ignore"):
        k = np.where(np.isnan(param), 0, np.clip(param, -(2**62), 2**62)).astype(np.int64)
    values, present = _padded(vector, groups, 0.0)
    if op == "limitk":
        ranks = np.cumsum(present, axis=1) - 1
    else:
        klass = np.where(present, np.where(np.isnan(values), 1, 0), 2)
        key = -values if op == "topk" else values
        key = np.where(klass == 0, key, 0.0)
        # order members by (class, key); lexsort sorts along the last axis
        order = np.lexsort((np.moveaxis(key, 1, -1), np.moveaxis(klass, 1, -1)))
        ranks_t = np.empty_like(order)
        np.put_along_axis(ranks_t, order, np.arange(order.shape[-1])[None, None, :], axis=-1)
        ranks = np.moveaxis(ranks_t, -1, 1)
    chosen = present & (ranks < k[None, None, :])
    keep = chosen[groups.index, groups.rank]
    result = Vector(list(vector.labels), vector.values, keep, vector.drop_name.copy())
    return result.compact()


def count_values(vector: Vector, label: str, grouping: list[str], without: bool) -> Vector:
    """One output series per (group, distinct value), counting the series with that value per step."""
    groups = group_series(vector, grouping, without)
    steps = vector.values.shape[1]
    rows, cols = np.nonzero(vector.present)
    vals = vector.values[rows, cols]
    out: dict[Labels, int] = {}
    text_of: dict[float, str] = {}
    targets = np.empty(len(vals), np.int64)
    for j, value in enumerate(vals.tolist()):
        text = text_of.get(value)
        if text is None:
            text = text_of[value] = format_value(value)
        base = dict(groups.labels[groups.index[rows[j]]])
        base[label] = text
        key = tuple(sorted(base.items()))
        targets[j] = out.setdefault(key, len(out))
    counts = np.zeros((len(out), steps))
    np.add.at(counts, (targets, cols), 1.0)
    return Vector(list(out), counts, counts > 0)


def format_value(value: float) -> str:
    """Go's strconv.FormatFloat(f, 'f', -1, 64) as Prometheus writes label values from floats."""
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = np.format_float_positional(value, trim="-")
    if text.endswith(".0"):
        text = text[:-2]
    return text
