"""Escalation policies as a pure state machine: ordered levels, each notified in turn until someone acks.

Level 1 is notified when the escalation starts; if nobody acknowledges within its `delay`, the next
level is notified, and so on. After the last level the cycle starts over `repeat` times, then the
escalation is exhausted. Acknowledgement and resolution stop it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from nightowl.core.errors import InvalidInput
from nightowl.routing.alert import Alert
from nightowl.routing.durations import parse_duration
from nightowl.routing.matchers import Matcher, matches_all, parse_matchers

OPEN, ACKNOWLEDGED, RESOLVED, EXHAUSTED = "open", "acknowledged", "resolved", "exhausted"


@dataclass(frozen=True)
class Level:
    receivers: tuple[str, ...]
    delay: float  # how long this level has to acknowledge before the next one is notified


@dataclass(frozen=True)
class EscalationPolicy:
    id: str
    name: str
    matchers: tuple[Matcher, ...]
    levels: tuple[Level, ...]
    repeat: int = 0
    auto_resolve: bool = True

    def applies_to(self, alert: Alert) -> bool:
        return matches_all(self.matchers, alert.labels)


@dataclass(frozen=True)
class Escalation:
    id: str
    policy_id: str
    fingerprint: str
    alert: Alert
    level: int
    cycle: int
    next_at: float | None
    status: str
    started_at: float
    acknowledged_by: str | None = None


@dataclass(frozen=True)
class Step:
    """Notify these receivers: the escalation reached `level` (0-based) in `cycle`."""

    level: int
    cycle: int
    receivers: tuple[str, ...]


def start(escalation_id: str, policy: EscalationPolicy, alert: Alert, now: float) -> tuple[Escalation, Step]:
    first = policy.levels[0]
    escalation = Escalation(escalation_id, policy.id, alert.fingerprint, alert, 0, 0, now + first.delay, OPEN, now)
    return escalation, Step(0, 0, first.receivers)


def advance(escalation: Escalation, policy: EscalationPolicy, now: float) -> tuple[Escalation, list[Step]]:
    """Move through every level whose time has come (several, if the job was late)."""
    steps: list[Step] = []
    current = escalation
    while current.status == OPEN and current.next_at is not None and current.next_at <= now:
        due = current.next_at
        level, cycle = current.level + 1, current.cycle
        if level >= len(policy.levels):
            if cycle >= policy.repeat:
                current = replace(current, status=EXHAUSTED, next_at=None)
                break
            level, cycle = 0, cycle + 1
        target = policy.levels[level]
        current = replace(current, level=level, cycle=cycle, next_at=due + target.delay)
        steps.append(Step(level, cycle, target.receivers))
    return current, steps


def notified_receivers(escalation: Escalation, policy: EscalationPolicy) -> list[str]:
    """Everyone told so far: they hear about the acknowledgement or the resolution."""
    last = len(policy.levels) - 1 if escalation.cycle > 0 else min(escalation.level, len(policy.levels) - 1)
    names: list[str] = []
    for level in policy.levels[: last + 1]:
        names.extend(r for r in level.receivers if r not in names)
    return names


def parse_policy(policy_id: str, spec: Mapping[str, Any]) -> EscalationPolicy:
    name = str(spec.get("name") or "").strip()
    if not name:
        raise InvalidInput("name is required", field="name")
    raw_levels: Sequence[Any] = spec.get("levels") or []
    if not raw_levels:
        raise InvalidInput("a policy needs at least one level", field="levels")
    levels = []
    for i, raw in enumerate(raw_levels):
        receivers = tuple(str(r) for r in raw.get("receivers") or [])
        if not receivers:
            raise InvalidInput(f"levels[{i}]: at least one receiver is required", field=f"levels[{i}].receivers")
        delay = parse_duration(raw.get("delay", "5m"), f"levels[{i}].delay")
        if delay <= 0:
            raise InvalidInput(f"levels[{i}].delay must be greater than 0", field=f"levels[{i}].delay")
        levels.append(Level(receivers, delay))
    repeat = spec.get("repeat", 0)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or not 0 <= repeat <= 100:
        raise InvalidInput("repeat must be an integer from 0 to 100", field="repeat")
    return EscalationPolicy(
        policy_id,
        name,
        tuple(parse_matchers(str(spec.get("matchers") or "{}"))),
        tuple(levels),
        repeat,
        bool(spec.get("auto_resolve", True)),
    )


SEED_POLICIES = (
    {
        "name": "critical",
        "matchers": '{severity="critical"}',
        "levels": [
            {"receivers": ["on-call"], "delay": "5m"},
            {"receivers": ["team-lead"], "delay": "15m"},
            {"receivers": ["engineering-manager"], "delay": "30m"},
        ],
        "repeat": 1,
    },
    {
        "name": "error",
        "matchers": '{severity="error"}',
        "levels": [{"receivers": ["on-call"], "delay": "15m"}, {"receivers": ["team-lead"], "delay": "1h"}],
        "repeat": 0,
    },
)


def policy_to_dict(policy: EscalationPolicy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "name": policy.name,
        "matchers": "{" + ", ".join(str(m) for m in policy.matchers) + "}",
        "levels": [{"receivers": list(level.receivers), "delay": level.delay} for level in policy.levels],
        "repeat": policy.repeat,
        "auto_resolve": policy.auto_resolve,
    }
