"""Plain data of health checking: a check, one probe's outcome, the judged state and its transitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from nightowl.health.spec import CheckSpec

State = Literal["unknown", "up", "degraded", "down"]
Outcome = Literal["up", "degraded", "down"]
EventKind = Literal["check.down", "check.degraded", "check.recovered"]

STATE_VALUES: dict[str, float] = {"up": 0.0, "degraded": 1.0, "down": 2.0, "unknown": -1.0}
"""`nightowl_check_state` values; worse is larger, as in `nightowl_component_status`."""

SEVERITY: dict[str, int] = {"unknown": 0, "up": 1, "degraded": 2, "down": 3}


def worst(states: list[State]) -> State:
    """The worst of several states; `unknown` only when nothing is known."""
    known = [s for s in states if s != "unknown"]
    return max(known, key=SEVERITY.__getitem__) if known else "unknown"


@dataclass(frozen=True)
class Check:
    """A stored check: its definition plus identity. `source` is `api` or `config` (read-only)."""

    id: str
    spec: CheckSpec
    source: str
    ping_uuid: str | None
    created_at: float


@dataclass(frozen=True)
class Probe:
    """What a checker saw, before thresholds are applied. `latency` covers the I/O only (seconds)."""

    ok: bool
    latency: float | None = None
    error: str | None = None
    soft_failures: tuple[str, ...] = ()
    tls_expiry: float | None = None
    detail: dict[str, str | int | float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    """One judged run: the probe with its outcome (up, degraded or down) and when it ran."""

    check_id: str
    at: float
    outcome: Outcome
    latency: float | None
    error: str | None
    tls_expiry: float | None = None
    detail: dict[str, str | int | float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckState:
    """The state a check is in, with the counters flapping control needs."""

    state: State = "unknown"
    since: float = 0.0
    failures: int = 0
    successes: int = 0
    last_run_at: float | None = None
    last_outcome: Outcome | None = None
    last_latency: float | None = None
    last_error: str | None = None
    tls_expiry: float | None = None


@dataclass(frozen=True)
class Transition:
    """A change of state. `suppressed` transitions are recorded but must not notify anyone."""

    check_id: str
    at: float
    previous: State
    state: State
    reason: str
    suppressed: bool = False
    suppressed_by: str | None = None

    @property
    def event(self) -> EventKind | None:
        if self.state == "down":
            return "check.down"
        if self.previous == "down" or (self.previous == "degraded" and self.state == "up"):
            return "check.recovered"
        if self.state == "degraded":
            return "check.degraded"
        return None
