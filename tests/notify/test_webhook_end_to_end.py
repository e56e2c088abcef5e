"""The first end-to-end path: POST /api/v2/alerts -> grouping -> outbox -> signed webhook -> delivery log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

import httpx
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from tests.notify.flow import settle
from tests.notify.receiver import receiver


def iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """An independent check of the documented signature scheme."""
    timestamp = headers["x-nightowl-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-nightowl-signature"], "sha256=" + expected)


async def create_webhook(client: httpx.AsyncClient, url: str, **config: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/channels",
        json={"name": "hook", "kind": "webhook", "receiver": "default", "config": {"url": url, **config}},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_alert_posted_like_prometheus_reaches_a_signed_webhook(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    async with receiver() as hook:
        channel = await create_webhook(client, hook.url + "/hook", secret="s3cret", headers={"X-Team": "db"})
        assert channel["config"]["secret"] == "<secret>"
        alert = {
            "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
            "annotations": {"summary": "disk full"},
            "startsAt": iso(clock.now()),
            "endsAt": iso(clock.now() + 240),
            "generatorURL": "http://prometheus/graph",
        }
        assert (await client.post("/api/v2/alerts", json=[alert])).status_code == 200
        await settle(app)
        assert hook.requests == []  # group_wait (30 s) first
        clock.advance(30)
        await settle(app)
        [request] = hook.requests
        assert request.headers["x-team"] == "db"
        assert verify("s3cret", request.headers, request.body)
        payload = request.json()
        assert payload["version"] == "4" and payload["status"] == "firing" and payload["receiver"] == "default"
        assert payload["groupKey"] == '{}:{alertname="DiskFull"}'
        assert payload["groupLabels"] == {"alertname": "DiskFull"}
        assert payload["commonLabels"]["instance"] == "db-1"
        assert payload["alerts"][0]["status"] == "firing"
        assert payload["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"
        assert payload["alerts"][0]["generatorURL"] == "http://prometheus/graph"

        listed = (await client.get("/api/v2/alerts")).json()
        assert [a["labels"]["instance"] for a in listed] == ["db-1"]
        assert listed[0]["status"]["state"] == "active" and listed[0]["receivers"] == [{"name": "default"}]

        # Prometheus stops sending: the alert resolves at endsAt and the resolved notice follows.
        clock.advance(300)
        await settle(app)
        assert [r.json()["status"] for r in hook.requests] == ["firing", "resolved"]

        log = (await client.get("/api/v1/notifications")).json()
        assert [entry["status"] for entry in log] == ["delivered", "delivered"]
        assert log[0]["status_code"] == 200 and log[0]["attempts"] == 1 and log[0]["channel_id"] == channel["id"]
        assert log[0]["alerts"][0]["alertname"] == "DiskFull"
        metrics = (await client.get("/metrics")).text
        assert 'nightowl_notification_attempts_total{kind="webhook",result="delivered"} 2.0' in metrics
        assert 'nightowl_outbox_notifications{status="delivered"} 2.0' in metrics
        assert 'nightowl_alerts{state="active"} 0.0' in metrics


async def test_failing_channel_is_retried_with_backoff_and_others_are_not_delayed(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    nightowl = app.state.nightowl
    nightowl.pipeline.outbox.settings = type(nightowl.pipeline.outbox.settings)(timeout=0.5, max_age=3600)
    async with receiver(status=500) as broken, receiver(delay=5) as slow, receiver() as good:
        for name, url in (("broken", broken.url), ("slow", slow.url), ("good", good.url)):
            await client.post(
                "/api/v1/channels",
                json={"name": name, "kind": "webhook", "receiver": "default", "config": {"url": url}},
            )
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "A"}}])
        clock.advance(30)
        await asyncio.to_thread(nightowl.pipeline.dispatcher.tick)
        await nightowl.pipeline.outbox.run()
        await good.arrived.wait()
        assert len(good.requests) == 1
        await nightowl.pipeline.outbox.drain()
        by_channel = {e["channel_id"]: e for e in (await client.get("/api/v1/notifications")).json()}
        statuses = sorted((e["status"], e["status_code"] or 0, e["error"] or "") for e in by_channel.values())
        assert statuses[0] == ("delivered", 200, "")
        assert statuses[1][0] == "pending" and "timed out" in statuses[1][2]
        assert statuses[2][0] == "pending" and statuses[2][1] == 500

        broken.status = 200
        clock.advance(2.4)  # before the first backoff (5 s * 0.5..1) is over: nothing is retried
        await nightowl.pipeline.outbox.deliver_now()
        assert len(broken.requests) == 1
        clock.advance(10)
        await nightowl.pipeline.outbox.deliver_now()
        assert len(broken.requests) == 2
        entry = next(
            e for e in (await client.get("/api/v1/notifications?status=delivered")).json() if e["attempts"] == 2
        )
        assert entry["status_code"] == 200


async def test_permanent_error_goes_to_dead_letters_and_can_be_replayed(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    async with receiver(status=404) as hook:
        await create_webhook(client, hook.url)
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "A"}}])
        clock.advance(30)
        await settle(app)
        [dead] = (await client.get("/api/v1/notifications?status=dead")).json()
        assert dead["status_code"] == 404
        hook.status = 200
        replayed = (await client.post(f"/api/v1/notifications/{dead['id']}/replay")).json()
        assert replayed["status"] == "pending"
        await app.state.nightowl.pipeline.outbox.deliver_now()
        assert (await client.get(f"/api/v1/notifications/{dead['id']}")).json()["status"] == "delivered"
        again = await client.post(f"/api/v1/notifications/{dead['id']}/replay")
        assert again.status_code == 422


async def test_channel_test_endpoint_sends_a_test_message(client: httpx.AsyncClient) -> None:
    async with receiver() as hook:
        channel = await create_webhook(client, hook.url, format="nightowl")
        entry = (await client.post(f"/api/v1/channels/{channel['id']}/test")).json()
        assert entry["status"] == "delivered" and entry["kind"] == "test"
        payload = hook.requests[0].json()
        assert payload["kind"] == "test" and payload["alerts"][0]["labels"]["alertname"] == "NightowlTest"


async def test_invalid_alerts_and_channels_get_problem_answers(client: httpx.AsyncClient) -> None:
    # the Alertmanager API answers bad input as Alertmanager does: 400 and a JSON string
    bad = await client.post("/api/v2/alerts", json=[{"labels": {"1bad": "x"}}])
    assert bad.status_code == 400 and "1bad" in bad.json()
    bad = await client.post("/api/v2/alerts", json=[{"labels": {"a": "b"}, "startsAt": "yesterday"}])
    assert bad.status_code == 400 and "startsAt" in bad.json()
    bad = await client.post("/api/v1/channels", json={"name": "x", "kind": "pigeon", "receiver": "r"})
    assert bad.status_code == 422 and bad.json()["field"] == "kind"
    bad = await client.post("/api/v1/channels", json={"name": "x", "kind": "webhook", "receiver": "r", "config": {}})
    assert bad.status_code == 422 and bad.json()["field"] == "config.url"
