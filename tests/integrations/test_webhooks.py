"""Event webhooks: subscriptions CRUD, signed deliveries of check and alert events, retries, the test send."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import httpx
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from tests.notify.receiver import Request, receiver


def verify(request: Request, secret: str) -> bool:
    timestamp = request.headers["x-nightowl-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    return request.headers["x-nightowl-signature"] == f"sha256={expected}"


async def subscribe(client: httpx.AsyncClient, url: str, events: list[str], secret: str | None = "s3cret") -> dict:
    response = await client.post(
        "/api/v1/integrations/webhooks", json={"name": "hub", "url": url, "events": events, "secret": secret}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def deliver(app: FastAPI) -> None:
    """Let the background jobs finish (they run with the app), then send what is due."""
    await app.state.nightowl.scheduler.wait_idle()
    await app.state.nightowl.integrations.webhooks.run()


async def test_crud_masks_the_secret_and_validates_input(client: httpx.AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    hook = await subscribe(client, "http://127.0.0.1:9/x", ["check.down"])
    assert hook["secret"] == "********" or hook["secret"] not in (None, "s3cret")
    path = f"/api/v1/integrations/webhooks/{hook['id']}"
    kept = await client.put(
        path, json={"name": "renamed", "url": hook["url"], "events": ["*"], "secret": hook["secret"]}
    )
    assert kept.status_code == 200 and kept.json()["name"] == "renamed" and kept.json()["secret"] == hook["secret"]
    assert [h["id"] for h in (await client.get("/api/v1/integrations/webhooks")).json()] == [hook["id"]]
    bad = await client.post("/api/v1/integrations/webhooks", json={"name": "x", "url": "ftp://x", "events": ["*"]})
    assert bad.status_code == 422 and bad.json()["field"] == "url"
    bad = await client.post("/api/v1/integrations/webhooks", json={"name": "x", "url": "http://x", "events": ["nope"]})
    assert bad.status_code == 422 and bad.json()["field"] == "events"
    viewer = client_for(role="viewer")
    assert (await viewer.get("/api/v1/integrations/webhooks")).status_code == 200
    assert (await viewer.delete(path)).status_code == 403
    assert (await client.delete(path)).status_code == 204
    assert (await client.get(path)).status_code == 404
    assert "alert.firing" in (await client.get("/api/v1/integrations/events")).json()


async def test_check_down_and_recovered_are_delivered_signed(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    async with receiver() as hook:
        await subscribe(client, hook.url, ["check.down", "check.recovered"])
        check = (await client.post("/api/v1/checks", json={"name": "backup", "type": "heartbeat", "period": 60})).json()
        ping = check["ping_url"].removeprefix("http://nightowl.test")
        await client.post(f"{ping}/fail")
        clock.advance(10)
        await client.get(ping)
        await app.state.nightowl.scheduler.wait_idle()
        await app.state.nightowl.scheduler.run_now("health-checks")
        await deliver(app)
        assert [r.json()["type"] for r in hook.requests] == ["check.down", "check.recovered"]
        first = hook.requests[0]
        assert verify(first, "s3cret")
        assert first.headers["x-nightowl-event"] == "check.down"
        assert first.json()["data"]["check_name"] == "backup" and first.json()["data"]["state"] == "down"


async def test_alert_firing_and_resolved_events(app: FastAPI, client: httpx.AsyncClient, clock: ManualClock) -> None:
    async with receiver() as hook:
        await subscribe(client, hook.url, ["alert.firing", "alert.resolved"], secret=None)
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "DiskFull", "severity": "page"}}])
        await deliver(app)
        [fired] = hook.requests
        assert fired.json()["type"] == "alert.firing" and fired.json()["data"]["labels"]["alertname"] == "DiskFull"
        assert "x-nightowl-signature" not in fired.headers
        clock.advance(600)  # past resolve_timeout: the alert resolves on its own
        await asyncio.to_thread(app.state.nightowl.pipeline.dispatcher.tick)
        await deliver(app)
        assert [r.json()["type"] for r in hook.requests] == ["alert.firing", "alert.resolved"]


async def test_failed_delivery_is_retried_with_backoff_and_retry_after(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    async with receiver(status=503) as hook:
        hook.handler = lambda r: (503, "busy", {"Retry-After": "120"})
        sub = await subscribe(client, hook.url, ["alert.firing"])
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "A"}}])
        await deliver(app)
        assert len(hook.requests) == 1
        clock.advance(60)  # backoff alone would allow a retry, Retry-After does not
        await deliver(app)
        assert len(hook.requests) == 1
        hook.handler = None
        hook.status = 200
        clock.advance(61)
        await deliver(app)
        assert len(hook.requests) == 2
        assert hook.requests[0].headers["idempotency-key"] == hook.requests[1].headers["idempotency-key"]
        [entry] = (await client.get(f"/api/v1/integrations/webhooks/{sub['id']}/deliveries")).json()
        assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 2, 200)
        metrics = (await client.get("/metrics")).text
        assert 'nightowl_integration_webhook_attempts_total{result="retry"} 1.0' in metrics
        assert 'nightowl_integration_webhook_deliveries{status="delivered"} 1.0' in metrics


async def test_permanent_refusal_is_dead_and_test_endpoint_reports(client: httpx.AsyncClient, app: FastAPI) -> None:
    async with receiver(status=400) as hook:
        sub = await subscribe(client, hook.url, ["alert.firing"])
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "A"}}])
        await deliver(app)
        [entry] = (await client.get(f"/api/v1/integrations/webhooks/{sub['id']}/deliveries")).json()
        assert entry["status"] == "dead" and entry["last_status_code"] == 400
        result = (await client.post(f"/api/v1/integrations/webhooks/{sub['id']}/test")).json()
        assert result["ok"] is False and result["status_code"] == 400
        hook.status = 200
        result = (await client.post(f"/api/v1/integrations/webhooks/{sub['id']}/test")).json()
        assert result == {"ok": True, "status_code": 200, "error": None}
        test = hook.requests[-1]
        assert test.json()["type"] == "integration.test" and verify(test, "s3cret")


async def test_acknowledging_an_alert_publishes_alert_acknowledged(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with receiver() as hook:
        await subscribe(client, hook.url, ["alert.acknowledged"])
        alert = {"labels": {"alertname": "Down", "severity": "critical"}, "endsAt": "2099-01-01T00:00:00Z"}
        await client.post("/api/v2/alerts", json=[alert])
        await app.state.nightowl.scheduler.wait_idle()
        await asyncio.to_thread(app.state.nightowl.pipeline.escalations.run)
        [escalation] = (await client.get("/api/v1/escalations?status=open")).json()
        ack = await client.post(f"/api/v1/escalations/{escalation['fingerprint']}/acknowledge", json={"by": "ann"})
        assert ack.status_code == 200
        await deliver(app)
        [request] = hook.requests
        data = request.json()["data"]
        assert request.json()["type"] == "alert.acknowledged" and verify(request, "s3cret")
        assert data["acknowledged_by"] == "ann" and data["labels"]["alertname"] == "Down"


async def test_old_finished_deliveries_are_pruned(app: FastAPI, client: httpx.AsyncClient, clock: ManualClock) -> None:
    async with receiver() as hook:
        sub = await subscribe(client, hook.url, ["alert.firing"])
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "A"}}])
        await deliver(app)
        path = f"/api/v1/integrations/webhooks/{sub['id']}/deliveries"
        assert len((await client.get(path)).json()) == 1
        clock.advance(8 * 86400)
        await app.state.nightowl.scheduler.wait_idle()
        assert app.state.nightowl.integrations.webhooks.prune() == 1
        assert (await client.get(path)).json() == []
