"""JSON lines in and out, one series per line, the shape VictoriaMetrics' export/import uses:

    {"metric": {"__name__": "up", "job": "api"}, "values": [1, 0], "timestamps": [1700000000000, 1700000015000]}

JSON has no NaN or infinities: they travel as the strings "NaN", "+Inf", "-Inf", and a staleness
marker as "stale", so an export imports back bit for bit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from nightowl.ingest.errors import MalformedPayload
from nightowl.metrics.model import STALE_NAN, Labels, SampleBatch, Series, is_stale

_SPECIAL_IN = {"NaN": math.nan, "nan": math.nan, "+Inf": math.inf, "Inf": math.inf, "-Inf": -math.inf}


def _value(raw: Any, line: int) -> float:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        if raw == "stale":
            return STALE_NAN
        if raw in _SPECIAL_IN:
            return _SPECIAL_IN[raw]
        try:
            return float(raw)
        except ValueError:
            pass
    raise MalformedPayload(f"line {line}: invalid sample value {raw!r}", field="body")


def _line_series(obj: Any, line: int) -> tuple[Labels, list[Any], list[Any]]:
    if not isinstance(obj, dict):
        raise MalformedPayload(f"line {line}: expected a JSON object", field="body")
    metric, values, stamps = obj.get("metric"), obj.get("values"), obj.get("timestamps")
    if not isinstance(metric, dict) or not all(isinstance(v, str) for v in metric.values()):
        raise MalformedPayload(f"line {line}: 'metric' must be an object of string label values", field="body")
    if not isinstance(values, list) or not isinstance(stamps, list):
        raise MalformedPayload(f"line {line}: 'values' and 'timestamps' must be arrays", field="body")
    if len(values) != len(stamps):
        raise MalformedPayload(
            f"line {line}: {len(values)} values but {len(stamps)} timestamps; they must pair up", field="body"
        )
    labels = tuple(sorted((str(k), v) for k, v in metric.items() if v))
    return labels, values, stamps


def parse_json_lines(body: bytes) -> SampleBatch:
    """Parse an import body; raise `MalformedPayload` naming the first bad line."""
    index: dict[Labels, int] = {}
    ids: list[int] = []
    values: list[float] = []
    stamps: list[int] = []
    for number, raw_line in enumerate(body.splitlines(), 1):
        if not raw_line.strip():
            continue
        try:
            obj = json.loads(raw_line)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedPayload(f"line {number}: not valid JSON: {exc}", field="body") from None
        except RecursionError:
            raise MalformedPayload(
                f"line {number}: JSON nested too deeply (a line is one flat series object)", field="body"
            ) from None
        labels, line_values, line_stamps = _line_series(obj, number)
        series_id = index.setdefault(labels, len(index))
        for stamp in line_stamps:
            if not isinstance(stamp, int) or isinstance(stamp, bool):
                raise MalformedPayload(f"line {number}: timestamp {stamp!r} is not integer milliseconds", field="body")
            stamps.append(stamp)
        values.extend(_value(v, number) for v in line_values)
        ids.extend([series_id] * len(line_values))
    try:
        stamp_array = np.array(stamps, np.int64)
    except OverflowError:
        raise MalformedPayload("a timestamp does not fit in 64 bits", field="body") from None
    return SampleBatch(list(index), np.array(ids, np.int32), stamp_array, np.array(values, np.float64))


def _json_value(value: float, stale: bool) -> float | str:
    if math.isfinite(value):
        return value
    if stale:
        return "stale"
    if math.isnan(value):
        return "NaN"
    return "+Inf" if value > 0 else "-Inf"


def export_line(series: Series) -> bytes:
    values: list[float | str]
    if np.isfinite(series.values).all():
        values = series.values.tolist()
    else:
        stale = is_stale(series.values).tolist()
        values = [_json_value(v, s) for v, s in zip(series.values.tolist(), stale, strict=True)]
    line = {"metric": dict(series.labels), "values": values, "timestamps": series.timestamps.tolist()}
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def export_lines(series: Iterable[Series]) -> Iterator[bytes]:
    for one in series:
        yield export_line(one)
