"""Routing through the running app with a manual clock: alertmanager.yml, inhibition, silences, simulate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from tests.notify.flow import settle
from tests.notify.receiver import Receiver, receiver
from tests.support.apps import admin_client

AM_YAML = """
route:
  receiver: team
  group_by: [alertname, cluster]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
  routes:
  - matchers: [severity="critical"]
    receiver: pager
    continue: true
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster]
receivers:
- name: team
  webhook_configs:
  - url: 'http://127.0.0.1:{port}/team'
- name: pager
  webhook_configs:
  - url: 'http://127.0.0.1:{port}/pager'
"""


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
async def hooks() -> AsyncIterator[Receiver]:
    async with receiver() as recv:
        yield recv


@pytest.fixture
async def am_app(make_settings: Any, clock: ManualClock, tmp_path: Path, hooks: Receiver) -> AsyncIterator[FastAPI]:
    path = tmp_path / "alertmanager.yml"
    path.write_text(AM_YAML.replace("{port}", str(hooks.port)))
    application = create_app(make_settings(alertmanager_config=path), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def am(am_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with admin_client(am_app, "http://n.test") as c:
        yield c


def sent(hooks: Receiver) -> list[tuple[str, str, list[str]]]:
    out = []
    for r in hooks.requests:
        body = r.json()
        out.append((r.path, body["status"], sorted(a["labels"]["alertname"] for a in body["alerts"])))
    return out


async def post(client: httpx.AsyncClient, clock: ManualClock, *alerts: dict[str, Any]) -> None:
    items = [{"endsAt": iso(clock.now() + 3600), **a} for a in alerts]
    response = await client.post("/api/v2/alerts", json=items)
    assert response.status_code == 200, response.text


async def test_critical_goes_to_pager_and_team_and_inhibits_warnings(
    am_app: FastAPI, am: httpx.AsyncClient, clock: ManualClock, hooks: Receiver
) -> None:
    await post(
        am,
        clock,
        {"labels": {"alertname": "Down", "cluster": "eu", "severity": "critical"}},
        {"labels": {"alertname": "Slow", "cluster": "eu", "severity": "warning"}},
        {"labels": {"alertname": "Slow", "cluster": "us", "severity": "warning"}},
    )
    clock.advance(10)
    await settle(am_app)
    # continue: true lets the alert try later siblings; none match, and a matched child means the root
    # does not take it as well (Alertmanager semantics)
    assert sorted(sent(hooks)) == [
        ("/pager", "firing", ["Down"]),
        ("/team", "firing", ["Slow"]),  # only the us one: the eu warning is inhibited
    ]
    slow_team = next(r.json() for r in hooks.requests if r.json()["groupLabels"]["alertname"] == "Slow")
    assert [a["labels"]["cluster"] for a in slow_team["alerts"]] == ["us"]
    listed = {a["labels"]["cluster"] + a["labels"]["alertname"]: a for a in (await am.get("/api/v2/alerts")).json()}
    assert listed["euSlow"]["status"]["state"] == "suppressed"
    assert listed["euSlow"]["status"]["inhibitedBy"] == [listed["euDown"]["fingerprint"]]
    assert listed["euDown"]["receivers"] == [{"name": "pager"}]
    groups = (await am.get("/api/v2/alerts/groups")).json()
    assert [(g["receiver"]["name"], g["labels"], len(g["alerts"])) for g in groups] == [
        ("pager", {"alertname": "Down", "cluster": "eu"}, 1),
        ("team", {"alertname": "Slow", "cluster": "eu"}, 1),
        ("team", {"alertname": "Slow", "cluster": "us"}, 1),
    ]


async def test_silence_crud_mutes_then_resolved_notice_still_arrives(
    am_app: FastAPI, am: httpx.AsyncClient, clock: ManualClock, hooks: Receiver
) -> None:
    await post(am, clock, {"labels": {"alertname": "Disk", "cluster": "eu", "instance": "db-1"}})
    clock.advance(10)
    await settle(am_app)
    assert sent(hooks) == [("/team", "firing", ["Disk"])]

    silence = {
        "matchers": [{"name": "instance", "value": "db-.*", "isRegex": True, "isEqual": True}],
        "startsAt": iso(clock.now()),
        "endsAt": iso(clock.now() + 7200),
        "createdBy": "ann",
        "comment": "disk swap",
    }
    created = await am.post("/api/v2/silences", json=silence)
    assert created.status_code == 200
    silence_id = created.json()["silenceID"]
    got = (await am.get(f"/api/v2/silence/{silence_id}")).json()
    assert got["status"]["state"] == "active" and got["matchers"][0]["isRegex"] is True
    assert [s["id"] for s in (await am.get("/api/v2/silences")).json()] == [silence_id]

    clock.advance(1800)
    await post(  # Prometheus re-sends firing alerts, pushing endsAt forward
        am,
        clock,
        {"labels": {"alertname": "Disk", "cluster": "eu", "instance": "db-1"}},
        {"labels": {"alertname": "Disk", "cluster": "eu", "instance": "db-2"}},
    )
    clock.advance(1800)
    await settle(am_app)
    assert len(hooks.requests) == 1  # the new alert is silenced, the old one too: no repeat either
    listed = (await am.get("/api/v2/alerts?silenced=false")).json()
    assert listed == []

    # db-1 resolves while silenced: the receiver was told it fired, so it hears it resolved
    await post(
        am, clock, {"labels": {"alertname": "Disk", "cluster": "eu", "instance": "db-1"}, "endsAt": iso(clock.now())}
    )
    clock.advance(60)
    await settle(am_app)
    last = hooks.requests[-1].json()
    assert last["status"] == "resolved" and [a["labels"]["instance"] for a in last["alerts"]] == ["db-1"]

    assert (await am.delete(f"/api/v2/silence/{silence_id}")).status_code == 200
    assert (await am.get(f"/api/v2/silence/{silence_id}")).json()["status"]["state"] == "expired"
    clock.advance(60)
    await settle(am_app)
    last = hooks.requests[-1].json()
    assert last["status"] == "firing" and [a["labels"]["instance"] for a in last["alerts"]] == ["db-2"]


async def test_invalid_silences_are_rejected(am: httpx.AsyncClient, clock: ManualClock) -> None:
    base = {"startsAt": iso(clock.now()), "endsAt": iso(clock.now() + 60), "createdBy": "a", "comment": "c"}
    everything = {**base, "matchers": [{"name": "a", "value": ".*", "isRegex": True}]}
    assert (await am.post("/api/v2/silences", json=everything)).status_code == 400  # as Alertmanager answers
    backwards = {**base, "endsAt": iso(clock.now() - 60), "matchers": [{"name": "a", "value": "b"}]}
    assert (await am.post("/api/v2/silences", json=backwards)).status_code == 400
    assert (await am.get("/api/v2/silence/nope")).status_code == 404


async def test_simulate_shows_who_gets_what_when(am: httpx.AsyncClient) -> None:
    body = {
        "alerts": [
            {"labels": {"alertname": "Down", "cluster": "eu", "severity": "critical"}, "resolve_at": 300},
            {"labels": {"alertname": "Down", "cluster": "eu", "instance": "b", "severity": "critical"}, "at": 5},
        ],
        "duration": 600,
    }
    result = (await am.post("/api/v1/routes/simulate", json=body)).json()["notifications"]
    timeline = [(n["after_seconds"], n["receiver"], n["status"], len(n["firing"]), len(n["resolved"])) for n in result]
    assert timeline == [
        (10, "pager", "firing", 2, 0),
        (310, "pager", "firing", 1, 1),
    ]


async def test_routes_endpoint_shows_the_tree(am: httpx.AsyncClient) -> None:
    tree = (await am.get("/api/v1/routes")).json()
    assert tree["route"]["receiver"] == "team" and tree["route"]["routes"][0]["continue"] is True
    assert tree["receivers"] == ["team", "pager"]
    channels = (await am.get("/api/v1/channels")).json()
    assert {c["id"] for c in channels} == {"am-team-webhook-0", "am-pager-webhook-0"}
    assert (await am.delete("/api/v1/channels/am-team-webhook-0")).status_code == 409
    status = (await am.get("/api/v2/status")).json()
    assert "inhibit_rules" in status["config"]["original"]


async def test_a_failed_flush_is_retried_not_lost(
    am_app: FastAPI, am: httpx.AsyncClient, clock: ManualClock, hooks: Receiver
) -> None:
    await am_app.state.nightowl.scheduler.stop()  # the test plays the job's part
    dispatcher = am_app.state.nightowl.pipeline.dispatcher
    calls = {"n": 0}

    def flaky(conn: Any, notification: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")

    dispatcher.sinks.insert(0, flaky)
    await post(am, clock, {"labels": {"alertname": "Disk", "cluster": "eu"}})
    clock.advance(10)
    await settle(am_app)
    assert hooks.requests == []
    await settle(am_app)  # the group is due again right away
    assert sent(hooks) == [("/team", "firing", ["Disk"])]
