"""Outbox policies: minimum severity, rate limit, expiry into the dead letters, backoff bounds."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from nightowl.notify.channels import CHANNELS
from nightowl.notify.outbox import OutboxSettings, backoff
from tests.notify.flow import settle
from tests.notify.receiver import receiver

ROOT = Path(__file__).resolve().parents[2]


async def hook(client: httpx.AsyncClient, url: str, **options: Any) -> dict[str, Any]:
    body = {"name": "h", "kind": "webhook", "receiver": "default", "config": {"url": url}, **options}
    response = await client.post("/api/v1/channels", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_min_severity_drops_less_severe_notifications(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    async with receiver() as pager, receiver() as everything:
        await hook(client, pager.url, min_severity="critical")
        await hook(client, everything.url)
        alerts = [
            {"labels": {"alertname": "Warn", "severity": "warning"}},
            {"labels": {"alertname": "Crit", "severity": "critical"}},
        ]
        await client.post("/api/v2/alerts", json=alerts)
        clock.advance(30)
        await settle(app)
    assert [r.json()["groupLabels"]["alertname"] for r in pager.requests] == ["Crit"]
    assert sorted(r.json()["groupLabels"]["alertname"] for r in everything.requests) == ["Crit", "Warn"]


async def test_rate_limit_delays_but_never_drops(app: FastAPI, client: httpx.AsyncClient, clock: ManualClock) -> None:
    async with receiver() as target:
        await hook(client, target.url, rate_limit=2)
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": f"A{i}"}} for i in range(5)])
        clock.advance(30)
        await settle(app)
        assert len(target.requests) == 2
        clock.advance(61)
        await settle(app)
        assert len(target.requests) == 4
        clock.advance(61)
        await settle(app)
        assert len(target.requests) == 5


async def test_undeliverable_notification_expires_into_dead_letters(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    outbox = app.state.nightowl.pipeline.outbox
    outbox.settings = OutboxSettings(timeout=2, max_age=120, backoff_base=5)
    async with receiver(status=503) as target:
        await hook(client, target.url)
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "A"}, "endsAt": "2099-01-01T00:00:00Z"}])
        clock.advance(30)
        await settle(app)
        for _ in range(20):
            clock.advance(30)
            await outbox.deliver_now()
        [dead] = (await client.get("/api/v1/notifications?status=dead")).json()
    assert dead["status_code"] == 503 and dead["attempts"] >= 3 and len(target.requests) == dead["attempts"]


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    settings = OutboxSettings(backoff_base=5, backoff_max=600)
    rng = random.Random(1)
    for attempt, full in [(1, 5), (2, 10), (3, 20), (4, 40), (20, 600)]:
        delays = [backoff(attempt, settings, rng) for _ in range(50)]
        assert all(full * 0.5 <= d <= full for d in delays)
        assert max(delays) - min(delays) > 0


def test_every_channel_kind_is_documented_and_tested() -> None:
    docs = (ROOT / "docs" / "alerting.md").read_text()
    tests = "".join(p.read_text() for p in (ROOT / "tests" / "notify").glob("test_*.py"))
    for kind, cls in CHANNELS.items():
        assert f"| `{kind}` |" in docs, f"channel {kind} is missing from docs/alerting.md"
        assert f"{cls.__name__}().send" in tests or f'"kind": "{kind}"' in tests, f"channel {kind} has no test"


async def test_prune_forgets_old_delivery_log_entries(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    async with receiver() as target:
        channel = await hook(client, target.url)
        await client.post(f"/api/v1/channels/{channel['id']}/test")
    pipeline = app.state.nightowl.pipeline
    clock.advance(6 * 86400)
    pipeline.prune()
    assert len((await client.get("/api/v1/notifications")).json()) == 1
    clock.advance(2 * 86400)
    pipeline.prune()
    assert (await client.get("/api/v1/notifications")).json() == []


async def test_a_channel_added_after_an_alert_fired_hears_only_of_what_it_was_told_fired(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """Issue #14: a [RESOLVED] notice reached a channel that never got the [FIRING] one."""

    def alert(name: str, resolved: bool = False) -> dict[str, Any]:
        ends = datetime.fromtimestamp(clock.now(), UTC).isoformat() if resolved else "2099-01-01T00:00:00Z"
        return {"labels": {"alertname": "Disk", "instance": name}, "endsAt": ends}

    def seen(requests: list[Any]) -> list[tuple[str, list[tuple[str, str]]]]:
        return [
            (r.json()["status"], [(a["labels"]["instance"], a["status"]) for a in r.json()["alerts"]]) for r in requests
        ]

    async with receiver() as old, receiver() as new:
        await hook(client, old.url)
        await client.post("/api/v2/alerts", json=[alert("db-1")])
        clock.advance(30)
        await settle(app)
        await hook(client, new.url)
        # db-1 resolves and db-2 fires in the same group: the new channel hears of db-2 only
        await client.post("/api/v2/alerts", json=[alert("db-1", resolved=True), alert("db-2")])
        clock.advance(300)
        await settle(app)
        # db-2 resolves: the new channel was told it fired, so it hears it resolved
        await client.post("/api/v2/alerts", json=[alert("db-2", resolved=True)])
        clock.advance(300)
        await settle(app)
    assert seen(old.requests) == [
        ("firing", [("db-1", "firing")]),
        ("firing", [("db-2", "firing"), ("db-1", "resolved")]),
        ("resolved", [("db-2", "resolved")]),
    ]
    assert seen(new.requests) == [("firing", [("db-2", "firing")]), ("resolved", [("db-2", "resolved")])]


async def test_a_channel_added_after_the_only_alert_fired_gets_no_resolved_notice(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    async with receiver() as old, receiver() as new:
        await hook(client, old.url)
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "Down"}, "endsAt": "2099-01-01T00:00:00Z"}])
        clock.advance(30)
        await settle(app)
        await hook(client, new.url)
        ended = datetime.fromtimestamp(clock.now(), UTC).isoformat()
        await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "Down"}, "endsAt": ended}])
        clock.advance(300)
        await settle(app)
    assert [r.json()["status"] for r in old.requests] == ["firing", "resolved"]
    assert new.requests == []
