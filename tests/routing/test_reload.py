"""alertmanager_config is reloaded by POST /-/reload, SIGHUP or a changed file, as Alertmanager reloads:
the new tree routes the next alerts, receivers follow the file, and a broken file changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nightowl.core.clock import ManualClock
from tests.conftest import credential_for
from tests.notify.flow import settle
from tests.notify.receiver import receiver
from tests.support.apps import admin_client, running_app


def am_yaml(receiver_name: str, url: str, group_wait: str = "10s") -> str:
    return f"""
route:
  receiver: {receiver_name}
  group_by: [alertname]
  group_wait: {group_wait}
receivers:
- name: {receiver_name}
  webhook_configs:
  - url: '{url}'
"""


async def test_reload_switches_receivers_and_a_broken_file_keeps_the_running_config(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "alertmanager.yml"
    async with receiver() as first, receiver() as second:
        path.write_text(am_yaml("team-a", first.url + "/a"))
        async with running_app(make_settings, clock, alertmanager_config=path) as app, admin_client(app) as client:
            await app.state.nightowl.scheduler.stop()  # driven by hand
            await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "Before"}}])
            clock.advance(10)
            await settle(app)
            assert [r.json()["receiver"] for r in first.requests] == ["team-a"]

            path.write_text(am_yaml("team-b", second.url + "/b", group_wait="20s"))
            answer = await client.post("/-/reload")
            assert answer.status_code == 200 and answer.json() == {"status": "success"}
            channels = (await client.get("/api/v1/channels")).json()
            assert [c["receiver"] for c in channels if c["source"] == "alertmanager.yml"] == ["team-b"]
            assert (await client.get("/api/v2/receivers")).json() == [{"name": "team-b"}]

            await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "After"}}])
            clock.advance(10)
            await settle(app)
            assert second.requests == []  # the new group_wait (20 s) applies
            clock.advance(10)
            await settle(app)
            assert {a["labels"]["alertname"] for r in second.requests for a in r.json()["alerts"]} >= {"After"}
            assert len(first.requests) == 1  # "Before" was notified once, not again after the reload

            path.write_text("route: [this is not a route")
            broken = await client.post("/-/reload")
            assert broken.status_code == 422
            assert str(path) in broken.json()["detail"] and broken.json()["field"] == "config"
            assert (await client.get("/api/v2/receivers")).json() == [{"name": "team-b"}]

            viewer = {"Authorization": f"Bearer {credential_for(app, scopes=['read', 'write'])}"}
            assert (await client.post("/-/reload", headers=viewer)).status_code == 403


async def test_a_changed_file_is_picked_up_by_the_watcher(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(am_yaml("team-a", "http://127.0.0.1:9/a"))
    async with running_app(make_settings, clock, alertmanager_config=path) as app, admin_client(app) as client:
        nightowl = app.state.nightowl
        await nightowl.scheduler.stop()
        path.write_text(am_yaml("team-c", "http://127.0.0.1:9/c") + "\n# edited\n")
        await nightowl.scheduler.run_now("alertmanager-config-watch")
        assert (await client.get("/api/v2/receivers")).json() == [{"name": "team-c"}]
