"""Alertmanager `time_intervals`: times of day, weekdays, days of month, months and years, in a time zone."""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nightowl.core.errors import InvalidInput

_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}  # monday=0
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}

Range = tuple[int, int]


@dataclass(frozen=True)
class TimeInterval:
    """One entry of a named interval; every field that is set must match (empty means any)."""

    times: tuple[Range, ...] = ()  # minutes of day, [start, end)
    weekdays: tuple[Range, ...] = ()
    days_of_month: tuple[Range, ...] = ()
    months: tuple[Range, ...] = ()
    years: tuple[Range, ...] = ()
    location: str = "UTC"
    _zone: ZoneInfo = field(default=ZoneInfo("UTC"), compare=False, repr=False)

    def contains(self, timestamp: float) -> bool:
        moment = datetime.fromtimestamp(timestamp, self._zone)
        if self.times:
            minute = moment.hour * 60 + moment.minute
            if not any(start <= minute < end for start, end in self.times):
                return False
        if self.weekdays and not _in(moment.weekday(), self.weekdays):
            return False
        if self.days_of_month:
            length = calendar.monthrange(moment.year, moment.month)[1]
            if not any(_day_in(moment.day, r, length) for r in self.days_of_month):
                return False
        if self.months and not _in(moment.month, self.months):
            return False
        return not (self.years and not _in(moment.year, self.years))


def _in(value: int, ranges: Sequence[Range]) -> bool:
    return any(start <= value <= end for start, end in ranges)


def _day_in(day: int, bounds: Range, length: int) -> bool:
    """Negative days count from the end of the month (-1 is the last day)."""
    start, end = (b if b > 0 else length + b + 1 for b in bounds)
    return start <= day <= end


def in_any(intervals: Sequence[TimeInterval], timestamp: float) -> bool:
    return any(i.contains(timestamp) for i in intervals)


def _parse_time(text: str, where: str) -> int:
    try:
        hours, minutes = (int(p) for p in text.split(":"))
    except ValueError:
        raise InvalidInput(f"{where}: time {text!r} must be HH:MM", field=where) from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise InvalidInput(f"{where}: time {text!r} is out of range 00:00-24:00", field=where)
    return hours * 60 + minutes


def _parse_ranges(items: Sequence[Any], where: str, names: Mapping[str, int] | None, lo: int, hi: int) -> list[Range]:
    result: list[Range] = []
    for item in items:
        parts = str(item).split(":")
        if len(parts) > 2:
            raise InvalidInput(f"{where}: range {item!r} must be 'start:end' or a single value", field=where)
        bounds: list[int] = []
        for part in parts:
            key = part.strip().lower()
            if names is not None and key in names:
                bounds.append(names[key])
                continue
            try:
                bounds.append(int(key))
            except ValueError:
                raise InvalidInput(f"{where}: {part!r} is not a valid value", field=where) from None
        start, end = bounds[0], bounds[-1]
        for bound in (start, end):
            if not (lo <= bound <= hi) or bound == 0 and lo < 0:
                raise InvalidInput(f"{where}: {item!r} is out of range {lo}..{hi}", field=where)
        if (start > 0) == (end > 0) and start > end:
            raise InvalidInput(f"{where}: range {item!r} starts after it ends", field=where)
        result.append((start, end))
    return result


def parse_time_interval(spec: Mapping[str, Any], where: str) -> TimeInterval:
    times: list[Range] = []
    for i, t in enumerate(spec.get("times") or []):
        start = _parse_time(str(t.get("start_time", "")), f"{where}.times[{i}].start_time")
        end = _parse_time(str(t.get("end_time", "")), f"{where}.times[{i}].end_time")
        if start >= end:
            raise InvalidInput(f"{where}.times[{i}]: start_time must be before end_time", field=where)
        times.append((start, end))
    location = str(spec.get("location") or "UTC")
    try:
        zone = ZoneInfo("UTC" if location == "Local" else location)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{where}.location: unknown time zone {location!r}", field=where) from None
    unknown = set(spec) - {"times", "weekdays", "days_of_month", "months", "years", "location"}
    if unknown:
        raise InvalidInput(f"{where}: unknown keys {sorted(unknown)}", field=where)
    return TimeInterval(
        times=tuple(times),
        weekdays=tuple(
            (s, e)
            for s, e in _parse_ranges(
                [str(w).lower() for w in spec.get("weekdays") or []], f"{where}.weekdays", _WEEKDAYS, 0, 6
            )
        ),
        days_of_month=tuple(_parse_ranges(spec.get("days_of_month") or [], f"{where}.days_of_month", None, -31, 31)),
        months=tuple(_parse_ranges(spec.get("months") or [], f"{where}.months", _MONTHS, 1, 12)),
        years=tuple(_parse_ranges(spec.get("years") or [], f"{where}.years", None, 1, 9999)),
        location=location,
        _zone=zone,
    )


def parse_time_intervals(items: Sequence[Mapping[str, Any]]) -> dict[str, list[TimeInterval]]:
    """`time_intervals:` (or legacy `mute_time_intervals:`) -> name -> intervals."""
    result: dict[str, list[TimeInterval]] = {}
    for i, item in enumerate(items):
        name = str(item.get("name") or "")
        if not name:
            raise InvalidInput(f"time_intervals[{i}]: name is required", field="time_intervals")
        if name in result:
            raise InvalidInput(f"time_intervals: duplicate name {name!r}", field="time_intervals")
        result[name] = [
            parse_time_interval(spec, f"time_intervals[{name}][{j}]")
            for j, spec in enumerate(item.get("time_intervals") or [])
        ]
    return result
