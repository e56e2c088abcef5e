"""Pure translations between Nightowl's model and the Prometheus HTTP API: parameters out, JSON in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from nightowl.core.errors import InvalidInput
from nightowl.metrics.api import MetricMetadata, QueryResult
from nightowl.metrics.model import Labels, Matcher, Series, labels_from_dict

MAX_WINDOW_MS = 100 * 365 * 86_400_000
"""Range selectors longer than a century would overflow the remote's nanosecond durations."""

MIN_TIME_MS = 1
"""Earliest time asked of the remote: VictoriaMetrics takes `start=0` for "unset" (the last 5 minutes)."""
MAX_TIME_MS = 4_102_444_800_000
"""Latest time asked of the remote (2100-01-01): far-future times make both remotes answer nothing."""

EVERY_SERIES: Sequence[Matcher] = (Matcher("__name__", "=~", ".+"),)
"""The selector for "all series": Prometheus needs at least one matcher that does not match ""."""


def seconds(ms: int) -> str:
    """A timestamp parameter: decimal seconds with exact milliseconds (no float rounding on our side)."""
    sign = "-" if ms < 0 else ""
    whole, frac = divmod(abs(ms), 1000)
    return f"{sign}{whole}.{frac:03d}"


def duration(ms: int) -> str:
    """A duration parameter both Prometheus and VictoriaMetrics parse exactly."""
    return f"{max(ms, 1)}ms"


def selector(matchers: Sequence[Matcher]) -> str:
    """`{name="value", ...}`; JSON string escapes are valid PromQL string escapes."""
    if not matchers:
        raise InvalidInput("a selector needs at least one label matcher", field="match[]")
    inner = ", ".join(f"{m.name}{m.op}{json.dumps(m.value, ensure_ascii=False)}" for m in matchers)
    return "{" + inner + "}"


def match_params(matcher_sets: Sequence[Sequence[Matcher]], *, required: bool) -> list[tuple[str, str]]:
    sets = list(matcher_sets) or ([EVERY_SERIES] if required else [])
    return [("match[]", selector(ms)) for ms in sets]


def ms_of(t: Any) -> int:
    """JSON timestamps are float seconds; round to the millisecond they stand for."""
    return int(round(float(t) * 1000))


def _labels(metric: Any) -> Labels:
    if not isinstance(metric, dict):
        raise ValueError(f"expected a label object, got {type(metric).__name__}")
    return labels_from_dict({str(k): str(v) for k, v in metric.items()})


def _series(item: dict[str, Any], points: list[Any]) -> Series:
    timestamps = np.fromiter((ms_of(p[0]) for p in points), np.int64, len(points))
    values = np.fromiter((float(p[1]) for p in points), np.float64, len(points))
    return Series(_labels(item.get("metric", {})), timestamps, values)


def query_result(data: Any, warnings: list[str], infos: list[str]) -> QueryResult:
    """The JSON `data` of /api/v1/query or /api/v1/query_range as a QueryResult.

    Native histogram points (`histogram`/`histograms`) have no place in Nightowl's float model yet; a
    series that has only those is left out and a warning says so.
    """
    kind = data.get("resultType") if isinstance(data, dict) else None
    result = data.get("result") if isinstance(data, dict) else None
    notes = list(warnings)
    if kind == "scalar" and isinstance(result, list):
        return QueryResult("scalar", [], scalar=(ms_of(result[0]), float(result[1])), warnings=notes, infos=infos)
    if kind == "string" and isinstance(result, list):
        return QueryResult("string", [], string=(ms_of(result[0]), str(result[1])), warnings=notes, infos=infos)
    if kind not in ("vector", "matrix") or not isinstance(result, list):
        raise ValueError(f"unexpected query result type {kind!r}")
    series: list[Series] = []
    skipped = 0
    for item in result:
        points = [item["value"]] if kind == "vector" and "value" in item else item.get("values") or []
        if not points:
            skipped += 1
            continue
        series.append(_series(item, points))
    if skipped:
        notes.append(f"{skipped} series with native histogram samples were left out")
    return QueryResult(kind, series, warnings=notes, infos=infos)


def raw_series(data: Any, start_ms: int, end_ms: int) -> list[Series]:
    """Samples of an instant range-selector query, cut to [start_ms, end_ms] and sorted by labels."""
    found = query_result(data, [], [])
    if found.result_type != "matrix":
        raise ValueError(f"a range selector must give a matrix, got {found.result_type}")
    out = []
    for s in found.series:
        keep = (s.timestamps >= start_ms) & (s.timestamps <= end_ms)
        if keep.any():
            out.append(Series(s.labels, s.timestamps[keep], s.values[keep]))
    out.sort(key=lambda s: s.labels)
    return out


def label_sets(data: Any) -> list[Labels]:
    return sorted({_labels(item) for item in data or []})


def names(data: Any) -> list[str]:
    return sorted({str(v) for v in data or []})


def metadata(data: Any) -> dict[str, list[MetricMetadata]]:
    out: dict[str, list[MetricMetadata]] = {}
    for name, entries in (data or {}).items():
        out[str(name)] = [
            MetricMetadata(str(e.get("type", "unknown")), str(e.get("help", "")), str(e.get("unit", "")))
            for e in entries
        ]
    return out


def clamp(start_ms: int, end_ms: int) -> tuple[int, int]:
    """The window as the remote can answer it: samples before 1970 or after 2100 are out of reach."""
    return max(start_ms, MIN_TIME_MS), min(end_ms, MAX_TIME_MS)


def select_window(start_ms: int, end_ms: int) -> tuple[int, int]:
    """The evaluation time and range of the query that returns every raw sample in [start, end].

    A millisecond of slack on each side: Prometheus 2 closes the range at both ends, VictoriaMetrics and
    Prometheus 3 open it at the start, and some remotes truncate the time instead of rounding it.
    Samples outside the window are cut afterwards.
    """
    at = end_ms + 1
    window = min(end_ms - start_ms + 3, MAX_WINDOW_MS)
    return at, window
