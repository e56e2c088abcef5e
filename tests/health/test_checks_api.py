"""/api/v1/checks: CRUD, run now, results as metrics, state changes as events."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from nightowl.health.events import CheckEvent
from nightowl.health.tables import health_checks
from nightowl.metrics.model import Matcher
from tests.health.servers import closed_port


async def create(client: httpx.AsyncClient, **fields: object) -> dict:
    response = await client.post("/api/v1/checks", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_list_update_delete(client: httpx.AsyncClient, web: str) -> None:
    check = await create(client, name="home", type="http", target=f"{web}/ok", interval=30, service="web")
    assert check["source"] == "api" and check["state"]["state"] == "unknown"
    listed = (await client.get("/api/v1/checks")).json()["checks"]
    assert [c["name"] for c in listed] == ["home"]
    updated = await client.put(
        f"/api/v1/checks/{check['id']}", json={"name": "home", "type": "http", "target": f"{web}/json"}
    )
    assert updated.status_code == 200 and updated.json()["spec"]["target"] == f"{web}/json"
    assert (await client.delete(f"/api/v1/checks/{check['id']}")).status_code == 204
    missing = await client.get(f"/api/v1/checks/{check['id']}")
    assert missing.status_code == 404 and missing.json()["field"] == "id"


async def test_invalid_definitions_are_422_naming_the_problem(client: httpx.AsyncClient) -> None:
    bad = await client.post("/api/v1/checks", json={"name": "x", "type": "tcp", "target": "no-port"})
    assert bad.status_code == 422 and "must be host:port" in bad.text
    bad = await client.post("/api/v1/checks", json={"name": "x", "type": "smtp", "target": "a:1"})
    assert bad.status_code == 422 and bad.json()["field"] == "type"
    bad = await client.post("/api/v1/checks", json={"name": "x", "type": "heartbeat"})
    assert bad.status_code == 422 and "exactly one of `period`" in bad.text
    bad = await client.post("/api/v1/checks", json={"name": "x", "type": "http", "target": "http://a", "timeout": 90})
    assert bad.status_code == 422 and "must not exceed interval" in bad.text
    bad = await client.post(
        "/api/v1/checks", json={"name": "x", "type": "tcp", "target": "a:1", "labels": {"service": "x"}}
    )
    assert bad.status_code == 422 and "set by Nightowl" in bad.text


async def test_duplicate_name_is_a_conflict(client: httpx.AsyncClient, web: str) -> None:
    await create(client, name="dup", type="http", target=f"{web}/ok")
    again = await client.post("/api/v1/checks", json={"name": "dup", "type": "tcp", "target": "127.0.0.1:1"})
    assert again.status_code == 409 and again.json()["field"] == "name"


async def test_run_now_records_state_metrics_and_transitions(app: FastAPI, client: httpx.AsyncClient, web: str) -> None:
    check = await create(client, name="api", type="http", target=f"{web}/ok", service="web", labels={"team": "core"})
    response = await client.post(f"/api/v1/checks/{check['id']}/run")
    assert response.status_code == 200
    body = response.json()
    assert body["result"]["outcome"] == "up" and body["state"]["state"] == "up"
    assert body["result"]["latency"] == 0.0  # the manual clock does not move during I/O
    storage = app.state.nightowl.storage
    series = storage.select([Matcher("__name__", "=", "probe_success"), Matcher("check", "=", "api")], 0, 2**62)
    assert len(series) == 1 and series[0].values.tolist() == [1.0]
    assert dict(series[0].labels) == {
        "__name__": "probe_success",
        "check": "api",
        "type": "http",
        "service": "web",
        "team": "core",
    }
    state = storage.select([Matcher("__name__", "=", "nightowl_check_state")], 0, 2**62)
    assert state[0].values.tolist() == [0.0]
    assert storage.select([Matcher("__name__", "=", "probe_duration_seconds")], 0, 2**62)
    transitions = (await client.get(f"/api/v1/checks/{check['id']}/transitions")).json()["transitions"]
    assert [(t["previous"], t["state"]) for t in transitions] == [("unknown", "up")]


async def test_state_changes_are_published_to_listeners(manual_runs: FastAPI, client: httpx.AsyncClient) -> None:
    app = manual_runs
    events: list[CheckEvent] = []
    app.state.nightowl.checks.events.subscribe(events.append)
    port = closed_port()
    check = await create(client, name="db", type="tcp", target=f"127.0.0.1:{port}", failures_to_down=2)
    await client.post(f"/api/v1/checks/{check['id']}/run")
    assert events == []
    run = (await client.post(f"/api/v1/checks/{check['id']}/run")).json()
    assert run["state"]["state"] == "down" and run["state"]["last_error"] == "connection failed"
    assert [(e.kind, e.check_name, e.suppressed) for e in events] == [("check.down", "db", False)]


async def test_heartbeats_are_not_run(client: httpx.AsyncClient) -> None:
    beat = await create(client, name="cron", type="heartbeat", period=60)
    response = await client.post(f"/api/v1/checks/{beat['id']}/run")
    assert response.status_code == 422 and "pinged" in response.json()["detail"]


async def test_scheduler_job_starts_due_checks_spread_over_the_interval(
    app: FastAPI, client: httpx.AsyncClient, clock, web: str
) -> None:
    ids = [(await create(client, name=f"c{i}", type="http", target=f"{web}/ok", interval=30))["id"] for i in range(20)]
    runner = app.state.nightowl.checks
    scheduler = app.state.nightowl.scheduler
    # This test drives the ticks itself: the background loop would start new checks that wait on the
    # manual clock for their due time, and wait_idle would wait for them forever.
    await scheduler.stop()
    for _ in range(31):
        await scheduler.run_now("health-checks")
        clock.advance(1)
        await asyncio.sleep(0)
    clock.advance(2)  # wakes any start still waiting for its exact due time within the last tick
    await asyncio.wait_for(runner.wait_idle(), timeout=60)
    started = [runner.state_of(i).last_run_at for i in ids]
    assert all(at is not None for at in started)
    assert len(set(started)) >= 10, "20 checks with one interval start at different seconds"
    assert all(runner.state_of(i).state == "up" for i in ids)


async def test_credentials_are_masked_and_kept_when_sent_back(app: FastAPI, client: httpx.AsyncClient) -> None:
    check = await create(
        client,
        name="db",
        type="postgres",
        target="postgresql://monitor:s3cret@db.internal:5432/app",
        headers={"Authorization": "Bearer abc", "Accept": "text/plain"},
    )
    assert check["spec"]["target"] == "postgresql://monitor:<secret>@db.internal:5432/app"
    assert check["spec"]["headers"] == {"Authorization": "<secret>", "Accept": "text/plain"}
    assert "s3cret" not in (await client.get("/api/v1/checks")).text
    sent_back = {**check["spec"], "timeout": 5}
    assert (await client.put(f"/api/v1/checks/{check['id']}", json=sent_back)).status_code == 200
    stored = app.state.nightowl.checks.checks[check["id"]].spec
    assert stored.target == "postgresql://monitor:s3cret@db.internal:5432/app"
    assert stored.headers["Authorization"] == "Bearer abc" and stored.timeout == 5
    with app.state.nightowl.engine.connect() as conn:
        at_rest = conn.execute(select(health_checks.c.spec)).scalar_one()
    assert "s3cret" not in at_rest and "Bearer" not in at_rest, "definitions are encrypted at rest"


async def test_a_target_the_http_client_cannot_use_is_refused_at_creation(client: httpx.AsyncClient) -> None:
    """An octal IPv4 host passed the URL pattern, then every run failed with a 500 (httpx refuses it)."""
    spec = {"name": "octal", "type": "http", "target": "http://0251.0376.0251.0376/", "interval": 60}
    response = await client.post("/api/v1/checks", json=spec)
    assert response.status_code == 422, response.text
    assert "0251.0376.0251.0376" in response.text
