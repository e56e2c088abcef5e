"""Escalation policies: levels by time, repeat, acknowledgement, auto-resolve, and a restart in between."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from nightowl.core.errors import InvalidInput
from nightowl.routing.escalation import EXHAUSTED, SEED_POLICIES, advance, notified_receivers, parse_policy, start
from tests.notify.receiver import Receiver, receiver
from tests.routing.factories import T0, alert
from tests.support.apps import admin_client

CRITICAL = parse_policy("p1", SEED_POLICIES[0])


def test_seeded_critical_policy_climbs_the_ladder_then_repeats_once() -> None:
    escalation, first = start("e1", CRITICAL, alert(severity="critical"), T0)
    assert first.receivers == ("on-call",)
    timeline: list[tuple[float, str]] = []
    for minute in range(0, 200):
        escalation, steps = advance(escalation, CRITICAL, T0 + minute * 60)
        timeline += [(minute, step.receivers[0]) for step in steps]
    assert timeline == [
        (5, "team-lead"),
        (20, "engineering-manager"),
        (50, "on-call"),  # repeat 1: the ladder starts over
        (55, "team-lead"),
        (70, "engineering-manager"),
    ]
    assert escalation.status == EXHAUSTED and escalation.next_at is None
    assert notified_receivers(escalation, CRITICAL) == ["on-call", "team-lead", "engineering-manager"]


def test_a_late_job_catches_up_every_level_due() -> None:
    escalation, _ = start("e1", CRITICAL, alert(), T0)
    escalation, steps = advance(escalation, CRITICAL, T0 + 21 * 60)
    assert [s.receivers[0] for s in steps] == ["team-lead", "engineering-manager"]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"name": "", "levels": [{"receivers": ["a"]}]}, "name"),
        ({"name": "x", "levels": []}, "levels"),
        ({"name": "x", "levels": [{"receivers": []}]}, "levels[0].receivers"),
        ({"name": "x", "levels": [{"receivers": ["a"], "delay": "soon"}]}, "levels[0].delay"),
        ({"name": "x", "levels": [{"receivers": ["a"]}], "repeat": -1}, "repeat"),
    ],
)
def test_invalid_policies_name_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_policy("p", spec)
    assert error.value.field == field


async def add_hook(client: httpx.AsyncClient, receiver_name: str, url: str) -> None:
    body = {
        "name": receiver_name,
        "kind": "webhook",
        "receiver": receiver_name,
        "config": {"url": f"{url}/{receiver_name}", "format": "nightowl"},
    }
    assert (await client.post("/api/v1/channels", json=body)).status_code == 201


async def run_escalations(app: Any) -> None:
    pipeline = app.state.nightowl.pipeline
    await asyncio.to_thread(pipeline.escalations.run)
    await pipeline.outbox.deliver_now()


def received(hook: Receiver) -> list[tuple[str, str, str]]:
    return [(r.path.strip("/"), r.json()["kind"], r.json()["note"]) for r in hook.requests]


async def test_escalation_steps_acknowledgement_and_restart(make_settings: Any, clock: ManualClock) -> None:
    settings = make_settings()
    fingerprint = ""
    async with receiver() as hook:
        first = create_app(settings, clock=clock)
        async with first.router.lifespan_context(first):
            await first.state.nightowl.scheduler.stop()
            async with admin_client(first, "http://n") as client:
                policies = (await client.get("/api/v1/escalation-policies")).json()
                assert [p["name"] for p in policies] == ["critical", "error"]
                for name in ("on-call", "team-lead", "engineering-manager"):
                    await add_hook(client, name, hook.url)
                alert_body = {"labels": {"alertname": "Down", "severity": "critical"}, "endsAt": "2099-01-01T00:00:00Z"}
                await client.post("/api/v2/alerts", json=[alert_body])
                await run_escalations(first)
                assert received(hook) == [("on-call", "escalation", "level 1 of critical")]
                clock.advance(5 * 60)
                await run_escalations(first)
                assert received(hook)[-1] == ("team-lead", "escalation", "escalated to level 2 of critical")
                [open_one] = (await client.get("/api/v1/escalations?status=open")).json()
                fingerprint = open_one["fingerprint"]
                assert open_one["level"] == 2

        second = create_app(settings, clock=clock)  # restart between two levels
        async with second.router.lifespan_context(second):
            await second.state.nightowl.scheduler.stop()
            async with admin_client(second, "http://n") as client:
                clock.advance(10 * 60)
                await run_escalations(second)
                assert len(hook.requests) == 2  # 15 minutes for level 2 are not over yet
                ack = await client.post(f"/api/v1/escalations/{fingerprint}/acknowledge", json={"by": "ann"})
                assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
                await second.state.nightowl.pipeline.outbox.deliver_now()
                acks = sorted(path for path, kind, _ in received(hook) if kind == "acknowledgement")
                assert acks == ["on-call", "team-lead"]
                clock.advance(3600)
                await run_escalations(second)
                assert all(path != "engineering-manager" for path, _, _ in received(hook))
                again = await client.post(f"/api/v1/escalations/{fingerprint}/acknowledge", json={"by": "bob"})
                assert again.status_code == 404


async def test_resolved_alert_closes_its_escalation(app: Any, client: httpx.AsyncClient, clock: ManualClock) -> None:
    await app.state.nightowl.scheduler.stop()
    async with receiver() as hook:
        await add_hook(client, "on-call", hook.url)
        labels = {"alertname": "Err", "severity": "error"}
        await client.post("/api/v2/alerts", json=[{"labels": labels, "endsAt": "2099-01-01T00:00:00Z"}])
        await run_escalations(app)
        now = clock.now()
        from datetime import UTC, datetime

        ended = datetime.fromtimestamp(now, UTC).isoformat()
        await client.post("/api/v2/alerts", json=[{"labels": labels, "endsAt": ended}])
        clock.advance(1)
        await run_escalations(app)
        assert [kind for _, kind, _ in received(hook)] == ["escalation", "alert"]
        assert hook.requests[-1].json()["status"] == "resolved"
        assert (await client.get("/api/v1/escalations")).json()[0]["status"] == "resolved"


async def test_exhausted_escalation_does_not_start_over(
    app: Any, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await app.state.nightowl.scheduler.stop()
    async with receiver() as hook:
        await add_hook(client, "on-call", hook.url)
        await add_hook(client, "team-lead", hook.url)
        labels = {"alertname": "Err", "severity": "error"}  # on-call 15m, team-lead 1h, no repeat
        await client.post("/api/v2/alerts", json=[{"labels": labels, "endsAt": "2099-01-01T00:00:00Z"}])
        for _ in range(12):
            await run_escalations(app)
            clock.advance(15 * 60)
        assert [path for path, _, _ in received(hook)] == ["on-call", "team-lead"]
        [escalation] = (await client.get("/api/v1/escalations")).json()
        assert escalation["status"] == "exhausted"
