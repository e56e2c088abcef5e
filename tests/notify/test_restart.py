"""Restart with queued and half-sent notifications: each is delivered once to a deduplicating receiver."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from nightowl.notify.channels.base import SendContext
from nightowl.notify.message import Message
from tests.notify.flow import settle
from tests.notify.receiver import receiver
from tests.support.apps import admin_client


async def test_restart_delivers_queued_notifications_exactly_once(make_settings: Any, clock: ManualClock) -> None:
    settings = make_settings()
    async with receiver() as hook:
        first = create_app(settings, clock=clock)
        async with first.router.lifespan_context(first):
            await first.state.nightowl.scheduler.stop()  # this test plays the jobs' part by hand
            async with admin_client(first, "http://n") as client:
                channel = (
                    await client.post(
                        "/api/v1/channels",
                        json={"name": "h", "kind": "webhook", "receiver": "default", "config": {"url": hook.url}},
                    )
                ).json()
                alerts = [{"labels": {"alertname": n}, "endsAt": "2099-01-01T00:00:00Z"} for n in ("A", "B")]
                assert (await client.post("/api/v2/alerts", json=alerts)).status_code == 200
            clock.advance(30)
            pipeline = first.state.nightowl.pipeline
            assert len(await asyncio.to_thread(pipeline.dispatcher.tick)) == 2  # two groups queued, none sent
            # one row is sent but the process dies before recording it (the receiver got it)
            row = await asyncio.to_thread(pipeline.outbox._claim, channel["id"])
            ctx = SendContext(http=pipeline.outbox.client(), now=clock.now(), timeout=5)
            message = Message.from_json(json.loads(row["payload"]))
            assert (await pipeline.outbox._send(row["channel"], message, ctx)).ok
        assert len(hook.requests) == 1

        second = create_app(settings, clock=clock)
        async with second.router.lifespan_context(second):
            await settle(second)
            assert len(hook.requests) == 2  # the queued one; the half-sent one waits for its lease
            clock.advance(settings.notify_timeout + 61)
            await settle(second)
            assert len(hook.requests) == 3  # the lease expired: sent again, same idempotency key
            clock.advance(600)
            await settle(second)  # the notification log survived: no group is notified again
            assert len(hook.requests) == 3
            log = second.state.nightowl.pipeline.outbox.log()
    keys = [r.headers["idempotency-key"] for r in hook.requests]
    assert len(set(keys)) == 2
    groups = {r.headers["idempotency-key"]: r.json()["groupLabels"]["alertname"] for r in hook.requests}
    assert sorted(groups.values()) == ["A", "B"]
    assert [e["status"] for e in log] == ["delivered", "delivered"]


async def test_alert_resolved_while_nightowl_was_down_gets_its_resolved_notice(
    make_settings: Any, clock: ManualClock
) -> None:
    settings = make_settings()
    async with receiver() as hook:
        first = create_app(settings, clock=clock)
        async with first.router.lifespan_context(first):
            await first.state.nightowl.scheduler.stop()
            async with admin_client(first, "http://n") as client:
                await client.post(
                    "/api/v1/channels",
                    json={"name": "h", "kind": "webhook", "receiver": "default", "config": {"url": hook.url}},
                )
                await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "A"}}])  # resolves in 5m
            clock.advance(30)
            await settle(first)
        clock.advance(600)  # down while the alert resolved
        second = create_app(settings, clock=clock)
        async with second.router.lifespan_context(second):
            await second.state.nightowl.scheduler.stop()
            await settle(second)
    assert [r.json()["status"] for r in hook.requests] == ["firing", "resolved"]
