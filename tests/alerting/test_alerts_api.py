"""`/api/v1/alerts`: acknowledge, snooze, resolve by hand, history filters, permissions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nightowl.core.clock import ManualClock
from tests.alerting.test_rule_evaluation import evaluate, rule_file, write_load
from tests.conftest import credential_for
from tests.support.apps import admin_client, http_client, running_app


async def test_acknowledge_snooze_resolve_and_history(make_settings: Any, clock: ManualClock, tmp_path: Path) -> None:
    async with running_app(make_settings, clock, rule_files=[rule_file(tmp_path)]) as app:
        async with admin_client(app) as client:
            write_load(app, clock, 9)
            evaluate(app, clock, 1)
            evaluate(app, clock, 30)
            items = (await client.get("/api/v1/alerts", params={"state": "firing"})).json()["items"]
            assert [a["alertname"] for a in items] == ["HighLoad"]
            alert_id = items[0]["id"]

            viewer = credential_for(app, role="viewer")
            async with http_client(app, headers={"Authorization": f"Bearer {viewer}"}) as view:
                assert (await view.get(f"/api/v1/alerts/{alert_id}")).status_code == 200
                assert (await view.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={})).status_code == 403

            acked = (await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "on it"})).json()
            assert acked["acknowledged"]["note"] == "on it" and acked["state"] == "firing"

            bad = await client.post(f"/api/v1/alerts/{alert_id}/snooze", json={"for": "soon"})
            assert bad.status_code == 422
            snoozed = (await client.post(f"/api/v1/alerts/{alert_id}/snooze", json={"for": "1h"})).json()
            assert snoozed["snoozed_until"] is not None
            silences = (await client.get("/api/v2/silences")).json()
            assert len(silences) == 1 and {m["name"] for m in silences[0]["matchers"]} >= {"alertname", "instance"}

            resolved = (await client.post(f"/api/v1/alerts/{alert_id}/resolve", json={"note": "fixed"})).json()
            assert resolved["state"] == "resolved" and resolved["manually_resolved_by"].startswith("key:")
            assert (await client.get("/api/v1/alerts/nope")).status_code == 404

            history = (await client.get("/api/v1/alerts/history", params={"severity": "critical"})).json()["items"]
            assert [h["to_state"] for h in history] == ["resolved", "snoozed", "acknowledged", "firing", "pending"]
            assert history[0]["note"] == "fixed"
            by_label = await client.get("/api/v1/alerts/history", params={"label": "instance=other"})
            assert by_label.json()["items"] == []
            since = await client.get("/api/v1/alerts/history", params={"since": "2100-01-01T00:00:00Z"})
            assert since.json()["items"] == []
            assert (await client.get("/api/v1/alerts/history", params={"since": "yesterday"})).status_code == 422

            # the condition still holds: a manually resolved alert starts over as pending
            evaluate(app, clock, 10)
            items = (await client.get("/api/v1/alerts", params={"state": "pending"})).json()["items"]
            assert len(items) == 1 and items[0]["acknowledged"] is None


async def test_old_history_is_pruned(make_settings: Any, clock: ManualClock, tmp_path: Path) -> None:
    async with running_app(make_settings, clock, rule_files=[rule_file(tmp_path)], alert_history_retention=3600) as app:
        async with admin_client(app) as client:
            write_load(app, clock, 9)
            evaluate(app, clock, 1)
            clock.advance(7200)
            app.state.nightowl.rules.prune_history()
            old = await client.get("/api/v1/alerts/history", params={"until": str(clock.now() - 3600)})
            assert old.json()["items"] == []


async def test_acknowledging_an_alert_stops_its_escalation(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    async with running_app(make_settings, clock, rule_files=[rule_file(tmp_path)]) as app:
        async with admin_client(app) as client:
            write_load(app, clock, 9)
            evaluate(app, clock, 1)
            evaluate(app, clock, 30)
            app.state.nightowl.pipeline.escalations.run()
            opened = (await client.get("/api/v1/escalations", params={"status": "open"})).json()
            assert len(opened) == 1, "the seeded policy for critical alerts escalates the firing alert"
            alert_id = (await client.get("/api/v1/alerts")).json()["items"][0]["id"]
            assert (await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={})).status_code == 200
            acked = (await client.get("/api/v1/escalations", params={"status": "acknowledged"})).json()
            assert len(acked) == 1
