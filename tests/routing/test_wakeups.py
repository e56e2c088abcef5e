"""An alert due at once (group_wait 0) wakes the dispatch job, and a dispatched notification the outbox
job, instead of each waiting for its next one-second tick."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nightowl.core.clock import ManualClock
from tests.routing.test_dispatch import post
from tests.support.apps import admin_client, running_app

AM_YAML = """
route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  routes:
  - matchers: [severity="info"]
    receiver: team
    group_wait: 30s
receivers:
- name: team
"""


async def test_an_alert_due_at_once_wakes_dispatch_then_outbox(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(AM_YAML)
    async with running_app(make_settings, clock, alertmanager_config=path) as app:
        nightowl = app.state.nightowl
        await nightowl.scheduler.stop()
        woken: list[str] = []
        nightowl.scheduler.trigger = woken.append
        dispatcher = nightowl.pipeline.dispatcher
        async with admin_client(app) as client:
            await post(client, clock, {"labels": {"alertname": "Later", "severity": "info"}})
            assert woken == []  # group_wait 30s: nothing to do before then
            await post(client, clock, {"labels": {"alertname": "Now", "severity": "critical"}})
            assert woken == ["alert-dispatch"]
            await asyncio.to_thread(dispatcher.tick)
            assert woken == ["alert-dispatch", "notify-outbox"]
