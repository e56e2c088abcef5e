"""Each kind of demo incident fires the demo rule written for it, within the rule's timing, so a newcomer
running `make run` sees alerts: a database latency spike, a failure burst on payments and on an API
service, and a service going down."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from tests.support.apps import admin_client
from tests.support.demo import DEMO_SEED, STEP, DemoDriver

INCIDENTS = [
    ("order", "latency_spike", "DatabaseSlow"),
    ("payment", "failure_burst", "PaymentFailureSpike"),
    ("ticket", "failure_burst", "ApiErrorRate"),
    ("venue", "down", "DemoServiceDown"),
    ("nft-minting", "failure_burst", "SolanaFailureRate"),
]
# window filling (~40 s) + `for` (30 s) + one evaluation interval + one step of slack
DEADLINE = 40 + 30 + 2 * STEP


async def test_every_kind_of_incident_fires_its_rule(make_settings: Any, clock: ManualClock) -> None:
    app: FastAPI = create_app(make_settings(demo=True, demo_seed=DEMO_SEED, port=3999), clock=clock)
    async with app.router.lifespan_context(app), admin_client(app) as client:
        demo = DemoDriver(app, clock)
        await demo.prepare()
        for _ in range(8):  # healthy traffic first, so the rate windows hold normal data
            await demo.step()
        for service, kind, _ in INCIDENTS:
            answer = await client.post(
                "/api/v1/demo/incidents", json={"service": service, "kind": kind, "duration": "150s"}
            )
            assert answer.status_code == 201, answer.text
        started = clock.now()
        expected = {(alert, service) for service, _, alert in INCIDENTS}
        firing: set[tuple[str, str]] = set()
        while not expected <= firing and clock.now() - started <= DEADLINE:
            await demo.step()
            alerts = (await client.get("/prometheus/api/v1/alerts")).json()["data"]["alerts"]
            firing = {
                (a["labels"]["alertname"], a["labels"].get("service", "")) for a in alerts if a["state"] == "firing"
            }
        assert expected <= firing, f"not firing within {DEADLINE} s: {sorted(expected - firing)}"
