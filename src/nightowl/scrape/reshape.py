"""Steady-state scrapes without re-parsing: when a target's body has exactly the shape of the last
one the exposition parser read (same comments, same series text, same order; only the numbers after
the last space of each sample line differ), the new values are cut out with numpy and the previous
parse's series are reused.

This is not a second parser: every body whose shape differs in any byte, or that the shortcut
cannot vouch for (explicit timestamps, exemplars, tabs or carriage returns, a value that does not
read as a number), goes through `nightowl.ingest.exposition`. OpenMetrics bodies are reused too,
with the `_created` samples the parser drops left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nightowl.metrics.model import SampleBatch

_NEWLINE, _SPACE, _HASH = 10, 32, 35
_ZERO, _NINE, _DOT, _MINUS = 48, 57, 46, 45
_CREATED_FAMILIES = frozenset({"counter", "histogram", "summary", "gaugehistogram"})
_EXACT_DIGITS = 15
"""Up to 15 decimal digits make an integer below 2**53, exact in a float64, as is every 10**k, k <= 22."""
_INT_POWERS = 10 ** np.arange(_EXACT_DIGITS + 1, dtype=np.int64)
_POWERS = _INT_POWERS.astype(np.float64)


@dataclass(frozen=True)
class Shape:
    """What a fully parsed body looked like: its bytes with the sample values cut out, and its parse."""

    skeleton: bytes
    parsed: SampleBatch
    openmetrics: bool = False
    kept: npt.NDArray[np.bool_] | None = None
    """Which sample lines the parser kept (OpenMetrics drops `_created` samples); None when all."""


def _cut(body: bytes) -> tuple[bytes, npt.NDArray[np.uint8], int] | None:
    """Split a body into its skeleton (every byte but the sample values) and the values as
    `v1\nv2\n...` bytes; also the number of sample lines."""
    data = np.frombuffer(body, np.uint8)
    if len(data) == 0 or data[-1] != _NEWLINE:
        return None
    ends = np.flatnonzero(data == _NEWLINE)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    nonempty = ends > starts
    is_sample = nonempty.copy()
    is_sample[nonempty] = data[starts[nonempty]] != _HASH
    line_starts, line_ends = starts[is_sample], ends[is_sample]
    spaces = np.flatnonzero(data == _SPACE)
    if len(line_ends) == 0 or len(spaces) == 0:
        return None
    last = np.searchsorted(spaces, line_ends) - 1
    if (last < 0).any():
        return None
    value_starts = spaces[last] + 1
    if (value_starts <= line_starts).any() or (value_starts >= line_ends).any():
        return None
    # Indices of every value byte and its line's newline, without a pass over the whole body.
    lengths = line_ends - value_starts + 1
    offsets = np.cumsum(lengths) - lengths
    index = np.arange(int(lengths.sum())) + np.repeat(value_starts - offsets, lengths)
    cut = np.ones(len(data), np.bool_)
    cut[index] = False
    cut[line_ends] = True  # the skeleton keeps every line end, so its lines split only one way
    return data[cut].tobytes(), data[index], len(line_ends)


def decimal_values(raw: npt.NDArray[np.uint8], count: int) -> npt.NDArray[np.float64] | None:
    """`count` values written `v1\nv2\n...`, read without a per-value call when every one is a plain
    decimal (`-12`, `0.25`, at most 15 digits): the digits make an exact integer, and one division by
    an exact power of ten rounds once, so each result is bit for bit what `float()` reads. None when
    any value has another form (exponent, NaN, Inf, more digits); the caller then reads them slowly."""
    ends = np.flatnonzero(raw == _NEWLINE)
    if len(ends) != count or count == 0:
        return None
    lengths = np.diff(ends, prepend=-1)
    starts = ends - lengths + 1
    number = raw - np.uint8(_ZERO)
    digit = number <= 9
    dot = raw == _DOT
    negative = raw[starts] == _MINUS
    if np.count_nonzero(digit | dot) + np.count_nonzero(negative) != len(raw) - count:
        return None
    seen = np.cumsum(digit.view(np.uint8), dtype=np.int32)  # int32: per-byte int64 arrays cost 10x here
    last_seen = seen[ends]
    digits = np.diff(last_seen, prepend=0)
    if digits.min() < 1 or digits.max() > _EXACT_DIGITS:
        return None
    dots = np.flatnonzero(dot)
    dotted = np.searchsorted(ends, dots)
    if len(dotted) > 1 and not np.diff(dotted).all():
        return None
    # Each digit's power of ten: how many digits of its value follow it.
    power = np.repeat(last_seen, lengths.astype(np.int32)) - seen
    number *= digit
    whole = np.add.reduceat(number * _INT_POWERS[power], starts)
    scale = np.zeros(count, np.int64)
    scale[dotted] = power[dots]  # digits after the dot
    values = whole / _POWERS[scale]
    values[negative] = -values[negative]
    return values


def _kept_lines(body: bytes, parsed: SampleBatch, openmetrics: bool) -> npt.NDArray[np.bool_] | None:
    """Which sample lines the parser kept: all but, in OpenMetrics, the `_created` samples of counters,
    histograms and summaries. None for a body with lines the parser reads its slow way (a `#` after
    the value: exemplars or comments; quoted metric names), whose look-alikes `reuse` cannot vouch for."""
    lines = [line for line in body.split(b"\n") if line and line[0] != _HASH]
    kept = np.ones(len(lines), np.bool_)
    for i, line in enumerate(lines):
        if line[0] == ord("{") or b"#" in line:
            return None
        if not openmetrics:
            continue
        name = line.split(b"{", 1)[0].split(b" ", 1)[0].decode("utf-8", "replace")
        if name.endswith("_created"):
            family = parsed.metadata.get(name[: -len("_created")])
            kept[i] = family is None or family[0] not in _CREATED_FAMILIES
    return kept


def _lines_of(raw: npt.NDArray[np.uint8], kept: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """The kept lines of `v1\nv2\n...` bytes (the skeleton matched, so the line count does)."""
    ends = np.flatnonzero(raw == _NEWLINE)
    lengths = np.diff(ends, prepend=-1)[kept]
    offsets = np.cumsum(lengths) - lengths
    index = np.arange(int(lengths.sum())) + np.repeat(ends[kept] - lengths + 1 - offsets, lengths)
    selected: npt.NDArray[np.uint8] = raw[index]
    return selected


def learn(body: bytes, parsed: SampleBatch, ts_ms: int, openmetrics: bool) -> Shape | None:
    """Remember a body the parser read, if its later look-alikes can be read by `reuse`."""
    if b"\r" in body or b"\t" in body or len(parsed) == 0:
        return None
    if not (parsed.timestamps == ts_ms).all():
        return None
    found = _cut(body)
    if found is None:
        return None
    kept = _kept_lines(body, parsed, openmetrics)
    if kept is None or len(kept) != found[2] or int(kept.sum()) != len(parsed):
        return None
    return Shape(found[0], parsed, openmetrics, None if kept.all() else kept)


def reuse(body: bytes, shape: Shape, ts_ms: int, *, openmetrics: bool = False) -> SampleBatch | None:
    """The new samples of a body shaped like `shape`, or None when it is not (then parse it)."""
    if openmetrics != shape.openmetrics:
        return None
    found = _cut(body)
    if found is None:
        return None
    skeleton, value_bytes, lines = found
    if skeleton != shape.skeleton:
        return None
    if shape.kept is not None:
        value_bytes, lines = _lines_of(value_bytes, shape.kept), int(shape.kept.sum())
    values = decimal_values(value_bytes, lines)
    if values is None:
        try:
            values = np.fromstring(value_bytes.tobytes().decode("ascii"), dtype=np.float64, sep="\n")
        except (ValueError, UnicodeDecodeError):
            return None
    if len(values) != lines:
        return None
    previous = shape.parsed
    return SampleBatch(
        previous.series,
        previous.series_index,
        np.full(len(values), ts_ms, np.int64),
        values,
        previous.metadata,
    )
