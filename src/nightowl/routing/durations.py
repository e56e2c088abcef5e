"""Prometheus duration strings (`1h30m`, `5m`, `30s`, `1d`) to seconds."""

from __future__ import annotations

import re

from nightowl.core.errors import InvalidInput

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def parse_duration(value: str | int | float, field: str = "duration") -> float:
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    if text == "0":
        return 0.0
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise InvalidInput(f"{field}: {value!r} is not a duration (e.g. 30s, 5m, 4h, 1d)", field=field)
    return total


def format_duration(seconds: float) -> str:
    if seconds == 0:
        return "0s"
    out = []
    remaining = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size:
            out.append(f"{remaining // size}{unit}")
            remaining %= size
    return "".join(out) or f"{seconds}s"
