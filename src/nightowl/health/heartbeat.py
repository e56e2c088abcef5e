"""The heartbeat judge, as Healthchecks does it: is a cron job or worker on time, late, or down?

A pure function of (schedule, grace, last pings, now). A heartbeat is `new` until its first ping,
`down` right after a failure ping, and otherwise up until its next expected ping, late (degraded)
during the grace time after it, and down once the grace time has passed. A `/start` ping opens a run:
the run must finish (success or failure ping) within the grace time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from croniter import croniter  # type: ignore[import-untyped,unused-ignore]

from nightowl.health.model import State

HeartbeatStatus = Literal["new", "up", "late", "down"]
PingKind = Literal["success", "start", "fail"]
AS_STATE: dict[HeartbeatStatus, State] = {"new": "unknown", "up": "up", "late": "degraded", "down": "down"}


@dataclass(frozen=True)
class Schedule:
    period: float | None
    cron: str | None
    tz: str
    grace: float


@dataclass(frozen=True)
class LastPings:
    """The latest ping of each kind (Unix seconds), or None."""

    success: float | None = None
    start: float | None = None
    fail: float | None = None

    def record(self, kind: PingKind, at: float) -> LastPings:
        return LastPings(
            success=at if kind == "success" else self.success,
            start=at if kind == "start" else self.start,
            fail=at if kind == "fail" else self.fail,
        )

    @property
    def last_finish(self) -> float | None:
        finishes = [t for t in (self.success, self.fail) if t is not None]
        return max(finishes) if finishes else None


@dataclass(frozen=True)
class Verdict:
    status: HeartbeatStatus
    reason: str
    next_due: float | None
    """When the next ping is expected (None for new heartbeats and open-ended states)."""


def next_expected(schedule: Schedule, after: float) -> float:
    """When the ping after one at `after` is due."""
    if schedule.period is not None:
        return after + schedule.period
    assert schedule.cron is not None
    start = datetime.fromtimestamp(after, ZoneInfo(schedule.tz))
    due: datetime = croniter(schedule.cron, start).get_next(datetime)
    return due.timestamp()


def judge(schedule: Schedule, pings: LastPings, now: float) -> Verdict:
    finish = pings.last_finish
    if pings.start is not None and (finish is None or pings.start > finish):
        deadline = pings.start + schedule.grace
        if now > deadline:
            return Verdict("down", f"run started at {pings.start:.0f} did not finish within {schedule.grace:g}s", None)
        return Verdict("up", "running", deadline)
    if finish is None:
        return Verdict("new", "no ping yet", None)
    if pings.fail is not None and pings.fail == finish:
        return Verdict("down", "the last run reported a failure", None)
    assert pings.success is not None
    due = next_expected(schedule, pings.success)
    if now <= due:
        return Verdict("up", "on time", due)
    if now <= due + schedule.grace:
        return Verdict("late", f"ping expected at {due:.0f} is late", due)
    return Verdict(
        "down", f"no ping since {pings.success:.0f} (expected by {due:.0f} + {schedule.grace:g}s grace)", due
    )
