"""A restart in the middle of `keep_firing_for`, of repeat_interval, of an inhibition and of a silence
changes nothing a receiver sees (the restarts of `for`, queued deliveries and escalations have their
own tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from tests.alerting.test_rule_evaluation import evaluate, rule_file, state_of, write_load
from tests.notify.flow import settle
from tests.notify.receiver import Receiver, receiver
from tests.routing.test_dispatch import AM_YAML, iso, post, sent
from tests.support.apps import admin_client, running_app


@asynccontextmanager
async def started(settings: Any, clock: ManualClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """One life of the instance; the test drives the jobs by hand."""
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        await app.state.nightowl.scheduler.stop()
        async with admin_client(app, "http://n.test") as client:
            yield app, client


def routed_settings(make_settings: Any, tmp_path: Path, hook: Receiver) -> Any:
    path = tmp_path / "alertmanager.yml"
    path.write_text(AM_YAML.replace("{port}", str(hook.port)))
    return make_settings(alertmanager_config=path)


async def test_restart_during_keep_firing_for_keeps_counting(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    files = rule_file(tmp_path)  # HighLoad: for 30s, keep_firing_for 20s, evaluated every 10 s
    async with running_app(make_settings, clock, rule_files=[files]) as app:
        write_load(app, clock, 9)
        evaluate(app, clock, 1)
        evaluate(app, clock, 30)
        write_load(app, clock, 1)
        evaluate(app, clock, 10)  # the condition is gone: kept firing since now
    async with running_app(make_settings, clock, rule_files=[files]) as app:
        async with admin_client(app) as client:
            assert await state_of(client) == "firing"
            write_load(app, clock, 1)
            evaluate(app, clock, 10)  # 10 s of the 20
            assert await state_of(client) == "firing"
            evaluate(app, clock, 10)
            assert await state_of(client) == "inactive"


async def test_restart_between_notifications_neither_repeats_early_nor_forgets_the_repeat(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    disk = {"labels": {"alertname": "Disk", "cluster": "eu"}}
    async with receiver() as hook:
        settings = routed_settings(make_settings, tmp_path, hook)  # group_interval 1m, repeat_interval 1h
        async with started(settings, clock) as (app, client):
            await post(client, clock, disk)
            clock.advance(10)
            await settle(app)
            assert sent(hook) == [("/team", "firing", ["Disk"])]
        async with started(settings, clock) as (app, client):
            for _ in range(2):
                clock.advance(1500)
                await post(client, clock, disk)  # Prometheus keeps re-sending it
                await settle(app)
            assert len(hook.requests) == 1  # 50 min after the notice: not again yet
            clock.advance(600)
            await post(client, clock, disk)
            clock.advance(60)
            await settle(app)
            assert sent(hook) == [("/team", "firing", ["Disk"])] * 2  # the hour is up: repeated once


async def test_restart_keeps_inhibition_and_silences_until_they_end(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    down = {"labels": {"alertname": "Down", "cluster": "eu", "severity": "critical"}}
    slow = {"labels": {"alertname": "Slow", "cluster": "eu", "severity": "warning"}}
    disk = {"labels": {"alertname": "Disk", "cluster": "eu"}}
    async with receiver() as hook:
        settings = routed_settings(make_settings, tmp_path, hook)
        async with started(settings, clock) as (app, client):
            silence = {
                "matchers": [{"name": "alertname", "value": "Disk", "isRegex": False, "isEqual": True}],
                "startsAt": iso(clock.now()),
                "endsAt": iso(clock.now() + 600),
                "createdBy": "ann",
                "comment": "disk swap",
            }
            silence_id = (await client.post("/api/v2/silences", json=silence)).json()["silenceID"]
            await post(client, clock, down, slow, disk)
            clock.advance(10)
            await settle(app)
            assert sent(hook) == [("/pager", "firing", ["Down"])]
        async with started(settings, clock) as (app, client):
            clock.advance(60)
            await post(client, clock, down, slow, disk)
            await settle(app)
            assert len(hook.requests) == 1
            listed = {a["labels"]["alertname"]: a["status"] for a in (await client.get("/api/v2/alerts")).json()}
            assert listed["Slow"]["inhibitedBy"] and listed["Disk"]["silencedBy"] == [silence_id]

            clock.advance(600)  # the silence ends
            await post(client, clock, slow, disk, {**down, "endsAt": iso(clock.now())})  # and Down resolves
            clock.advance(60)
            await settle(app)
            assert sorted(sent(hook)[1:]) == [
                ("/pager", "resolved", ["Down"]),
                ("/team", "firing", ["Disk"]),
                ("/team", "firing", ["Slow"]),
            ]
