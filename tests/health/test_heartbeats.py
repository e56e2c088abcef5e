"""Heartbeats as Healthchecks does them: on time, late within the grace time, down after it; failure
pings, start pings and run durations; ping URLs need no authentication. Time is a manual clock."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from nightowl.health.heartbeat import LastPings, Schedule, judge, next_expected

HOUR = 3600.0
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def test_period_heartbeat_is_up_then_late_then_down() -> None:
    schedule = Schedule(period=HOUR, cron=None, tz="UTC", grace=300)
    pings = LastPings(success=T0)
    assert judge(schedule, pings, T0 + HOUR).status == "up"
    assert judge(schedule, pings, T0 + HOUR + 1).status == "late"
    assert judge(schedule, pings, T0 + HOUR + 300).status == "late"
    verdict = judge(schedule, pings, T0 + HOUR + 301)
    assert verdict.status == "down" and verdict.next_due == T0 + HOUR


def test_new_until_the_first_ping() -> None:
    assert judge(Schedule(60, None, "UTC", 0), LastPings(), T0 + 10**6).status == "new"


def test_cron_heartbeat_is_due_at_the_next_cron_time_in_its_time_zone() -> None:
    schedule = Schedule(period=None, cron="0 3 * * *", tz="Europe/Paris", grace=600)
    due = next_expected(schedule, T0)  # 23:13 in Paris -> 03:00 Paris next day = 02:00 UTC
    assert due == 1_700_013_600.0
    assert judge(schedule, LastPings(success=T0), due + 599).status == "late"
    assert judge(schedule, LastPings(success=T0), due + 601).status == "down"


def test_failure_ping_is_down_and_success_recovers() -> None:
    schedule = Schedule(HOUR, None, "UTC", 60)
    failed = LastPings(success=T0).record("fail", T0 + 10)
    assert judge(schedule, failed, T0 + 11).status == "down"
    assert judge(schedule, failed.record("success", T0 + 20), T0 + 21).status == "up"


def test_a_started_run_must_finish_within_the_grace_time() -> None:
    schedule = Schedule(HOUR, None, "UTC", 120)
    running = LastPings(success=T0).record("start", T0 + HOUR)
    assert judge(schedule, running, T0 + HOUR + 120).status == "up"
    assert judge(schedule, running, T0 + HOUR + 121).status == "down"


async def beat(client: httpx.AsyncClient, **fields: object) -> dict:
    response = await client.post("/api/v1/checks", json={"name": "backup", "type": "heartbeat", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_heartbeat_late_down_and_recovered_through_ping_urls(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    check = await beat(client, period=3600, grace=300)
    assert check["ping_url"].startswith("http://nightowl.test/ping/")
    path = check["ping_url"].removeprefix("http://nightowl.test")
    runner = app.state.nightowl.checks

    async def state() -> str:
        await app.state.nightowl.scheduler.run_now("health-checks")
        return (await client.get(f"/api/v1/checks/{check['id']}")).json()["state"]["state"]

    assert await state() == "unknown"
    assert (await client.get(path)).text == "OK"
    assert await state() == "up"
    clock.advance(3600 + 1)
    assert await state() == "degraded"
    clock.advance(300)
    assert await state() == "down"
    assert (await client.head(path)).status_code == 200
    assert await state() == "up"
    clock.advance(10)
    assert (await client.post(f"{path}/fail", content=b"disk full")).text == "OK"
    view = (await client.get(f"/api/v1/checks/{check['id']}")).json()
    assert view["state"]["state"] == "down" and view["state"]["last_error"] == "failure ping"
    clock.advance(10)
    await client.post(f"{path}/0")
    assert await state() == "up"
    transitions = (await client.get(f"/api/v1/checks/{check['id']}/transitions")).json()["transitions"]
    assert [t["state"] for t in reversed(transitions)] == ["up", "degraded", "down", "up", "down", "up"]
    pings = (await client.get(f"/api/v1/checks/{check['id']}/pings")).json()["pings"]
    assert [p["kind"] for p in pings][:2] == ["success", "fail"] and pings[1]["body"] == "disk full"
    assert runner.pings[check["id"]].success == clock.now()


async def test_exit_code_and_run_duration(client: httpx.AsyncClient, clock: ManualClock) -> None:
    check = await beat(client, period=60, grace=60)
    path = check["ping_url"].removeprefix("http://nightowl.test")
    await client.get(f"{path}/start")
    clock.advance(42)
    await client.get(f"{path}/3")
    view = (await client.get(f"/api/v1/checks/{check['id']}")).json()
    assert view["state"]["state"] == "down"
    assert view["state"]["last_error"] == "failure ping (exit code 3)" and view["state"]["last_latency"] == 42
    pings = (await client.get(f"/api/v1/checks/{check['id']}/pings")).json()["pings"]
    assert (pings[0]["kind"], pings[0]["exit_code"], pings[0]["duration"]) == ("fail", 3, 42)


async def test_unknown_or_malformed_ping_uuid_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/ping/3f1c1b8e-0000-4000-8000-000000000000")).status_code == 404
    assert (await client.get("/ping/not-a-uuid")).status_code == 404
    check = await beat(client, period=60)
    path = check["ping_url"].removeprefix("http://nightowl.test")
    assert (await client.get(f"{path}/256")).status_code == 422
