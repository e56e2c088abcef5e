"""The pure lifecycle: pending -> firing -> resolved, `for`, `keep_firing_for`, resolved retention."""

from __future__ import annotations

from nightowl.alerting.state import FIRING, PENDING, RESOLVED, Found, Instance, step

F = Found("fp1", {"alertname": "A"}, {}, 1.0)


def run(states: dict[str, Instance], found: list[Found], now: float) -> tuple[dict[str, Instance], list[str]]:
    out, moves = step("r", states, found, now, for_s=60, keep_firing_for_s=0)
    return out, [f"{m.from_state}->{m.to_state}" for m in moves]


def test_pending_that_disappears_goes_back_to_inactive() -> None:
    s, moves = run({}, [F], 0)
    assert s["fp1"].state == PENDING and moves == ["inactive->pending"]
    s, moves = run(s, [], 30)
    assert s == {} and moves == ["pending->inactive"]


def test_firing_resolves_and_is_kept_15_minutes_then_forgotten() -> None:
    s, _ = run({}, [F], 0)
    s, moves = run(s, [F], 60)
    assert s["fp1"].state == FIRING and s["fp1"].fired_at == 60 and moves == ["pending->firing"]
    s, moves = run(s, [], 120)
    assert s["fp1"].state == RESOLVED and moves == ["firing->resolved"]
    s, _ = run(s, [], 120 + 14 * 60)
    assert "fp1" in s
    s, _ = run(s, [], 120 + 15 * 60)
    assert s == {}


def test_for_zero_fires_at_once_and_a_resolved_alert_returns_as_pending() -> None:
    s, moves = step("r", {}, [F], 0, 0, 0)
    assert s["fp1"].state == FIRING and [m.to_state for m in moves] == [PENDING, FIRING]
    s, _ = step("r", s, [], 10, 0, 0)
    s, moves = step("r", s, [F], 20, 60, 0)
    assert s["fp1"].state == PENDING and s["fp1"].active_at == 20


def test_keep_firing_for_counts_from_the_first_missing_evaluation() -> None:
    s, _ = step("r", {}, [F], 0, 0, 30)
    s, _ = step("r", s, [], 10, 0, 30)
    assert s["fp1"].state == FIRING and s["fp1"].keep_firing_since == 10
    s, _ = step("r", s, [], 39, 0, 30)
    assert s["fp1"].state == FIRING
    s, _ = step("r", s, [], 40, 0, 30)
    assert s["fp1"].state == RESOLVED
