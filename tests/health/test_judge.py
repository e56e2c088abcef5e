"""Tri-state and flapping control: N failures in a row to go down, M passing runs to recover."""

from __future__ import annotations

from nightowl.health.judge import advance
from nightowl.health.model import CheckResult, CheckState, Outcome, State


def run(outcomes: list[Outcome], failures_to_down: int = 3, successes_to_recover: int = 2) -> list[State]:
    state = CheckState()
    seen: list[State] = []
    for i, outcome in enumerate(outcomes):
        result = CheckResult("c", float(i), outcome, 0.01, None if outcome == "up" else "boom")
        state, _ = advance(state, result, failures_to_down, successes_to_recover)
        seen.append(state.state)
    return seen


def test_first_passing_run_sets_the_state() -> None:
    assert run(["up"]) == ["up"]
    assert run(["degraded"]) == ["degraded"]


def test_down_needs_n_consecutive_failures() -> None:
    assert run(["up", "down", "down", "up", "down", "down", "down"]) == ["up", "up", "up", "up", "up", "up", "down"]


def test_recovery_needs_m_consecutive_successes() -> None:
    states = run(["down", "down", "down", "up", "down", "up", "up"])
    assert states == ["unknown", "unknown", "down", "down", "down", "down", "up"]


def test_degraded_runs_count_as_passing_and_as_degraded() -> None:
    assert run(["up", "degraded", "up"]) == ["up", "degraded", "up"]
    assert run(["down", "down", "down", "degraded", "degraded"]) == ["unknown", "unknown", "down", "down", "degraded"]


def test_transitions_name_their_event() -> None:
    state = CheckState(state="up")
    state, transition = advance(state, CheckResult("c", 1.0, "down", None, "refused"), 1, 1)
    assert transition is not None and transition.event == "check.down" and transition.reason == "refused"
    state, transition = advance(state, CheckResult("c", 2.0, "degraded", 0.5, "slow"), 1, 1)
    assert transition is not None and transition.event == "check.recovered"
    state, transition = advance(state, CheckResult("c", 3.0, "up", 0.1, None), 1, 1)
    assert transition is not None and transition.event == "check.recovered" and state.since == 3.0
    _, transition = advance(state, CheckResult("c", 4.0, "degraded", 0.5, "slow"), 1, 1)
    assert transition is not None and transition.event == "check.degraded"
