"""Services, groups and dependencies; /api/v1/health/services with uptime; maintenance windows."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from nightowl.health.events import CheckEvent
from tests.health.servers import closed_port

pytestmark = pytest.mark.usefixtures("manual_runs")


@contextmanager
def listening(port: int) -> Iterator[None]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    try:
        yield
    finally:
        sock.close()


async def put(client: httpx.AsyncClient, path: str, **body: object) -> None:
    response = await client.put(f"/api/v1/health/{path}", json=body)
    assert response.status_code == 200, response.text


async def tcp_check(client: httpx.AsyncClient, name: str, service: str, port: int) -> str:
    response = await client.post(
        "/api/v1/checks", json={"name": name, "type": "tcp", "target": f"127.0.0.1:{port}", "service": service}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def run(client: httpx.AsyncClient, check_id: str) -> str:
    return str((await client.post(f"/api/v1/checks/{check_id}/run")).json()["state"]["state"])


@pytest.fixture
def events(app: FastAPI) -> list[CheckEvent]:
    found: list[CheckEvent] = []
    app.state.nightowl.checks.events.subscribe(found.append)
    return found


async def test_children_alerts_are_suppressed_while_a_parent_is_down_but_recoveries_never(
    client: httpx.AsyncClient, events: list[CheckEvent]
) -> None:
    await put(client, "groups/infra", name="infra")
    await put(client, "groups/apps", name="apps", parent="infra")
    await put(client, "services/network", name="network", group="infra")
    await put(client, "services/db", name="db", group="apps")
    await put(client, "services/api", name="api", group="apps", parents=["db"])
    net_port, db_port = closed_port(), closed_port()
    net = await tcp_check(client, "net", "network", net_port)
    db = await tcp_check(client, "db", "db", db_port)
    assert await run(client, net) == "down"
    assert await run(client, db) == "down"
    assert [(e.kind, e.check_name, e.suppressed) for e in events] == [
        ("check.down", "net", False),
        ("check.down", "db", True),
    ]
    assert events[1].suppressed_by == "service 'network' it depends on is down"
    transitions = (await client.get(f"/api/v1/checks/{db}/transitions")).json()["transitions"]
    assert transitions[0]["suppressed"] is True and transitions[0]["state"] == "down"
    with listening(net_port), listening(db_port):
        assert await run(client, db) == "up"
        assert await run(client, net) == "up"
    assert [(e.kind, e.check_name, e.suppressed) for e in events[2:]] == [
        ("check.recovered", "db", False),
        ("check.recovered", "net", False),
    ]
    report = (await client.get("/api/v1/health/services")).json()
    assert {s["name"]: s["state"] for s in report["services"]} == {"api": "unknown", "db": "up", "network": "up"}


async def test_topology_errors_are_422_or_409(client: httpx.AsyncClient) -> None:
    bad = await client.put("/api/v1/health/services/a", json={"name": "a", "parents": ["nope"]})
    assert bad.status_code == 422 and bad.json()["field"] == "parents"
    await put(client, "services/a", name="a")
    await put(client, "services/b", name="b", parents=["a"])
    cycle = await client.put("/api/v1/health/services/a", json={"name": "a", "parents": ["b"]})
    assert cycle.status_code == 422 and "depend on itself" in cycle.json()["detail"]
    assert (await client.delete("/api/v1/health/services/a")).status_code == 409
    assert (await client.put("/api/v1/health/services/x", json={"name": "y"})).status_code == 422
    assert (await client.delete("/api/v1/health/groups/none")).status_code == 404


async def test_services_report_state_latency_error_uptime_and_overall(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await put(client, "services/web", name="web", critical=True)
    port = closed_port()
    check = await tcp_check(client, "web-tcp", "web", port)
    with listening(port):
        assert await run(client, check) == "up"
    assert (await client.get("/api/v1/health/services")).json()["status"] == "healthy"
    clock.advance(3 * 3600)
    assert await run(client, check) == "down"
    clock.advance(3600)
    report = (await client.get("/api/v1/health/services")).json()
    web = report["services"][0]
    assert report["status"] == "unhealthy"
    assert (web["name"], web["state"], web["last_error"]) == ("web", "down", "connection failed")
    assert web["latency"] is not None and web["checks"][0]["name"] == "web-tcp"
    assert web["uptime"] == {"24h": 75.0, "7d": 75.0, "30d": 75.0, "1y": 75.0}
    uptime = (await client.get(f"/api/v1/checks/{check}/uptime")).json()["uptime"]
    assert uptime["24h"] == 75.0


async def test_overall_degraded_when_a_non_critical_service_is_down(client: httpx.AsyncClient) -> None:
    ports = [closed_port() for _ in range(3)]
    ids = [await tcp_check(client, f"c{i}", f"s{i}", p) for i, p in enumerate(ports)]
    with listening(ports[0]), listening(ports[1]):
        for check_id in ids:
            await run(client, check_id)
    assert (await client.get("/api/v1/health/services")).json()["status"] == "degraded"


async def test_maintenance_window_suppresses_alerts_and_is_left_out_of_uptime(
    client: httpx.AsyncClient, clock: ManualClock, events: list[CheckEvent]
) -> None:
    port = closed_port()
    check = await tcp_check(client, "cache", "cache", port)
    with listening(port):
        await run(client, check)
    now = clock.now()
    response = await client.post(
        "/api/v1/health/maintenance",
        json={"name": "upgrade", "starts_at": now + 600, "ends_at": now + 1800, "services": ["cache"]},
    )
    assert response.status_code == 201 and response.json()["active"] is False
    window_id = response.json()["id"]
    clock.advance(900)
    listed = (await client.get("/api/v1/health/maintenance")).json()["windows"]
    assert [w["active"] for w in listed] == [True]
    assert await run(client, check) == "down"
    assert events[-1].kind == "check.down" and events[-1].suppressed
    assert events[-1].suppressed_by == "maintenance window 'upgrade'"
    clock.advance(900)
    with listening(port):
        assert await run(client, check) == "up"
    assert events[-1].kind == "check.recovered" and not events[-1].suppressed
    clock.advance(1200)
    web = (await client.get("/api/v1/health/services")).json()["services"][0]
    # down 900..1800 of which 900..1800 is maintenance: nothing counted against it
    assert web["uptime"]["24h"] == 100.0 and web["in_maintenance"] is False
    assert (await client.delete(f"/api/v1/health/maintenance/{window_id}")).status_code == 204
    web = (await client.get("/api/v1/health/services")).json()["services"][0]
    assert web["uptime"]["24h"] == 70.0  # up 900 s, down 900 s, up 1200 s


async def test_marking_a_past_outage_as_maintenance_after_the_fact(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    port = closed_port()
    check = await tcp_check(client, "queue", "queue", port)
    start = clock.now()
    assert await run(client, check) == "down"
    clock.advance(3600)
    with listening(port):
        assert await run(client, check) == "up"
    clock.advance(3600)
    assert (await client.get(f"/api/v1/checks/{check}/uptime")).json()["uptime"]["24h"] == 50.0
    response = await client.post(
        "/api/v1/health/maintenance",
        json={"name": "planned move, recorded late", "starts_at": start, "ends_at": start + 3600, "checks": ["queue"]},
    )
    assert response.status_code == 201 and response.json()["next"] is None
    assert (await client.get(f"/api/v1/checks/{check}/uptime")).json()["uptime"]["24h"] == 100.0


async def test_recurring_window_created_in_one_call(client: httpx.AsyncClient, clock: ManualClock) -> None:
    response = await client.post(
        "/api/v1/health/maintenance",
        json={"name": "nightly", "starts_at": clock.now(), "cron": "0 3 * * *", "duration": 1800},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["next"]["ends_at"] - body["next"]["starts_at"] == 1800
    bad = await client.post(
        "/api/v1/health/maintenance", json={"name": "x", "starts_at": 0, "cron": "bad", "duration": 5}
    )
    assert bad.status_code == 422 and "not a valid cron" in bad.text
