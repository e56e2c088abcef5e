"""The values the evaluator passes around, each over every step of the query at once.

An instant vector is a [series x steps] float matrix plus a presence mask (PromQL values may be
NaN, so NaN cannot mean "absent"). A range vector keeps each series' raw samples, flattened, so range
functions find their windows for all steps with one `searchsorted`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from nightowl.metrics.model import METRIC_NAME, Labels
from nightowl.promql import deadline
from nightowl.promql.errors import QueryExecutionError

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Scalar:
    values: Floats  # one per step


@dataclass
class String:
    value: str


@dataclass
class Vector:
    """Series present at some steps. `drop_name[i]` marks a series whose `__name__` goes at the end
    of evaluation (Prometheus 3's delayed name removal)."""

    labels: list[Labels]
    values: Floats
    present: Bools
    drop_name: Bools = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        if len(self.drop_name) != len(self.labels):
            self.drop_name = np.zeros(len(self.labels), bool)

    @classmethod
    def empty(cls, steps: int) -> Vector:
        return cls([], np.zeros((0, steps)), np.zeros((0, steps), bool))

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, rows: npt.NDArray[np.intp] | list[int]) -> Vector:
        idx = np.asarray(rows, dtype=np.intp)
        return Vector([self.labels[i] for i in idx], self.values[idx], self.present[idx], self.drop_name[idx])

    def compact(self) -> Vector:
        """Without the series absent at every step."""
        keep = np.flatnonzero(self.present.any(axis=1))
        return self if len(keep) == len(self.labels) else self.take(keep)


@dataclass
class RangeVector:
    """Raw samples per series for range functions; series i owns samples[offsets[i]:offsets[i+1]].

    `eval_ts` holds, per step, the time the window ends at (after `@` and `offset`), `range_ms`
    the window length: windows are (eval_ts - range_ms, eval_ts].
    """

    labels: list[Labels]
    offsets: Ints
    timestamps: Ints
    values: Floats
    eval_ts: Ints
    range_ms: int
    drop_name: Bools = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        if len(self.drop_name) != len(self.labels):
            self.drop_name = np.zeros(len(self.labels), bool)

    def windows(self) -> tuple[Ints, Ints]:
        """First and one-past-last sample index of each (series, step) window, both [series x steps]."""
        n = len(self.labels)
        if n == 0 or len(self.eval_ts) == 0:
            empty = np.zeros((n, len(self.eval_ts)), np.int64)
            return empty, empty
        base = min(int(self.timestamps.min()) if len(self.timestamps) else 0, int(self.eval_ts.min()) - self.range_ms)
        top = max(int(self.timestamps.max()) if len(self.timestamps) else 0, int(self.eval_ts.max()))
        width = top - base + 2
        counts = np.diff(self.offsets)
        keys = np.repeat(np.arange(n, dtype=np.int64) * width - base, counts)
        keys += self.timestamps
        series_base = (np.arange(n, dtype=np.int64) * width)[:, None]
        ends, starts = (self.eval_ts - base)[None, :], (self.eval_ts - self.range_ms - base)[None, :]
        lo = np.empty((n, len(self.eval_ts)), np.int64)
        hi = np.empty((n, len(self.eval_ts)), np.int64)
        rows = max(1, _WINDOW_CELLS // len(self.eval_ts))
        for a in range(0, n, rows):  # in slices, so that a long subquery's windows stop at the deadline
            deadline.check()
            hi[a : a + rows] = np.searchsorted(keys, series_base[a : a + rows] + ends, side="right")
            lo[a : a + rows] = np.searchsorted(keys, series_base[a : a + rows] + starts, side="right")
        return lo, hi


_WINDOW_CELLS = 1 << 19

Value = Scalar | String | Vector | RangeVector


_NAME_LABELS = (METRIC_NAME, "__type__", "__unit__")


def drop_metric_name(labels: Labels) -> Labels:
    """Without `__name__` (and the `__type__`/`__unit__` labels that describe it)."""
    if labels and labels[0][0] == METRIC_NAME and (len(labels) == 1 or labels[1][0] not in _NAME_LABELS):
        return labels[1:]  # the usual case, at C speed: the name sorts first, nothing else to drop
    return tuple(pair for pair in labels if pair[0] not in _NAME_LABELS)


def names_dropped(vector: Vector) -> Vector:
    """Pending name drops applied, without the duplicate check (for grouping operations)."""
    if not vector.drop_name.any():
        return vector
    labels = [drop_metric_name(lbl) if drop else lbl for lbl, drop in zip(vector.labels, vector.drop_name, strict=True)]
    return Vector(labels, vector.values, vector.present)


def finalize(vector: Vector) -> Vector:
    """Apply pending name drops and reject two series with one label set present at one step."""
    if not vector.drop_name.any():
        return merge_duplicates(vector, check_only=True)
    labels = [
        drop_metric_name(lbl) if drop else lbl for lbl, drop in zip(vector.labels, vector.drop_name, strict=False)
    ]
    return merge_duplicates(Vector(labels, vector.values, vector.present))


def merge_duplicates(vector: Vector, check_only: bool = False) -> Vector:
    """Series with equal labels become one row; overlapping presence is Prometheus's duplicate error."""
    first: dict[Labels, int] = {}
    groups: dict[int, list[int]] = {}
    for i, labels in enumerate(vector.labels):
        j = first.setdefault(labels, i)
        if j != i:
            groups.setdefault(j, [j]).append(i)
    if not groups:
        return vector
    values = vector.values.copy()
    present = vector.present.copy()
    drop: list[int] = []
    for head, rows in groups.items():
        if (vector.present[rows].sum(axis=0) > 1).any():
            raise QueryExecutionError("vector cannot contain metrics with the same labelset")
        for row in rows[1:]:
            mask = vector.present[row]
            values[head, mask] = vector.values[row, mask]
            present[head] |= mask
            drop.append(row)
    if check_only and not drop:
        return vector
    keep = np.setdiff1d(np.arange(len(vector.labels)), np.array(drop, np.intp))
    merged = Vector(vector.labels, values, present, vector.drop_name)
    return merged.take(keep)
