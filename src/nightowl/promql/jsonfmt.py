"""Prometheus's JSON encoding of query results: values as strings ("NaN", "+Inf", no exponent),
timestamps as seconds with millisecond precision."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from nightowl.metrics.api import QueryResult
from nightowl.metrics.model import Labels, Series


def format_float(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64)."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    if "e" in text:
        text = np.format_float_positional(value, trim="-")
    elif text.endswith(".0"):
        text = text[:-2]
    return text


def format_time(ms: int) -> float | int:
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def _metric(labels: Labels) -> dict[str, str]:
    return dict(labels)


def _points(series: Series) -> list[list[Any]]:
    times = series.timestamps.tolist()
    values = series.values.tolist()
    return [[format_time(t), format_float(v)] for t, v in zip(times, values, strict=False)]


def result_data(result: QueryResult) -> dict[str, Any]:
    """The `data` object of /api/v1/query and /api/v1/query_range."""
    if result.result_type == "scalar":
        assert result.scalar is not None
        t, v = result.scalar
        return {"resultType": "scalar", "result": [format_time(t), format_float(v)]}
    if result.result_type == "string":
        assert result.string is not None
        t, s = result.string
        return {"resultType": "string", "result": [format_time(t), s]}
    if result.result_type == "vector":
        items = []
        for series in result.series:
            t = int(series.timestamps[0])
            items.append(
                {"metric": _metric(series.labels), "value": [format_time(t), format_float(float(series.values[0]))]}
            )
        return {"resultType": "vector", "result": items}
    return {
        "resultType": "matrix",
        "result": [{"metric": _metric(s.labels), "values": _points(s)} for s in result.series],
    }


def _value_texts(values: list[float]) -> list[str]:
    """format_float over a list at list-comprehension speed: repr is right except for these cases."""
    return [
        text[:-2] if text.endswith(".0") else (format_float(value) if ("e" in text or "n" in text) else text)
        for value, text in zip(values, map(repr, values), strict=True)
    ]


def _points_text(prefixes: list[str], values: list[float]) -> str:
    """`[t,"v"],...` for one series from its `[t,"` prefixes: repr for every value, then C-speed
    fix-ups of the few spellings Prometheus writes differently ("1.0" -> "1", inf/nan); exponents
    take the per-value path."""
    text = '"],'.join(map(str.__add__, prefixes, map(repr, values))) + '"]'
    if "e" in text:
        return '"],'.join(map(str.__add__, prefixes, _value_texts(values))) + '"]'
    text = text.replace('.0"', '"')
    if "n" in text:
        text = text.replace('"inf"', '"+Inf"').replace('"-inf"', '"-Inf"').replace('"nan"', '"NaN"')
    return text


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def render_data(result: QueryResult, extra: dict[str, Any] | None = None) -> str:
    """The `data` object as JSON text, built directly: big matrices are the hot path of query_range."""
    if result.result_type in ("scalar", "string"):
        data = result_data(result)
        data.update(extra or {})
        return dumps(data).decode()
    if result.result_type == "vector":
        items = _vector_items(result.series)
    else:
        items = _matrix_items(result.series)
    tail = "".join(f",{json.dumps(k)}:{dumps(v).decode()}" for k, v in (extra or {}).items())
    return f'{{"resultType":"{result.result_type}","result":[{items}]{tail}}}'


def _vector_items(series: list[Series]) -> str:
    """One encoder call for all label sets; a vector's samples usually share one timestamp."""
    if not series:
        return ""
    # `[{...},{...}]` split on the encoder's own `},{` separators gives each metric's members; a label
    # value holding `},{` would add parts, and then each label set is encoded on its own instead.
    parts = _ENCODE([dict(s.labels) for s in series])[2:-2].split("},{")
    if len(parts) != len(series):
        parts = [_ENCODE(dict(s.labels))[1:-1] for s in series]
    first = series[0].timestamps
    if all(s.timestamps is first for s in series):  # the engine gives every sample of a vector one array
        stamps = [repr(format_time(int(first[0])))] * len(series)
    else:
        stamps = [repr(format_time(t)) for t in np.concatenate([s.timestamps[:1] for s in series]).tolist()]
    texts = _value_texts(np.concatenate([s.values[:1] for s in series]).tolist())
    return ",".join(map(_SAMPLE, parts, stamps, texts))


_SAMPLE = '{{"metric":{{{}}},"value":[{},"{}"]}}'.format


def _matrix_items(series: list[Series]) -> str:
    if not series:
        return ""
    # A range query's series share the step timestamps: each `[t,"` prefix is written once.
    stamps = np.unique(np.concatenate([s.timestamps for s in series]))
    texts = ["[" + repr(format_time(t)) + ',"' for t in stamps.tolist()]
    items: list[str] = []
    for s in series:
        if not len(s.timestamps):
            items.append(f'{{"metric":{_ENCODE(dict(s.labels))},"values":[]}}')
            continue
        prefixes = list(map(texts.__getitem__, np.searchsorted(stamps, s.timestamps).tolist()))
        points = _points_text(prefixes, s.values.tolist())
        items.append(f'{{"metric":{_ENCODE(dict(s.labels))},"values":[{points}]}}')
    return ",".join(items)


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
