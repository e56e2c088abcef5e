"""`/federate` output: the newest sample of each selected series as Prometheus text exposition.

As Prometheus writes it: families sorted by metric name, each headed `# TYPE <name> untyped`; a series'
own labels first, then the external labels it lacks; values as Go's `strconv.FormatFloat(v, 'g', -1,
64)`; the sample's timestamp in milliseconds. Series whose newest sample is a staleness marker, or
that have no name, are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from nightowl.metrics.model import METRIC_NAME, STALE_NAN_BITS, Labels, Series

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def go_float(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'g', -1, 64): shortest digits, exponent form below 1e-4 or from 1e6."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if np.signbit(value) else "0"
    scientific = np.format_float_scientific(value, trim="-", exp_digits=2)
    exponent = int(scientific.rsplit("e", 1)[1])  # the digits' own exponent, after rounding
    if exponent < -4 or exponent >= 6:
        mantissa, exp = scientific.split("e")
        return f"{mantissa.rstrip('.')}e{exp}"
    return np.format_float_positional(value, trim="-")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def newest(series: Series, since_ms: int) -> tuple[int, float] | None:
    """The series' last sample at or after `since_ms`, unless it is a staleness marker."""
    if not len(series.timestamps) or series.timestamps[-1] < since_ms:
        return None
    value = series.values[-1]
    if value.view(np.uint64) == np.uint64(STALE_NAN_BITS):
        return None
    return int(series.timestamps[-1]), float(value)


def render(samples: Iterable[tuple[Labels, int, float]], external: Mapping[str, str]) -> str:
    """The exposition text of (labels, time ms, value) samples, one per series."""
    by_name: dict[str, list[tuple[Labels, int, float]]] = {}
    for labels, ts, value in samples:
        name = next((v for n, v in labels if n == METRIC_NAME), "")
        if name:
            by_name.setdefault(name, []).append((labels, ts, value))
    lines: list[str] = []
    for name in sorted(by_name):
        lines.append(f"# TYPE {name} untyped")
        for labels, ts, value in sorted(by_name[name]):
            own = [(n, v) for n, v in labels if n != METRIC_NAME]
            present = {n for n, _ in own}
            pairs = own + [(n, v) for n, v in sorted(external.items()) if n not in present]
            text = ",".join(f'{n}="{_escape(v)}"' for n, v in pairs)
            lines.append(f"{name}{{{text}}} {go_float(value)} {ts}" if text else f"{name} {go_float(value)} {ts}")
    return "".join(line + "\n" for line in lines)
