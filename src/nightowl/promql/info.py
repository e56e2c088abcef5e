"""`info(v, {selector})`: enrich series with the data labels of matching info metrics (`target_info` by
default), joined on the identifying labels `instance` and `job`, as Prometheus 3 does."""

from __future__ import annotations

import numpy as np

from nightowl.metrics.model import METRIC_NAME, Labels, Matcher
from nightowl.promql.extended import INFO_ANY
from nightowl.promql.values import Bools, Floats, Vector

IDENTIFYING = ("instance", "job")
DEFAULT_INFO = Matcher(METRIC_NAME, "=", "target_info")


def split_matchers(matchers: list[Matcher]) -> tuple[list[Matcher], list[Matcher]]:
    """(`__name__` matchers, data-label matchers); without a name matcher, `target_info`."""
    matchers = [m for m in matchers if m.name != INFO_ANY]
    names = [m for m in matchers if m.name == METRIC_NAME] or [DEFAULT_INFO]
    return names, [m for m in matchers if m.name != METRIC_NAME]


def _matches(labels: dict[str, str], matchers: list[Matcher]) -> bool:
    return all(m.matches(labels.get(m.name, "")) for m in matchers)


def enrich(base: Vector, infos: Vector, names: list[Matcher], data: list[Matcher]) -> Vector:
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
        presence = infos.present[candidates] if candidates else np.zeros((0, steps), bool)
        rows: dict[Labels, np.ndarray] = {}
        for s in np.flatnonzero(base.present[i]):
            active = [candidates[c] for c in np.flatnonzero(presence[:, s])]
            if not active and not empty_ok:
                continue
            extra: dict[str, str] = {}
            for j in active:
                for name, value in info_labels[j].items():
                    if name == METRIC_NAME or name in IDENTIFYING or name in own or not value:
                        continue
                    if data and name not in wanted:
                        continue
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
