"""Through the API, as the people who configure them: checks, channels, event webhooks and scrape targets
aimed at loopback are refused unless `outbound_allow_loopback` is on, and failures read alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nightowl.core.clock import ManualClock
from nightowl.outbound import OutboundDenied
from tests.conftest import credential_for
from tests.health.servers import closed_port
from tests.notify.receiver import receiver
from tests.support.apps import admin_client, http_client, running_app

REFUSED = (
    "destination not allowed by the outbound policy: 127.0.0.1 is a loopback address (set outbound_allow_loopback)"
)


def as_role(app: Any, role: str) -> Any:
    return http_client(app, headers={"Authorization": f"Bearer {credential_for(app, role=role)}"})


async def test_an_editors_check_cannot_reach_loopback_by_default(
    make_settings: Callable[..., Any], clock: ManualClock
) -> None:
    async with receiver() as server, running_app(make_settings, clock, outbound_allow_loopback=False) as app:
        app.state.nightowl.scheduler.remove("health-checks")
        async with as_role(app, "editor") as editor:
            created = await editor.post(
                "/api/v1/checks", json={"name": "inside", "type": "http", "target": f"{server.url}/admin"}
            )
            assert created.status_code == 201, created.text
            run = (await editor.post(f"/api/v1/checks/{created.json()['id']}/run")).json()
            assert run["result"]["outcome"] == "down" and run["result"]["error"] == REFUSED
            viewer = as_role(app, "viewer")
            shown = (await viewer.get(f"/api/v1/checks/{created.json()['id']}")).json()
            assert shown["state"]["last_error"] == REFUSED
            await viewer.aclose()
        assert server.requests == []


async def test_with_the_allowance_a_check_reaches_loopback_and_a_closed_port_says_only_connection_failed(
    make_settings: Callable[..., Any], clock: ManualClock
) -> None:
    async with receiver() as server, running_app(make_settings, clock, outbound_allow_loopback=True) as app:
        app.state.nightowl.scheduler.remove("health-checks")
        async with as_role(app, "editor") as editor:
            up = await editor.post("/api/v1/checks", json={"name": "a", "type": "http", "target": f"{server.url}/"})
            closed = await editor.post(
                "/api/v1/checks", json={"name": "b", "type": "tcp", "target": f"127.0.0.1:{closed_port()}"}
            )
            assert (await editor.post(f"/api/v1/checks/{up.json()['id']}/run")).json()["result"]["outcome"] == "up"
            result = (await editor.post(f"/api/v1/checks/{closed.json()['id']}/run")).json()["result"]
            assert (result["outcome"], result["error"]) == ("down", "connection failed")


async def test_a_channel_test_send_by_an_editor_is_refused_and_not_retried(
    make_settings: Callable[..., Any], clock: ManualClock
) -> None:
    async with receiver() as server, running_app(make_settings, clock, outbound_allow_loopback=False) as app:
        async with admin_client(app) as admin:
            channel = await admin.post(
                "/api/v1/channels",
                json={"name": "hook", "kind": "webhook", "receiver": "default", "config": {"url": server.url}},
            )
            assert channel.status_code == 201, channel.text
        async with as_role(app, "editor") as editor:
            entry = (await editor.post(f"/api/v1/channels/{channel.json()['id']}/test")).json()
        assert (entry["status"], entry["error"]) == ("dead", REFUSED)
        assert server.requests == []


async def test_a_channel_to_a_closed_port_says_only_connection_failed(
    make_settings: Callable[..., Any], clock: ManualClock
) -> None:
    async with running_app(make_settings, clock, outbound_allow_loopback=True) as app, admin_client(app) as admin:
        url = f"http://127.0.0.1:{closed_port()}/"
        body = {"name": "hook", "kind": "webhook", "receiver": "default", "config": {"url": url}}
        channel = (await admin.post("/api/v1/channels", json=body)).json()
        async with as_role(app, "editor") as editor:
            entry = (await editor.post(f"/api/v1/channels/{channel['id']}/test")).json()
        assert (entry["status"], entry["error"]) == ("pending", "connection failed")


async def test_event_webhooks_and_forwarders_are_refused(make_settings: Callable[..., Any], clock: ManualClock) -> None:
    async with receiver() as server, running_app(make_settings, clock, outbound_allow_loopback=False) as app:
        async with admin_client(app) as admin:
            hook = await admin.post(
                "/api/v1/integrations/webhooks", json={"name": "hub", "url": server.url, "events": ["*"]}
            )
            assert hook.status_code == 201, hook.text
            answer = (await admin.post(f"/api/v1/integrations/webhooks/{hook.json()['id']}/test")).json()
            assert answer == {"ok": False, "status_code": None, "error": REFUSED}
            forwarder = await admin.put(
                "/api/v1/integrations/external/remote_write", json={"url": f"{server.url}/api/v1/write"}
            )
            assert forwarder.status_code == 200, forwarder.text
            answer = (await admin.post("/api/v1/integrations/external/remote_write/test")).json()
            assert answer == {"ok": False, "status_code": None, "error": REFUSED}
        assert server.requests == []


async def test_a_scrape_target_added_through_the_api_keeps_to_the_policy(
    make_settings: Callable[..., Any], clock: ManualClock
) -> None:
    """Targets of the config file are the administrator's; those added through the API are judged."""
    async with (
        receiver(body="up 1\n") as server,
        running_app(make_settings, clock, outbound_allow_loopback=False) as app,
    ):
        nightowl = app.state.nightowl
        async with as_role(app, "editor") as editor:
            created = await editor.post(
                "/api/v1/targets", json={"job": "inside", "address": f"127.0.0.1:{server.port}"}
            )
            assert created.status_code == 201, created.text
        (key,) = nightowl.scraper.pools["inside"].targets
        state = await nightowl.scraper.scrape_once("inside", key)
        assert state.health == "down" and REFUSED in state.last_error
        assert server.requests == []


async def test_the_demo_reaches_its_own_address_and_nothing_else_on_loopback(
    make_settings: Callable[..., Any], clock: ManualClock
) -> None:
    """`--demo` checks its services over its own HTTP server: that address is allowed, the rest of 127/8 not."""
    async with receiver() as own:
        settings = {"demo": True, "port": own.port, "outbound_allow_loopback": False}
        async with running_app(make_settings, clock, **settings) as app:
            nightowl = app.state.nightowl
            nightowl.scheduler.remove("health-checks")
            check = next(c for c in nightowl.checks.checks.values() if c.spec.name == "demo-payment")
            result = await nightowl.checks.run_now(check.id)
            assert (result.outcome, result.error) == ("up", None)
            assert own.requests[0].path == "/demo/payment/health"
            assert await nightowl.outbound.resolve("127.0.0.1", own.port) == ["127.0.0.1"]
            with pytest.raises(OutboundDenied):
                await nightowl.outbound.resolve("127.0.0.2", own.port)
