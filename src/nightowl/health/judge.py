"""The tri-state judge: a probe becomes up/degraded/down, and results move the state with flapping control.

Pure functions over data: the runner feeds them results and stores what they return.
"""

from __future__ import annotations

from dataclasses import replace

from nightowl.health.model import CheckResult, CheckState, Outcome, Probe, State, Transition
from nightowl.health.spec import CheckSpec


def classify(spec: CheckSpec, probe: Probe) -> tuple[Outcome, str | None]:
    """Outcome of one probe: down when it failed, degraded when slow or a soft assertion failed."""
    if not probe.ok:
        return "down", probe.error or "failed"
    reasons = list(probe.soft_failures)
    if spec.degraded_latency is not None and probe.latency is not None and probe.latency > spec.degraded_latency:
        reasons.append(f"latency {probe.latency * 1000:.0f} ms is above {spec.degraded_latency * 1000:.0f} ms")
    if probe.error and not reasons:
        reasons.append(probe.error)
    if reasons:
        return "degraded", "; ".join(reasons)
    return "up", None


def advance(
    current: CheckState, result: CheckResult, failures_to_down: int, successes_to_recover: int
) -> tuple[CheckState, Transition | None]:
    """Apply one result. Down needs `failures_to_down` failures in a row; leaving down needs
    `successes_to_recover` passing runs in a row. Up and degraded follow each passing run directly."""
    failing = result.outcome == "down"
    failures = current.failures + 1 if failing else 0
    successes = 0 if failing else current.successes + 1
    target: State = current.state
    if failing:
        if failures >= failures_to_down:
            target = "down"
    elif current.state != "down" or successes >= successes_to_recover:
        target = result.outcome
    updated = replace(
        current,
        failures=failures,
        successes=successes,
        last_run_at=result.at,
        last_outcome=result.outcome,
        last_latency=result.latency,
        last_error=result.error,
        tls_expiry=result.tls_expiry if result.tls_expiry is not None else current.tls_expiry,
    )
    return move(updated, target, result.at, result.error or "passing", result.check_id)


def move(
    current: CheckState, target: State, at: float, reason: str, check_id: str
) -> tuple[CheckState, Transition | None]:
    """Set the state; a transition is returned only when it changed."""
    if target == current.state:
        return current, None
    transition = Transition(check_id=check_id, at=at, previous=current.state, state=target, reason=reason)
    return replace(current, state=target, since=at), transition
