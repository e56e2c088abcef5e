"""`/api/v1/ws`: authenticated live updates; the hub's topics, watchers and bounded queues."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.testclient import TestClient  # its WebSocket client answers as host "testserver"
from starlette.websockets import WebSocketDisconnect

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from nightowl.realtime.hub import QUEUE_LIMIT, LiveHub, topic_of
from tests.conftest import credential_for


def test_alert_and_check_events_reach_subscribers(make_settings: Any, clock: ManualClock) -> None:
    app = create_app(make_settings(), clock=clock)
    with TestClient(app, base_url="http://nightowl.test") as client:
        key = credential_for(app, scopes=["read", "ingest"])
        headers = {"X-API-Key": key}
        with client.websocket_connect("/api/v1/ws", headers=headers) as ws:
            ws.send_json({"type": "subscribe", "topics": ["alerts", "health"]})
            assert ws.receive_json() == {"type": "subscribed", "topics": ["alerts", "health"]}
            from nightowl.api.ws import live_hub

            hub = live_hub(app)
            hub.watch()  # the first snapshot
            sent = client.post("/api/v2/alerts", headers=headers, json=[{"labels": {"alertname": "DiskFull"}}])
            assert sent.status_code == 200
            assert ws.receive_json()["event"] == "alert.firing"  # from the event bus, at once
            assert hub.watch() == ["alerts"]
            message = ws.receive_json()
            assert message["type"] == "event" and message["topic"] == "alerts" and message["event"] == "alerts.changed"

            app.state.nightowl.integrations.bus.publish("check.down", {"check": "api"})
            message = ws.receive_json()
            assert (message["topic"], message["event"], message["data"]) == ("health", "check.down", {"check": "api"})

            ws.send_json({"type": "subscribe", "topics": ["weather"]})
            assert ws.receive_json()["field"] == "topics"
            ws.send_text("not json")
            assert ws.receive_json()["type"] == "error"


def test_without_credentials_or_from_another_site_the_socket_is_refused(make_settings: Any, clock: ManualClock) -> None:
    app = create_app(make_settings(), clock=clock)
    with TestClient(app, base_url="http://nightowl.test") as client:
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/api/v1/ws"):
            pass
        assert refused.value.code == 1008
        session = credential_for(app, role="viewer")
        cookie = {"Cookie": f"nightowl_session={session}", "Origin": "https://evil.example"}
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/api/v1/ws", headers=cookie):
            pass
        same_site = {"Cookie": f"nightowl_session={session}", "Origin": "http://testserver"}
        with client.websocket_connect("/api/v1/ws", headers=same_site) as ws:
            ws.send_json({"type": "subscribe", "topics": ["targets"]})
            assert ws.receive_json()["type"] == "subscribed"


async def test_hub_publishes_changes_only_and_drops_the_oldest_for_a_slow_subscriber(clock: ManualClock) -> None:
    state = {"value": 1}
    hub = LiveHub(clock, watchers={"targets": lambda: state["value"]})
    sub = hub.subscribe()
    assert hub.watch() == []  # nobody follows targets yet
    sub.topics = {"targets"}
    assert hub.watch() == []  # first snapshot
    state["value"] = 2
    assert hub.watch() == ["targets"]
    assert hub.watch() == []
    for i in range(QUEUE_LIMIT + 5):
        hub.publish("targets", "targets.changed", {"i": i})
    assert hub.publish("alerts", "alert.firing", {}) == 0
    await asyncio.sleep(0)  # let the loop run the queued offers
    assert sub.queue.qsize() == QUEUE_LIMIT and sub.dropped == 6
    assert topic_of("alert.resolved") == "alerts" and topic_of("report.generated") is None
