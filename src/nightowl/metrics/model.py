"""Plain data of the Prometheus model: labels, matchers, a columnar batch of samples, a selected series.

Every ingest protocol produces a `SampleBatch`; every read returns `Series`. Timestamps are int64
milliseconds since the epoch, values float64. A staleness marker is the NaN with Prometheus's bit
pattern (`STALE_NAN`), told apart from an ordinary NaN by `is_stale`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt

from nightowl.core.regex import LabelRegex, compile_regex

Labels = tuple[tuple[str, str], ...]
"""A label set, sorted by name, `__name__` included. Hashable, so it keys dicts directly."""

METRIC_NAME = "__name__"
STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN: float = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]

MatchOp = Literal["=", "!=", "=~", "!~"]


def labels_from_dict(values: dict[str, str]) -> Labels:
    return tuple(sorted(values.items()))


def metric_name(labels: Labels) -> str:
    for name, value in labels:
        if name == METRIC_NAME:
            return value
    return ""


def is_stale(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which values are staleness markers (not just any NaN)."""
    marks: npt.NDArray[np.bool_] = values.view(np.uint64) == np.uint64(STALE_NAN_BITS)
    return marks


@dataclass(frozen=True)
class Matcher:
    """A label matcher as PromQL writes it; regexes are fully anchored, as in Prometheus."""

    name: str
    op: MatchOp
    value: str

    @cached_property
    def _regex(self) -> LabelRegex:
        return compile_regex(self.value)

    def matches(self, value: str) -> bool:
        """`value` is "" when the series lacks the label, as in Prometheus."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        hit = self._regex.matches(value)
        return hit if self.op == "=~" else not hit

    def matches_empty(self) -> bool:
        return self.matches("")

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


@dataclass
class SampleBatch:
    """Samples from one request, columnar: sample i belongs to `series[series_index[i]]`.

    `metadata` maps a metric family name to (type, help, unit) when the protocol carries it.
    """

    series: list[Labels]
    series_index: npt.NDArray[np.int32]
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    metadata: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.timestamps)
        if len(self.series_index) != n or len(self.values) != n:
            raise ValueError("series_index, timestamps and values must have the same length")

    def __len__(self) -> int:
        return len(self.timestamps)

    @classmethod
    def empty(cls) -> SampleBatch:
        return cls([], np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.float64))

    @classmethod
    def from_rows(cls, rows: list[tuple[Labels, int, float]]) -> SampleBatch:
        """Convenience for tests and small protocols: (labels, timestamp_ms, value) rows."""
        index: dict[Labels, int] = {}
        series_index = np.empty(len(rows), np.int32)
        timestamps = np.empty(len(rows), np.int64)
        values = np.empty(len(rows), np.float64)
        for i, (labels, ts, value) in enumerate(rows):
            series_index[i] = index.setdefault(labels, len(index))
            timestamps[i] = ts
            values[i] = value
        return cls(list(index), series_index, timestamps, values)


@dataclass
class Series:
    """One selected series: its labels and its samples in time order."""

    labels: Labels
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


@dataclass(frozen=True)
class AppendResult:
    """What an append did: samples stored, and samples rejected by reason (e.g. `out_of_order`)."""

    accepted: int
    rejected: dict[str, int] = field(default_factory=dict)
    series_created: int = 0

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())
