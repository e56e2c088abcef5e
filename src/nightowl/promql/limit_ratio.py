"""`limit_ratio(r, v)`: a deterministic sample of about `r` of the series, chosen by label hash as
Prometheus does, so `limit_ratio(r, v)` and `limit_ratio(-(1 - r), v)` are complements."""

from __future__ import annotations

import numpy as np
import xxhash

from nightowl.metrics.model import Labels
from nightowl.promql.values import Floats, Vector, drop_metric_name

_SEP = b"\xff"
_MAX_UINT64 = float(2**64 - 1)


def sample_offset(labels: Labels) -> float:
    """Where a series falls in [0, 1]: Prometheus's labels.Hash() (xxhash64 over name 0xff value
    0xff ...) divided by the largest uint64."""
    data = b"".join(name.encode() + _SEP + value.encode() + _SEP for name, value in labels)
    return xxhash.xxh64_intdigest(data) / _MAX_UINT64


def clamp(ratio: Floats) -> tuple[Floats, list[str]]:
    """Ratios capped to [-1, 1], with Prometheus's warning text for each value that was capped."""
    notes: list[str] = []
    for value in np.unique(ratio[(ratio > 1) | (ratio < -1)]).tolist():
        capped = 1 if value > 1 else -1
        notes.append(f"PromQL warning: ratio value should be between -1 and 1, got {value:g}, capping to {capped}")
    return np.clip(ratio, -1.0, 1.0), notes


def limit_ratio(vector: Vector, ratio: Floats) -> Vector:
    """Keep a series at a step when its offset is below the ratio (r >= 0) or at or above 1 + r (r < 0)."""
    if len(vector) == 0:
        return vector
    offsets = np.array(
        [
            sample_offset(drop_metric_name(labels) if drop else labels)
            for labels, drop in zip(vector.labels, vector.drop_name, strict=True)
        ]
    )[:, None]
    r = ratio[None, :]
    keep = np.where(r >= 0, offsets < r, offsets >= 1.0 + r)
    return Vector(list(vector.labels), vector.values, vector.present & keep, vector.drop_name.copy()).compact()
