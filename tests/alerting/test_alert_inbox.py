"""`/api/v1/alerts` is one inbox: alerts a Prometheus sends to /api/v2/alerts are listed and handled like ours."""

from __future__ import annotations

from typing import Any

from nightowl.core.clock import ManualClock
from tests.conftest import credential_for
from tests.support.apps import admin_client, http_client, running_app

RECEIVED = {
    "labels": {"alertname": "DiskFull", "severity": "warning", "instance": "db1"},
    "annotations": {"summary": "90%"},
}


async def test_alert_from_prometheus_is_listed_acknowledged_snoozed_and_resolved(
    make_settings: Any, clock: ManualClock
) -> None:
    async with running_app(make_settings, clock) as app:
        async with admin_client(app) as client:
            assert (await client.post("/api/v2/alerts", json=[RECEIVED])).status_code == 200
            items = (await client.get("/api/v1/alerts")).json()["items"]
            assert [(a["alertname"], a["source"], a["state"]) for a in items] == [("DiskFull", "received", "firing")]
            alert_id = items[0]["id"]
            assert items[0]["annotations"] == {"summary": "90%"} and items[0]["receivers"] == ["default"]
            assert (await client.get("/api/v1/alerts", params={"source": "rule"})).json()["items"] == []
            bad = await client.get("/api/v1/alerts", params={"source": "elsewhere"})
            assert bad.status_code == 422 and bad.json()["field"] == "source"

            viewer = credential_for(app, role="viewer")
            async with http_client(app, headers={"Authorization": f"Bearer {viewer}"}) as view:
                assert (await view.get(f"/api/v1/alerts/{alert_id}")).json()["source"] == "received"
                assert (await view.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={})).status_code == 403

            clock.advance(10)
            acked = (await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "cleaning"})).json()
            assert acked["acknowledged"]["note"] == "cleaning" and acked["acknowledged"]["by"].startswith("key:")
            listed = (await client.get("/api/v1/alerts", params={"severity": "warning"})).json()["items"]
            assert listed[0]["acknowledged"]["note"] == "cleaning"

            snoozed = (await client.post(f"/api/v1/alerts/{alert_id}/snooze", json={"for": "1h"})).json()
            assert snoozed["snoozed_until"] is not None
            silences = (await client.get("/api/v2/silences")).json()
            assert {m["name"] for m in silences[0]["matchers"]} == {"alertname", "severity", "instance"}

            resolved = (await client.post(f"/api/v1/alerts/{alert_id}/resolve", json={"note": "freed"})).json()
            assert resolved["state"] == "resolved"
            assert (await client.get("/api/v1/alerts", params={"state": "firing"})).json()["items"] == []
            history = (await client.get("/api/v1/alerts/history", params={"fingerprint": alert_id})).json()["items"]
            assert [h["to_state"] for h in history] == ["resolved", "snoozed", "acknowledged"]

            # Prometheus sends it again (it still fires): a new occurrence, not yet acknowledged
            clock.advance(60)
            await client.post("/api/v2/alerts", json=[RECEIVED])
            again = (await client.get(f"/api/v1/alerts/{alert_id}")).json()
            assert again["state"] == "firing" and again["acknowledged"] is None
            assert (await client.post("/api/v1/alerts/0000000000000000/acknowledge", json={})).status_code == 404
