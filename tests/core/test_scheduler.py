from __future__ import annotations

import asyncio
import random

import pytest

from nightowl.core.clock import ManualClock
from nightowl.core.scheduler import Job, Scheduler, next_cron_time, scheduled_time


def make_scheduler(clock: ManualClock) -> Scheduler:
    return Scheduler(clock, rng=random.Random(7))


async def test_interval_job_runs_when_due_and_not_before() -> None:
    clock = ManualClock(1000.0)
    scheduler = make_scheduler(clock)
    runs: list[float] = []
    scheduler.add(Job("tick", lambda: runs.append(clock.now()), interval=60))

    assert scheduler.run_due() == []
    clock.advance(59)
    assert scheduler.run_due() == []
    clock.advance(1)
    assert scheduler.run_due() == ["tick"]
    await scheduler.wait_idle()
    assert runs == [1060.0]
    status = scheduler.statuses()[0]
    assert status.runs == 1 and status.last_run == 1060.0 and status.last_error is None
    assert status.next_run == 1120.0


async def test_interval_jobs_keep_a_fixed_rate_and_know_their_slot() -> None:
    """A run that starts late neither pushes the next ones back nor loses its slot time."""
    clock = ManualClock(1000.0)
    scheduler = make_scheduler(clock)
    seen: list[tuple[float, float | None]] = []
    scheduler.add(Job("eval", lambda: seen.append((clock.now(), scheduled_time())), interval=15))

    clock.advance(15.4)  # the loop woke 0.4 s late
    scheduler.run_due()
    await scheduler.wait_idle()
    clock.advance(14.6)
    scheduler.run_due()
    await scheduler.wait_idle()
    assert seen == [(1015.4, 1015.0), (1030.0, 1030.0)]

    clock.advance(47)  # three slots missed: one run, at the latest slot, and the rate goes on
    scheduler.run_due()
    await scheduler.wait_idle()
    assert seen[-1] == (1077.0, 1075.0)
    assert scheduler.statuses()[0].next_run == 1090.0
    assert scheduled_time() is None  # outside a job

    await scheduler.run_now("eval")
    assert seen[-1] == (1077.0, 1077.0)  # a run by hand is due when it starts


async def test_cron_job_fires_at_the_next_matching_minute() -> None:
    clock = ManualClock(1_700_000_000.0)  # 2023-11-14 22:13:20 UTC
    scheduler = make_scheduler(clock)
    scheduler.add(Job("hourly", lambda: None, cron="0 * * * *"))
    assert scheduler.statuses()[0].next_run == 1_700_002_800.0  # 23:00:00
    assert next_cron_time("*/5 * * * *", 1_700_000_000.0) == 1_700_000_100.0


async def test_running_job_is_not_started_twice_and_the_skip_is_counted() -> None:
    clock = ManualClock(0.0)
    scheduler = make_scheduler(clock)
    release = asyncio.Event()
    started = 0

    async def slow() -> None:
        nonlocal started
        started += 1
        await release.wait()

    scheduler.add(Job("slow", slow, interval=10, timeout=1000))
    clock.advance(10)
    assert scheduler.run_due() == ["slow"]
    await asyncio.sleep(0)
    clock.advance(10)
    assert scheduler.run_due() == []
    release.set()
    await scheduler.wait_idle()
    status = scheduler.statuses()[0]
    assert started == 1 and status.skipped_overlaps == 1 and status.runs == 1


async def test_a_triggered_job_runs_at_once_and_again_after_a_run_in_progress() -> None:
    clock = ManualClock(0.0)
    scheduler = make_scheduler(clock)
    release = asyncio.Event()
    runs: list[float] = []

    async def flush() -> None:
        runs.append(clock.now())
        await release.wait()

    scheduler.add(Job("flush", flush, interval=60, timeout=1000))
    scheduler.trigger("flush")
    assert scheduler.run_due() == ["flush"]  # not due for 60 s, but there is work
    await asyncio.sleep(0)
    scheduler.trigger("flush")  # more work while it runs: once more afterwards, not counted as a skip
    assert scheduler.run_due() == []
    release.set()
    await scheduler.wait_idle()
    assert scheduler.run_due() == ["flush"]
    await scheduler.wait_idle()
    status = scheduler.statuses()[0]
    assert runs == [0.0, 0.0] and status.skipped_overlaps == 0 and status.next_run == 60.0
    scheduler.trigger("gone")  # an unknown job is ignored


async def test_a_job_with_an_offset_runs_at_its_point_of_every_interval() -> None:
    clock = ManualClock(1000.0)
    scheduler = make_scheduler(clock)
    scheduler.add(Job("group", lambda: None, interval=15, offset=7, run_at_start=True))
    assert scheduler.statuses()[0].next_run == 1012.0  # 1012 = 67 x 15 + 7
    clock.advance(12.5)  # the loop woke a little late
    assert scheduler.run_due() == ["group"]
    await scheduler.wait_idle()
    assert scheduler.statuses()[0].next_run == 1027.0  # no drift


async def test_timeout_and_failure_are_recorded_as_last_error() -> None:
    clock = ManualClock(0.0)
    scheduler = make_scheduler(clock)

    async def hangs() -> None:
        await asyncio.Event().wait()

    def fails() -> None:
        raise RuntimeError("disk on fire")

    scheduler.add(Job("hangs", hangs, interval=5, timeout=0.01))
    scheduler.add(Job("fails", fails, interval=5))
    await scheduler.run_now("hangs")
    await scheduler.run_now("fails")
    by_name = {s.name: s for s in scheduler.statuses()}
    assert by_name["hangs"].last_error == "timed out after 0.01s"
    assert by_name["fails"].last_error == "RuntimeError: disk on fire"
    assert by_name["fails"].failures == 1 and by_name["fails"].last_success is None


async def test_jitter_delays_the_next_run_within_its_bound() -> None:
    clock = ManualClock(0.0)
    scheduler = make_scheduler(clock)
    scheduler.add(Job("spread", lambda: None, interval=60, jitter=15))
    next_run = scheduler.statuses()[0].next_run
    assert 60.0 <= next_run <= 75.0


async def test_background_loop_runs_jobs_as_the_clock_moves() -> None:
    clock = ManualClock(0.0)
    scheduler = make_scheduler(clock)
    runs: list[float] = []

    async def record() -> None:
        runs.append(clock.now())

    scheduler.add(Job("rec", record, interval=30))
    scheduler.start()
    try:
        for _ in range(3):
            await asyncio.sleep(0)
        clock.advance(30)
        for _ in range(10):
            await asyncio.sleep(0)
        await scheduler.wait_idle()
        assert runs == [30.0]
    finally:
        await scheduler.stop()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"interval": 5, "cron": "* * * * *"}, "exactly one"),
        ({"interval": 0}, "interval must be > 0"),
        ({"cron": "not cron"}, "invalid cron"),
    ],
)
def test_invalid_job_definitions_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Job("bad", lambda: None, **kwargs)  # type: ignore[arg-type]
