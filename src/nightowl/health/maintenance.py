"""Maintenance windows: one-off (start, end) or recurring (cron + duration, from `starts_at` until
`ends_at`), over some services and checks or over everything. A window may lie in the past: marking a
period as maintenance after the fact keeps uptime figures honest.

Pure functions: which periods a window covers within a range, and whether it covers a check now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter  # type: ignore[import-untyped,unused-ignore]
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nightowl.health.model import Check

Interval = tuple[float, float]
MAX_OCCURRENCES = 10_000
"""Occurrences of a recurring window expanded for one range; a bound on work, not on correctness
for any sane schedule (hourly windows over a year are 8,760)."""


class MaintenanceSpec(BaseModel):
    """What `POST /api/v1/health/maintenance` takes: one call creates a one-off or recurring window."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200)
    starts_at: float = Field(..., description="Unix time the window (or its recurrence) starts.")
    ends_at: float | None = Field(None, description="One-off: end. Recurring: last possible start (optional).")
    cron: str | None = Field(None, description="Recurring: when each occurrence starts.")
    duration: float | None = Field(None, gt=0, le=31 * 86400, description="Recurring: seconds each lasts.")
    tz: str = "UTC"
    services: list[str] = Field(default_factory=list, description="Services covered; empty with no checks: all.")
    checks: list[str] = Field(default_factory=list, description="Check ids or names covered.")
    note: str = ""

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceSpec:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"tz {self.tz!r} is not a known time zone") from None
        if self.cron is None:
            if self.duration is not None:
                raise ValueError("`duration` is for recurring windows; a one-off window has `ends_at`")
            if self.ends_at is None or self.ends_at <= self.starts_at:
                raise ValueError("a one-off window needs `ends_at` after `starts_at`")
            return self
        if not croniter.is_valid(self.cron):
            raise ValueError(f"cron {self.cron!r} is not a valid cron expression")
        if self.duration is None:
            raise ValueError("a recurring window needs `duration` (seconds)")
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("`ends_at` must be after `starts_at`")
        return self


@dataclass(frozen=True)
class MaintenanceWindow:
    id: str
    spec: MaintenanceSpec
    created_at: float


def occurrences(spec: MaintenanceSpec, start: float, end: float) -> list[Interval]:
    """The periods of the window that overlap [start, end], clipped to it."""
    if spec.cron is None:
        assert spec.ends_at is not None
        lo, hi = max(spec.starts_at, start), min(spec.ends_at, end)
        return [(lo, hi)] if lo < hi else []
    assert spec.duration is not None
    first = max(spec.starts_at, start - spec.duration)
    last = end if spec.ends_at is None else min(end, spec.ends_at)
    # get_next is strictly after its start: start a second early so an occurrence at `first` counts.
    it = croniter(spec.cron, datetime.fromtimestamp(first - 1, ZoneInfo(spec.tz)))
    found: list[Interval] = []
    while len(found) < MAX_OCCURRENCES:
        begin = it.get_next(datetime).timestamp()
        if begin > last:
            break
        found.append((begin, begin + spec.duration))
    return [(max(s, start), min(e, end)) for s, e in found if s < end and e > start and s >= spec.starts_at]


def covers(spec: MaintenanceSpec, check: Check) -> bool:
    if not spec.services and not spec.checks:
        return True
    if check.id in spec.checks or check.spec.name in spec.checks:
        return True
    return check.spec.service is not None and check.spec.service in spec.services


def active_window(windows: list[MaintenanceWindow], check: Check, at: float) -> MaintenanceWindow | None:
    """A window covering `check` at `at`, or None."""
    for window in windows:
        if covers(window.spec, check) and occurrences(window.spec, at, at + 1e-6):
            return window
    return None


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of intervals."""
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
