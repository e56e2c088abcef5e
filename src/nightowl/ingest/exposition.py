"""Prometheus text exposition (0.0.4) and OpenMetrics 1.0 in, one columnar `SampleBatch` out.

Speed matters (the scraper parses every target with this), so the common line takes one `rsplit`,
one dict lookup and one `float`; a line that does not fit that shape (tabs, spaces in label values,
exemplars, `stale`) goes through a full regex. Series text -> `Labels` parses are cached across
calls, since the same series come back on every scrape and every import of a backfill; the cache
is bounded by bytes and keeps only label sets within the length limits, so refused input leaves
nothing behind.
"""

from __future__ import annotations

import re

import numpy as np

from nightowl.ingest.caches import CacheBudget, labels_size, text_size
from nightowl.ingest.errors import MalformedPayload
from nightowl.ingest.limits import IngestLimits, within_lengths
from nightowl.metrics.model import METRIC_NAME, STALE_NAN, Labels, SampleBatch

STALE_TOKEN = "stale"
"""Text cannot carry the staleness NaN's bit pattern, so imports spell a staleness marker `stale`."""

PROMETHEUS_TYPES = frozenset({"counter", "gauge", "histogram", "summary", "untyped"})
OPENMETRICS_TYPES = frozenset(
    {"counter", "gauge", "histogram", "gaugehistogram", "summary", "stateset", "info", "unknown"}
)
_CREATED_FAMILIES = frozenset({"counter", "histogram", "summary", "gaugehistogram"})

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL_ITEM = re.compile(
    r'[ \t]*(?:([a-zA-Z_][a-zA-Z0-9_]*)|"((?:[^"\\]|\\.)*)")[ \t]*(?:=[ \t]*"((?:[^"\\]|\\.)*)")?[ \t]*(?:,|\Z)',
    re.S,
)
_SAMPLE_LINE = re.compile(
    r"""[ \t]*(?P<series>[^\s{#]*(?:\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?)"""
    r"""[ \t]+(?P<value>[^\s#]+)(?:[ \t]+(?P<ts>[^\s#]+))?[ \t]*(?:\#.*)?\r?\Z""",
    re.S,
)
_ESCAPE = re.compile(r"\\(.)", re.S)
_UNESCAPE = {"n": "\n", "\\": "\\", '"': '"'}

_SERIES_CACHE: dict[str, Labels] = {}
CACHE_MAX_BYTES = 256 * 2**20
CACHES = CacheBudget(CACHE_MAX_BYTES, _SERIES_CACHE)
_DEFAULT_LIMITS = IngestLimits()


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: _UNESCAPE.get(m.group(1), "\\" + m.group(1)), text)


def parse_series(text: str, limits: IngestLimits = _DEFAULT_LIMITS) -> Labels:
    """`name{a="b",...}` (or the UTF-8 form `{"name", a="b"}`) -> sorted Labels, empty values dropped.

    `limits` decide what is worth caching; the validator enforces them afterwards."""
    cached = _SERIES_CACHE.get(text)
    if cached is not None:
        return cached
    brace = text.find("{")
    name = (text if brace == -1 else text[:brace]).strip()
    pairs: list[tuple[str, str]] = []
    if brace != -1:
        if not text.endswith("}"):
            raise ValueError(f"series {text!r} lacks its closing brace")
        body = text[brace + 1 : -1]
        pos = 0
        while body[pos:].strip():
            match = _LABEL_ITEM.match(body, pos)
            if match is None:
                raise ValueError(f"cannot read the labels of {text!r} at {body[pos:]!r}")
            plain, quoted, value = match.groups()
            label = plain if plain is not None else _unescape(quoted)
            if value is None:
                if plain is not None or name:
                    raise ValueError(f"label {label!r} of {text!r} has no value")
                name = label
            else:
                pairs.append((label, _unescape(value)))
            pos = match.end()
    if not name:
        raise ValueError(f"series {text!r} has no metric name")
    if brace == -1 and _NAME.match(name) is None:
        raise ValueError(f"invalid metric name {name!r}")
    pairs.append((METRIC_NAME, name))
    if len({label for label, _ in pairs}) != len(pairs):
        raise ValueError(f"series {text!r} repeats a label name")
    labels = tuple(sorted(pair for pair in pairs if pair[1]))
    if len(pairs) <= limits.max_labels_per_series and within_lengths(pairs, limits):
        CACHES.charge(text_size(text) + labels_size(labels))
        _SERIES_CACHE[text] = labels
    return labels


def _parse_value(token: str) -> float:
    if token == STALE_TOKEN:
        return STALE_NAN
    return float(token)


class _Metadata:
    """HELP/TYPE/UNIT lines, by family name."""

    def __init__(self, openmetrics: bool) -> None:
        self.types = OPENMETRICS_TYPES if openmetrics else PROMETHEUS_TYPES
        self.families: dict[str, list[str]] = {}

    def read(self, line: str) -> bool:
        """Take a comment line; True when it is `# EOF`."""
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[1] in ("HELP", "TYPE", "UNIT"):
            entry = self.families.setdefault(parts[2], ["unknown", "", ""])
            text = parts[3].rstrip("\r") if len(parts) > 3 else ""
            if parts[1] == "TYPE":
                kind = text.strip()
                if kind not in self.types:
                    raise ValueError(f"unknown metric type {kind!r} for {parts[2]}; allowed: {sorted(self.types)}")
                entry[0] = kind
            elif parts[1] == "HELP":
                entry[1] = _unescape(text)
            else:
                entry[2] = text.strip()
            return False
        return line.rstrip() == "# EOF"

    def as_batch_metadata(self) -> dict[str, tuple[str, str, str]]:
        return {name: (kind, help_text, unit) for name, (kind, help_text, unit) in self.families.items()}


def _slow_line(line: str, openmetrics: bool) -> tuple[str, float, float | None]:
    match = _SAMPLE_LINE.match(line)
    if match is None:
        raise ValueError(f"cannot read sample line {line[:200]!r}")
    series, value, ts = match.group("series", "value", "ts")
    try:
        parsed_value = _parse_value(value)
    except ValueError:
        raise ValueError(f"invalid sample value {value!r} in line {line[:200]!r}") from None
    if ts is None:
        return series, parsed_value, None
    try:
        stamp = float(ts) if openmetrics else float(int(ts))
    except ValueError:
        raise ValueError(f"invalid timestamp {ts!r} in line {line[:200]!r}") from None
    return series, parsed_value, stamp


def parse_exposition(
    text: str, default_timestamp_ms: int, *, openmetrics: bool = False, limits: IngestLimits = _DEFAULT_LIMITS
) -> SampleBatch:
    """Parse a whole exposition; raise `MalformedPayload` naming the first bad line.

    Prometheus text timestamps are integer milliseconds; OpenMetrics ones are seconds (may be
    fractional). Samples without one get `default_timestamp_ms`. OpenMetrics `_created` samples of
    counters, histograms and summaries are dropped as Prometheus does; exemplars are ignored.
    """
    keys: dict[str, int] = {}
    ids: list[int] = []
    values: list[float] = []
    stamps: list[float] = []
    metadata = _Metadata(openmetrics)
    default_stamp = default_timestamp_ms / 1000.0 if openmetrics else float(default_timestamp_ms)
    read_stamp = float if openmetrics else int
    key_id = keys.setdefault
    add_id, add_value, add_stamp = ids.append, values.append, stamps.append
    try:
        for line in text.split("\n"):
            if not line:
                continue
            if line[0] == "#":
                if metadata.read(line):
                    break
                continue
            parts = line.rsplit(" ", 2)
            try:
                if openmetrics and "#" in line:
                    raise ValueError
                if len(parts) == 3:
                    add_stamp(read_stamp(parts[2]))
                    try:
                        add_value(float(parts[1]))
                    except ValueError:
                        stamps.pop()
                        raise
                elif len(parts) == 2:
                    add_value(float(parts[1]))
                    add_stamp(default_stamp)
                else:
                    raise ValueError
                add_id(key_id(parts[0], len(keys)))
            except ValueError:
                if not line.strip():
                    continue
                series, value, stamp = _slow_line(line, openmetrics)
                add_value(value)
                add_stamp(default_stamp if stamp is None else stamp)
                add_id(key_id(series, len(keys)))
        return _assemble(keys, ids, values, stamps, metadata, openmetrics, limits)
    except ValueError as exc:
        raise MalformedPayload(f"invalid exposition: {exc}", field="body") from None


def _assemble(
    keys: dict[str, int],
    ids: list[int],
    values: list[float],
    stamps: list[float],
    metadata: _Metadata,
    openmetrics: bool,
    limits: IngestLimits,
) -> SampleBatch:
    unique: dict[Labels, int] = {}
    remap = np.empty(len(keys), np.int32)
    drop = np.zeros(len(keys), np.bool_)
    check_created = openmetrics and any(entry[0] in _CREATED_FAMILIES for entry in metadata.families.values())
    for key, local in keys.items():
        labels = parse_series(key, limits)
        if check_created and _is_created(labels, metadata):
            drop[local] = True
        else:
            remap[local] = unique.setdefault(labels, len(unique))
    local_ids = np.array(ids, np.int32)
    raw_stamps = np.array(stamps, np.float64)
    raw_values = np.array(values, np.float64)
    if drop.any():
        keep = ~drop[local_ids]
        local_ids, raw_stamps, raw_values = local_ids[keep], raw_stamps[keep], raw_values[keep]
    if openmetrics:
        if not np.isfinite(raw_stamps).all():
            raise ValueError("a timestamp is not a finite number")
        raw_stamps = np.round(raw_stamps * 1000.0)
    if len(raw_stamps) and not ((raw_stamps >= -(2.0**63)) & (raw_stamps < 2.0**63)).all():
        raise ValueError("a timestamp is outside the 64-bit millisecond range")
    return SampleBatch(
        list(unique), remap[local_ids], raw_stamps.astype(np.int64), raw_values, metadata.as_batch_metadata()
    )


def _is_created(labels: Labels, metadata: _Metadata) -> bool:
    name = dict(labels).get(METRIC_NAME, "")
    if not name.endswith("_created"):
        return False
    entry = metadata.families.get(name[: -len("_created")])
    return entry is not None and entry[0] in _CREATED_FAMILIES
