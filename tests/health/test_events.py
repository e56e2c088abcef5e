"""The CheckEvents hook: listeners run in order; one failing listener does not stop the others."""

from __future__ import annotations

from nightowl.health.events import CheckEvent, CheckEvents


def event() -> CheckEvent:
    return CheckEvent("check.down", "id", "db", "tcp", "db", 1.0, "up", "down", "refused", False, None)


def test_a_failing_listener_does_not_stop_the_others() -> None:
    seen: list[str] = []
    events = CheckEvents()

    def broken(_event: CheckEvent) -> None:
        raise RuntimeError("boom")

    events.subscribe(broken)
    events.subscribe(lambda e: seen.append(e.kind))
    events.publish(event())
    assert seen == ["check.down"]
