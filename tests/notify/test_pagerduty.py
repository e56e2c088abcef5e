"""PagerDuty Events API v2: trigger and resolve with a stable dedup_key, validated against the spec."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from nightowl.notify.channels.pagerduty import PagerDuty
from tests.notify.factories import alert_view, context, message
from tests.notify.receiver import Reply, Request, receiver

ACTIONS = {"trigger", "acknowledge", "resolve"}


def check_event(body: dict[str, Any]) -> None:
    """Required fields of an Events API v2 event, as PagerDuty documents them."""
    assert isinstance(body["routing_key"], str) and len(body["routing_key"]) > 0
    assert body["event_action"] in ACTIONS
    assert isinstance(body["dedup_key"], str) and len(body["dedup_key"]) <= 255
    if body["event_action"] == "trigger":
        payload = body["payload"]
        assert 0 < len(payload["summary"]) <= 1024
        assert payload["source"]
        assert payload["severity"] in {"critical", "error", "warning", "info"}
    else:
        assert "payload" not in body


def events_api(request: Request) -> Reply:
    body = request.json()
    check_event(body)
    answer = f'{{"status": "success", "message": "Event processed", "dedup_key": "{body["dedup_key"]}"}}'
    return 202, answer, {"Content-Type": "application/json"}


async def test_trigger_then_resolve_share_one_dedup_key_per_alert() -> None:
    two = (alert_view(instance="api-1"), replace(alert_view(instance="api-2"), fingerprint="ffff000011112222"))
    async with receiver(handler=events_api) as pd, context() as ctx:
        config = PagerDuty.validate({"routing_key": "R0UT1NG", "api_url": pd.url + "/v2/enqueue"})
        assert (await PagerDuty().send(message("firing", "alert", *two), config, ctx)).ok
        resolved = tuple(replace(a, status="resolved") for a in two)
        assert (await PagerDuty().send(message("resolved", "alert", *resolved), config, ctx)).ok
    bodies = [r.json() for r in pd.requests]
    assert [b["event_action"] for b in bodies] == ["trigger", "trigger", "resolve", "resolve"]
    assert bodies[0]["dedup_key"] == bodies[2]["dedup_key"] == "nightowl-a1b2c3d4e5f60718"
    assert bodies[1]["dedup_key"] == bodies[3]["dedup_key"] != bodies[0]["dedup_key"]
    assert bodies[0]["payload"]["severity"] == "critical"
    assert bodies[0]["links"][0]["href"].startswith("http://prometheus.example")


async def test_acknowledgement_sends_acknowledge() -> None:
    async with receiver(handler=events_api) as pd, context() as ctx:
        config = PagerDuty.validate({"routing_key": "R", "api_url": pd.url})
        assert (await PagerDuty().send(message("firing", "acknowledgement"), config, ctx)).ok
    assert pd.requests[0].json()["event_action"] == "acknowledge"


async def test_invalid_event_is_permanent_and_throttling_retryable() -> None:
    async with receiver(status=400, body='{"status":"invalid event"}') as pd, context() as ctx:
        config = PagerDuty.validate({"routing_key": "R", "api_url": pd.url})
        bad = await PagerDuty().send(message(), config, ctx)
        pd.status = 429
        throttled = await PagerDuty().send(message(), config, ctx)
    assert not bad.ok and not bad.retryable and bad.status_code == 400
    assert not throttled.ok and throttled.retryable
