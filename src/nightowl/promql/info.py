"""`info(v, {selector})`: enrich series with the data labels of matching info metrics (`target_info` by
default), joined on the identifying labels `instance` and `job`, as Prometheus 3 does.

Per step and info metric name, the info series with the newest sample wins (info series churn);
two with samples of the same age are an error, as are two info metrics that disagree on a label.
Info series are looked up at the time the base samples come from (`@`, `offset`, also on subqueries).
"""

from __future__ import annotations

import numpy as np
import promql_parser as pp

from nightowl.metrics.model import METRIC_NAME, Labels, Matcher
from nightowl.promql.errors import QueryExecutionError
from nightowl.promql.extended import INFO_ANY
from nightowl.promql.parse import at_ms, duration_ms
from nightowl.promql.values import Bools, Floats, Ints, Vector

IDENTIFYING = ("instance", "job")
DEFAULT_INFO = Matcher(METRIC_NAME, "=", "target_info")
# with only negative name matchers, the info metrics are still the `*_info` ones
ANY_INFO = Matcher(METRIC_NAME, "=~", ".+_info")


def split_matchers(matchers: list[Matcher]) -> tuple[list[Matcher], list[Matcher]]:
    """(`__name__` matchers, data-label matchers); without a name matcher, `target_info`."""
    matchers = [m for m in matchers if m.name != INFO_ANY]
    names = [m for m in matchers if m.name == METRIC_NAME] or [DEFAULT_INFO]
    if not any(m.op in ("=", "=~") for m in names):
        names = [ANY_INFO, *names]
    return names, [m for m in matchers if m.name != METRIC_NAME]


def _path_to_selector(node: pp.Expr) -> list[pp.Expr] | None:
    """The nodes from `node` down to the first vector selector, depth first as Prometheus walks."""
    if isinstance(node, pp.VectorSelector):
        return [node]
    children: list[pp.Expr] = []
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        children = [node.expr]
    elif isinstance(node, pp.MatrixSelector):
        children = [node.vector_selector]
    elif isinstance(node, pp.Call):
        children = list(node.args)
    elif isinstance(node, pp.AggregateExpr):
        children = [c for c in (node.param, node.expr) if c is not None]
    elif isinstance(node, pp.BinaryExpr):
        children = [node.lhs, node.rhs]
    for child in children:
        path = _path_to_selector(child)
        if path is not None:
            return [node, *path]
    return None


def reference_times(node: pp.Expr, ts: Ints, start_ms: int, end_ms: int) -> Ints:
    """When the base samples come from: each `@` on the way down to the first selector pins the
    time, each `offset` shifts it."""
    out = ts.copy()
    for step in _path_to_selector(node) or []:
        if isinstance(step, (pp.VectorSelector, pp.SubqueryExpr)):
            fixed = at_ms(step.at, start_ms, end_ms)
            if fixed is not None:
                out = np.full(len(ts), fixed, np.int64)
            out = out - duration_ms(step.offset)
    return out


def _matches(labels: dict[str, str], matchers: list[Matcher]) -> bool:
    return all(m.matches(labels.get(m.name, "")) for m in matchers)


def _text(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _chosen(
    candidates: list[int], info_labels: list[dict[str, str]], infos: Vector, stamps: Ints, step: int
) -> list[int]:
    """Per info metric name, the candidate whose sample at `step` is newest."""
    best: dict[str, int] = {}
    for j in candidates:
        if not infos.present[j, step]:
            continue
        name = info_labels[j].get(METRIC_NAME, "")
        k = best.get(name)
        if k is None or stamps[j, step] > stamps[k, step]:
            best[name] = j
        elif stamps[j, step] == stamps[k, step]:
            t = int(stamps[j, step])
            raise QueryExecutionError(
                f"found duplicate series for info metric: existing {_text(info_labels[k])} @ {t}, "
                f"new {_text(info_labels[j])} @ {t}"
            )
    return list(best.values())


def enrich(base: Vector, infos: Vector, stamps: Ints, names: list[Matcher], data: list[Matcher]) -> Vector:
    """`stamps` holds the timestamp of each info series' sample per step (to pick the newest)."""
    steps = base.values.shape[1]
    by_identity: dict[tuple[str, ...], list[int]] = {}
    info_labels = [dict(labels) for labels in infos.labels]
    for j, info in enumerate(info_labels):
        if _matches(info, data):
            by_identity.setdefault(tuple(info.get(k, "") for k in IDENTIFYING), []).append(j)
    empty_ok = all(m.matches("") for m in data)
    wanted = {m.name for m in data}
    out_labels: list[Labels] = []
    out_values: list[Floats] = []
    out_present: list[Bools] = []
    out_drop: list[bool] = []
    for i, labels in enumerate(base.labels):
        own = dict(labels)
        if _matches(own, names):
            out_labels.append(labels)
            out_values.append(base.values[i])
            out_present.append(base.present[i])
            out_drop.append(bool(base.drop_name[i]))
            continue
        candidates = by_identity.get(tuple(own.get(k, "") for k in IDENTIFYING), [])
        rows: dict[Labels, np.ndarray] = {}
        for s in np.flatnonzero(base.present[i]):
            active = _chosen(candidates, info_labels, infos, stamps, int(s))
            if not active and not empty_ok:
                continue
            extra: dict[str, str] = {}
            for j in active:
                for name, value in info_labels[j].items():
                    if name == METRIC_NAME or (data and name not in wanted) or not value:
                        continue
                    if extra.get(name, value) != value:
                        raise QueryExecutionError(f"conflicting label: {name}")
                    if name not in own:
                        extra[name] = value
            key = tuple(sorted({**own, **extra}.items()))
            mask = rows.get(key)
            if mask is None:
                mask = rows[key] = np.zeros(steps, bool)
            mask[s] = True
        for key, mask in rows.items():
            out_labels.append(key)
            out_values.append(base.values[i])
            out_present.append(mask)
            out_drop.append(bool(base.drop_name[i]))
    if not out_labels:
        return Vector.empty(steps)
    return Vector(out_labels, np.array(out_values), np.array(out_present), np.array(out_drop))
