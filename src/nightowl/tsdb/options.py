"""TSDB options and per-metric retention overrides, with the Prometheus duration syntax they use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nightowl.core.regex import RegexError
from nightowl.core.regex import validate as validate_regex
from nightowl.metrics.model import Matcher
from nightowl.tsdb.wal import FsyncPolicy

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

_UNITS = {"ms": 1, "s": 1000, "m": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS, "w": 7 * DAY_MS, "y": 365 * DAY_MS}
_DURATION = re.compile(r"^((\d+)(ms|s|m|h|d|w|y))+$")
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def parse_duration_ms(text: str) -> int:
    """Milliseconds of a Prometheus duration such as `30d`, `1h30m` or `500ms`."""
    text = text.strip()
    if not _DURATION.match(text):
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit (ms, s, m, h, d, w, y), e.g. 30d or 1h30m"
        )
    return sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text))


_SELECTOR = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$", re.S)
_PAIR = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)', re.S)


def parse_selector(text: str) -> tuple[Matcher, ...]:
    """Matchers of a series selector such as `debug_requests_total` or `{job="batch", env=~"dev|test"}`."""
    found = _SELECTOR.match(text)
    if not found or not (found.group(1) or found.group(2)):
        raise ValueError(f'invalid series selector {text!r}: expected metric_name{{label="value", ...}}')
    matchers: list[Matcher] = []
    if found.group(1):
        matchers.append(Matcher("__name__", "=", found.group(1)))
    body = (found.group(2) or "").strip()
    pos = 0
    while pos < len(body):
        pair = _PAIR.match(body, pos)
        if not pair:
            raise ValueError(f"invalid series selector {text!r}: cannot parse {body[pos:]!r}")
        value = re.sub(r"\\(.)", r"\1", pair.group(3))
        op = pair.group(2)
        if op in ("=~", "!~"):
            try:
                validate_regex(value)
            except RegexError as exc:
                raise ValueError(f"invalid series selector {text!r}: {exc}") from None
        matchers.append(Matcher(pair.group(1), op, value))  # type: ignore[arg-type]
        pos = pair.end()
    return tuple(matchers)


@dataclass(frozen=True)
class RetentionOverride:
    """Series matching `matchers` keep raw samples for `raw_ms` (and tiers for `tiers_ms`) instead of the defaults."""

    matchers: tuple[Matcher, ...]
    raw_ms: int
    tiers_ms: int | None = None

    def matches(self, labels: tuple[tuple[str, str], ...]) -> bool:
        present = dict(labels)
        return all(m.matches(present.get(m.name, "")) for m in self.matchers)


@dataclass(frozen=True)
class TSDBOptions:
    retention_raw_ms: int = 30 * DAY_MS
    retention_tiers_ms: int = 365 * DAY_MS
    retention_size_bytes: int = 0
    out_of_order_window_ms: int = 10 * MINUTE_MS
    block_ms: int = 2 * HOUR_MS
    head_max_samples: int = 500_000
    freeze_samples: int = 250_000
    fsync: FsyncPolicy = "interval"
    fsync_interval_s: float = 1.0
    tiers_ms: tuple[int, ...] = (5 * MINUTE_MS, HOUR_MS)
    auto_downsampling: bool = True
    overrides: tuple[RetentionOverride, ...] = ()
    compression_level: int = 3
