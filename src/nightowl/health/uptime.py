"""Uptime, computed exactly from the state-transition log rather than from downsampled metrics.

A check's timeline is the sequence of states between its transitions; a service's is the worst of its
checks' at every instant. Uptime % = time up or degraded / time up, degraded or down, with
maintenance periods and unknown time (before the first result) left out of both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nightowl.health.maintenance import Interval, merge
from nightowl.health.model import State, worst

DAY = 86400.0
WINDOWS: dict[str, float] = {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "1y": 365 * DAY}


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    state: State


def timeline(changes: Sequence[tuple[float, str]], start: float, end: float) -> list[Segment]:
    """Segments over [start, end] from (at, new state) changes in time order; changes before
    `start` give the state at `start` (unknown when there are none)."""
    segments: list[Segment] = []
    current: State = "unknown"
    cursor = start
    for at, state in changes:
        if at <= start:
            current = state  # type: ignore[assignment]
            continue
        if at >= end:
            break
        if at > cursor:
            segments.append(Segment(cursor, at, current))
        cursor, current = at, state  # type: ignore[assignment]
    if end > cursor:
        segments.append(Segment(cursor, end, current))
    return segments


def worst_timeline(timelines: list[list[Segment]], start: float, end: float) -> list[Segment]:
    """The worst state of several timelines at every instant (a service from its checks).

    A sweep over the segment starts: each timeline's current state is kept in a count per state, so
    every change costs O(1) and the whole merge O(n log n) for n segments.
    """
    counts = {"unknown": len(timelines), "up": 0, "degraded": 0, "down": 0}
    current: list[State] = ["unknown"] * len(timelines)
    # At one instant a segment's end (order 0) comes before the next one's start (order 1).
    changes: list[tuple[float, int, int, State]] = sorted(
        [(s.end, 0, i, "unknown") for i, segments in enumerate(timelines) for s in segments]
        + [(s.start, 1, i, s.state) for i, segments in enumerate(timelines) for s in segments]
    )
    merged: list[Segment] = []
    cursor = start
    index = 0
    while index < len(changes):
        point = changes[index][0]
        if point > cursor and point <= end:
            _append(merged, cursor, point, _worst_of(counts))
            cursor = point
        while index < len(changes) and changes[index][0] == point:
            _, _, i, state = changes[index]
            counts[current[i]] -= 1
            counts[state] += 1
            current[i] = state
            index += 1
    if end > cursor:
        _append(merged, cursor, end, _worst_of(counts))
    return merged


def _worst_of(counts: dict[str, int]) -> State:
    for state in ("down", "degraded", "up"):
        if counts[state] > 0:
            return state
    return "unknown"


def _append(segments: list[Segment], lo: float, hi: float, state: State) -> None:
    if segments and segments[-1].state == state and segments[-1].end == lo:
        segments[-1] = Segment(segments[-1].start, hi, state)
    else:
        segments.append(Segment(lo, hi, state))


def _overlap(lo: float, hi: float, intervals: list[Interval]) -> float:
    total = 0.0
    for a, b in intervals:
        if b <= lo:
            continue
        if a >= hi:
            break
        total += min(hi, b) - max(lo, a)
    return total


@dataclass(frozen=True)
class Uptime:
    percent: float | None
    """None when nothing was known outside maintenance."""
    seconds: dict[str, float] = field(default_factory=dict)


def uptime(segments: list[Segment], maintenance: list[Interval]) -> Uptime:
    windows = merge(maintenance)
    seconds = {"up": 0.0, "degraded": 0.0, "down": 0.0, "unknown": 0.0, "maintenance": 0.0}
    for segment in segments:
        length = segment.end - segment.start
        covered = _overlap(segment.start, segment.end, windows)
        seconds[segment.state] += length - covered
        seconds["maintenance"] += covered
    known = seconds["up"] + seconds["degraded"] + seconds["down"]
    percent = None if known <= 0 else round(100.0 * (seconds["up"] + seconds["degraded"]) / known, 4)
    return Uptime(percent, seconds)


def observed_seconds(figure: Uptime) -> float:
    return sum(figure.seconds.get(state, 0.0) for state in ("up", "degraded", "down"))


def clip(segments: list[Segment], start: float, end: float) -> list[Segment]:
    return [Segment(max(s.start, start), min(s.end, end), s.state) for s in segments if s.end > start and s.start < end]


def daily(segments: list[Segment], maintenance: list[Interval], end: float, days: int) -> list[dict[str, object]]:
    """Uptime bars: one entry per UTC day, oldest first, the last one being the day of `end`."""
    last_midnight = end - end % DAY
    bars: list[dict[str, object]] = []
    for i in range(days - 1, -1, -1):
        lo = last_midnight - i * DAY
        hi = min(lo + DAY, end)
        part = clip(segments, lo, hi)
        result = uptime(part, [(max(a, lo), min(b, hi)) for a, b in maintenance if b > lo and a < hi])
        state = worst([s.state for s in part])
        bars.append({"day": lo, "uptime": result.percent, "worst": state})
    return bars
