"""`/api/v1/alert-rules`: threshold rules compiled to PromQL (warning + critical in one rule, /test), and
Prometheus rule groups managed through the API with YAML import/export."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from nightowl.metrics.model import SampleBatch, labels_from_dict

DISK = {
    "name": "DiskUsage",
    "metric": "disk_used_percent",
    "filters": [{"label": "mount", "value": "/"}],
    "condition": "gt",
    "warning": 80,
    "critical": 90,
    "duration": "0s",
    "channels": ["ops"],
    "tags": ["disk"],
}


def write(app: FastAPI, clock: ManualClock, host: str, value: float) -> None:
    labels = labels_from_dict({"__name__": "disk_used_percent", "mount": "/", "host": host})
    app.state.nightowl.ingestor.append(SampleBatch.from_rows([(labels, int(clock.now() * 1000), value)]), "test")


async def test_threshold_rule_with_two_levels_fires_the_right_severity(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    created = await client.post("/api/v1/alert-rules", json=DISK)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["compiled"][0]["expr"] == 'disk_used_percent{mount="/"} > 90'
    assert "unless" in rule["compiled"][1]["expr"]

    write(app, clock, "a", 85)
    write(app, clock, "b", 95)
    write(app, clock, "c", 10)
    preview = (await client.post(f"/api/v1/alert-rules/{rule['id']}/test")).json()["alerts"]
    assert sorted((a["labels"]["host"], a["labels"]["severity"]) for a in preview) == [
        ("a", "warning"),
        ("b", "critical"),
    ]

    app.state.nightowl.rules.evaluator.evaluate(f"threshold:{rule['id']}")
    firing = (await client.get("/api/v1/alerts", params={"severity": "critical"})).json()["items"]
    assert [a["labels"]["host"] for a in firing] == ["b"]
    assert firing[0]["labels"]["channels"] == "ops"

    changed = await client.put(f"/api/v1/alert-rules/{rule['id']}", json={**DISK, "critical": 99})
    assert changed.json()["compiled"][0]["expr"].endswith("> 99")
    assert (await client.delete(f"/api/v1/alert-rules/{rule['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/alert-rules/{rule['id']}")).status_code == 404


async def test_invalid_threshold_rules_are_422(client: httpx.AsyncClient) -> None:
    for body in (
        {**DISK, "metric": "not a metric"},
        {**DISK, "condition": "bigger"},
        {**DISK, "threshold": 5},
        {**DISK, "duration": "soon"},
        {k: v for k, v in DISK.items() if k not in ("warning", "critical")},
    ):
        answer = await client.post("/api/v1/alert-rules", json=body)
        assert answer.status_code == 422, (body, answer.text)


GROUP = """
groups:
  - name: api-group
    rules:
      - alert: Up
        expr: vector(1)
        annotations:
          summary: "value {{ $value }}"
"""


async def test_rule_groups_import_export_and_prometheus_view(client: httpx.AsyncClient, app: FastAPI) -> None:
    headers = {"Content-Type": "application/yaml"}
    imported = await client.post("/api/v1/alert-rules/groups", content=GROUP, headers=headers)
    assert imported.status_code == 201 and imported.json() == {"imported": ["api-group"]}
    again = await client.post("/api/v1/alert-rules/groups", content=GROUP, headers=headers)
    assert again.status_code == 409
    broken = await client.post("/api/v1/alert-rules/groups", content=GROUP.replace("vector(1)", "vector("))
    assert broken.status_code == 422

    export = (await client.get("/api/v1/alert-rules/groups/export")).text
    assert "api-group" in export and "vector(1)" in export

    app.state.nightowl.rules.evaluator.evaluate("api-group")
    rules = (await client.get("/prometheus/api/v1/rules")).json()["data"]["groups"]
    assert rules[0]["file"] == "api" and rules[0]["rules"][0]["state"] == "firing"
    assert rules[0]["rules"][0]["alerts"][0]["annotations"] == {"summary": "value 1"}
    assert rules[0]["rules"][0]["health"] == "ok"
    record_only = (await client.get("/prometheus/api/v1/rules", params={"type": "record"})).json()
    assert record_only["data"]["groups"] == []

    replaced = await client.put(
        "/api/v1/alert-rules/groups/api-group", content=GROUP.replace("vector(1)", "vector(2)"), headers=headers
    )
    assert replaced.status_code == 200
    assert (await client.delete("/api/v1/alert-rules/groups/api-group")).status_code == 204
    assert (await client.get("/prometheus/api/v1/alerts")).json()["data"]["alerts"] == []


async def test_rule_routes_need_credentials(anon_client: httpx.AsyncClient) -> None:
    assert (await anon_client.get("/api/v1/alert-rules")).status_code == 401
    assert (await anon_client.get("/prometheus/api/v1/rules")).status_code == 401
    assert (await anon_client.get("/api/v1/alerts")).status_code == 401
