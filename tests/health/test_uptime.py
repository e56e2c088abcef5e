"""Uptime from the transition log: exact intervals, worst-of for services, maintenance left out."""

from __future__ import annotations

import pytest

from nightowl.health.maintenance import MaintenanceSpec, merge, occurrences
from nightowl.health.uptime import DAY, Segment, daily, timeline, uptime, worst_timeline


def test_timeline_starts_from_the_state_before_the_window() -> None:
    changes = [(50.0, "up"), (150.0, "down"), (170.0, "up")]
    assert timeline(changes, 100, 200) == [Segment(100, 150, "up"), Segment(150, 170, "down"), Segment(170, 200, "up")]
    assert timeline([(150.0, "up")], 100, 200) == [Segment(100, 150, "unknown"), Segment(150, 200, "up")]


def test_uptime_counts_degraded_as_available_and_ignores_unknown() -> None:
    segments = [Segment(0, 10, "unknown"), Segment(10, 70, "up"), Segment(70, 85, "degraded"), Segment(85, 110, "down")]
    result = uptime(segments, [])
    assert result.percent == pytest.approx(75.0)
    assert result.seconds["unknown"] == 10


def test_maintenance_is_left_out_of_both_sides() -> None:
    segments = [Segment(0, 100, "up"), Segment(100, 200, "down")]
    assert uptime(segments, []).percent == 50.0
    assert uptime(segments, [(100, 180)]).percent == pytest.approx(100 * 100 / 120)
    assert uptime(segments, [(100, 200)]).percent == 100.0
    assert uptime(segments, [(0, 200)]).percent is None


def test_a_service_is_as_bad_as_its_worst_check() -> None:
    a = [Segment(0, 50, "up"), Segment(50, 100, "down")]
    b = [Segment(0, 20, "degraded"), Segment(20, 100, "up")]
    assert worst_timeline([a, b], 0, 100) == [
        Segment(0, 20, "degraded"),
        Segment(20, 50, "up"),
        Segment(50, 100, "down"),
    ]


def test_daily_bars_one_per_utc_day() -> None:
    end = 10 * DAY + 3600
    bars = daily([Segment(0, 9 * DAY + 43200, "up"), Segment(9 * DAY + 43200, end, "down")], [], end, 3)
    assert [b["day"] for b in bars] == [8 * DAY, 9 * DAY, 10 * DAY]
    assert [b["uptime"] for b in bars] == [100.0, 50.0, 0.0]
    assert [b["worst"] for b in bars] == ["up", "down", "down"]


def test_recurring_window_expands_in_its_time_zone() -> None:
    spec = MaintenanceSpec(name="backups", starts_at=0, cron="0 2 * * 0", duration=7200, tz="Europe/Berlin")
    found = occurrences(spec, 1_700_000_000, 1_700_000_000 + 14 * DAY)
    assert len(found) == 2
    assert all(e - s == 7200 for s, e in found)
    assert found[0][0] == 1_700_355_600  # Sunday 19 Nov 2023 02:00 CET = 01:00 UTC


def test_one_off_window_is_clipped_to_the_range() -> None:
    spec = MaintenanceSpec(name="move", starts_at=100, ends_at=300)
    assert occurrences(spec, 200, 1000) == [(200, 300)]
    assert occurrences(spec, 300, 1000) == []
    assert merge([(0, 10), (5, 20), (30, 40)]) == [(0, 20), (30, 40)]


def test_window_shapes_are_validated() -> None:
    with pytest.raises(ValueError, match="needs `ends_at` after"):
        MaintenanceSpec(name="x", starts_at=10, ends_at=5)
    with pytest.raises(ValueError, match="needs `duration`"):
        MaintenanceSpec(name="x", starts_at=10, cron="0 * * * *")


async def test_old_transitions_are_pruned_but_the_current_state_is_kept(manual_runs, client, clock) -> None:
    app = manual_runs
    from sqlalchemy import select

    from nightowl.health import store
    from nightowl.health.model import CheckResult
    from nightowl.health.tables import health_transitions

    check = (await client.post("/api/v1/checks", json={"name": "old", "type": "tcp", "target": "127.0.0.1:1"})).json()
    runner = app.state.nightowl.checks
    for outcome in ("up", "down"):
        runner.apply(runner.checks[check["id"]], CheckResult(check["id"], clock.now(), outcome, 0.01, None))
        clock.advance(60)
    await runner.flush()
    clock.advance(500 * DAY)
    engine = app.state.nightowl.engine
    assert store.prune_transitions(engine, clock.now()) == 1
    with engine.connect() as conn:
        assert [r.state for r in conn.execute(select(health_transitions))] == ["down"]


def test_worst_timeline_matches_a_point_by_point_reading() -> None:
    import random

    from nightowl.health.model import worst

    rnd = random.Random(7)
    states = ["up", "degraded", "down", "unknown"]
    for _ in range(50):
        timelines = []
        for _ in range(rnd.randint(1, 5)):
            changes = sorted((float(rnd.randint(0, 100)), rnd.choice(states)) for _ in range(rnd.randint(0, 8)))
            timelines.append(timeline(changes, 10, 90))
        merged = worst_timeline(timelines, 10, 90)
        assert merged[0].start == 10 and merged[-1].end == 90
        for x in [10 + i * 0.5 + 0.25 for i in range(160)]:
            expected = worst([next(s.state for s in t if s.start <= x < s.end) for t in timelines])
            assert next(s.state for s in merged if s.start <= x < s.end) == expected


async def test_uptime_counts_only_the_time_a_check_was_observed(make_settings, clock) -> None:
    """Issue #14: a check down when Nightowl stopped counted as down for all the time it was stopped."""
    from nightowl.health.model import CheckResult
    from tests.support.apps import admin_client, running_app

    async def result(app, check_id: str, outcome: str) -> None:
        runner = app.state.nightowl.checks
        runner.apply(runner.checks[check_id], CheckResult(check_id, clock.now(), outcome, 0.01, None))
        await runner.flush()

    async with running_app(make_settings, clock) as app:
        app.state.nightowl.scheduler.remove("health-checks")
        async with admin_client(app) as client:
            body = {"name": "web", "type": "tcp", "target": "127.0.0.1:1", "interval": 60}
            body |= {"failures_to_down": 1, "successes_to_recover": 1}
            check = (await client.post("/api/v1/checks", json=body)).json()["id"]
        await result(app, check, "up")
        clock.advance(60)
        await result(app, check, "down")  # down when it stopped, observed for one interval
    clock.advance(30 * DAY)  # stopped for a month
    async with running_app(make_settings, clock) as app:
        app.state.nightowl.scheduler.remove("health-checks")
        for _ in range(3):  # still down, then up for the rest of the day
            await result(app, check, "down")
            clock.advance(60)
        await result(app, check, "up")
        clock.advance(DAY - 180)
        await result(app, check, "up")
        async with admin_client(app) as client:
            figures = (await client.get(f"/api/v1/checks/{check}/uptime")).json()
    # observed: 60 s up + 60 s down before the stop, 180 s down + ~a day up after it
    observed_down, observed_up = 240, 60 + DAY - 180
    assert figures["uptime"]["1y"] == pytest.approx(100 * observed_up / (observed_up + observed_down), abs=1e-3)
    assert figures["uptime"]["7d"] == pytest.approx(100 * (DAY - 180) / DAY, abs=1e-3)
