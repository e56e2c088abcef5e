"""Issue #8's "done when": a demo incident becomes an e-mail, a Slack message, a PagerDuty incident that
triggers and resolves, and a signed webhook, within the rule's timing, through the real server.

Everything is real except time: the demo platform is scraped through Nightowl's HTTP app, the demo rule
pack is evaluated by the rule manager, alerts go through routing and the durable outbox, and each
notification reaches a real local server (aiosmtpd for SMTP, HTTP receivers that check each vendor's
documented payload). The clock is manual and advanced in the scrape/evaluation rhythm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from tests.notify.receiver import Reply, Request, receiver
from tests.notify.test_pagerduty import events_api
from tests.notify.test_slack import check_block_kit
from tests.notify.test_webhook_end_to_end import verify
from tests.support.apps import admin_client
from tests.support.demo import DEMO_SEED, STEP, DemoDriver
from tests.support.smtp import Inbox

ALERT = "PaymentFailureSpike"
# Failures over 20 % of a 1 m rate window (~40 s into the burst) + `for: 30s` + one evaluation
# interval + the default route's group_wait (30 s) + one step of slack for the scrape rhythm.
FIRING_DEADLINE = 40 + 30 + STEP + 30 + STEP


@dataclass
class SlackApi:
    """chat.postMessage answers a ts; chat.update must name it (the message is edited on resolve)."""

    posted: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: Request) -> Reply:
        assert request.headers["authorization"] == "Bearer xoxb-demo"
        body = request.json()
        check_block_kit(body)
        ts = f"1700000000.{len(self.posted):06d}"
        if request.path == "/api/chat.postMessage":
            self.posted.append(body)
        else:
            assert request.path == "/api/chat.update" and body["ts"].startswith("1700000000.")
            self.updated.append(body)
            ts = body["ts"]
        return 200, f'{{"ok": true, "channel": "C0DEMO", "ts": "{ts}"}}', {"Content-Type": "application/json"}


async def add_channel(client: httpx.AsyncClient, name: str, kind: str, config: dict[str, Any]) -> None:
    response = await client.post(
        "/api/v1/channels", json={"name": name, "kind": kind, "receiver": "default", "config": config}
    )
    assert response.status_code == 201, response.text


def about(alertname: str, bodies: list[dict[str, Any]], key: str = "text") -> list[dict[str, Any]]:
    return [b for b in bodies if alertname in str(b.get(key, b))]


async def test_a_payment_failure_burst_reaches_email_slack_pagerduty_and_a_signed_webhook(
    make_settings: Any, clock: ManualClock, inbox: Inbox
) -> None:
    app: FastAPI = create_app(make_settings(demo=True, demo_seed=DEMO_SEED, port=3999), clock=clock)
    slack_api = SlackApi()
    async with (
        app.router.lifespan_context(app),
        admin_client(app) as client,
        receiver(handler=slack_api) as slack,
        receiver(handler=events_api) as pagerduty,
        receiver() as hook,
    ):
        demo = DemoDriver(app, clock)
        await demo.prepare()

        await add_channel(
            client,
            "on-call mail",
            "email",
            {
                "host": "127.0.0.1",
                "port": inbox.port,
                "tls": "starttls",
                "verify_tls": False,
                "username": "alerts",
                "password": "pw",
                "from": "nightowl@example.com",
                "to": "oncall@example.com",
            },
        )
        await add_channel(
            client, "slack #ops", "slack", {"token": "xoxb-demo", "channel": "C0DEMO", "api_url": slack.url + "/api"}
        )
        await add_channel(
            client, "pagerduty", "pagerduty", {"routing_key": "R0UT1NGKEY", "api_url": pagerduty.url + "/v2/enqueue"}
        )
        await add_channel(client, "signed hook", "webhook", {"url": hook.url + "/hook", "secret": "s3cret"})

        for _ in range(8):  # two minutes of normal traffic, so the rate windows hold healthy data first
            await demo.step()
        assert not about(ALERT, [r.json() for r in hook.requests], "groupLabels")

        started = clock.now()
        incident = await client.post(
            "/api/v1/demo/incidents", json={"service": "payment", "kind": "failure_burst", "duration": "3m"}
        )
        assert incident.status_code == 201, incident.text

        def hook_payloads(status: str) -> list[dict[str, Any]]:
            return [
                r.json()
                for r in hook.requests
                if r.json()["groupLabels"].get("alertname") == ALERT and r.json()["status"] == status
            ]

        def pd_events(action: str) -> list[dict[str, Any]]:
            bodies = [r.json() for r in pagerduty.requests]
            return [b for b in bodies if b["event_action"] == action]

        firing_at: float | None = None
        while firing_at is None and clock.now() - started <= FIRING_DEADLINE:
            await demo.step()
            if hook_payloads("firing"):
                firing_at = clock.now()
        assert firing_at is not None, f"no firing notification within {FIRING_DEADLINE} s of the incident"

        # Every channel got the same incident in the same delivery round.
        [fired] = hook_payloads("firing")
        [alert] = fired["alerts"]
        assert alert["labels"]["service"] == "payment" and alert["labels"]["severity"] == "error"
        assert "of payments fail on payment (over 20 %)" in alert["annotations"]["summary"]
        assert about(ALERT, slack_api.posted), "Slack message"
        [trigger] = [b for b in pd_events("trigger") if "payments fail on payment" in b["payload"]["summary"]]
        assert trigger["payload"]["severity"] == "error" and trigger["routing_key"] == "R0UT1NGKEY"
        mails = [mail for _, mail in inbox.mails if ALERT in mail["Subject"]]
        assert len(mails) == 1 and "[FIRING:1]" in mails[0]["Subject"]
        # with a graph of the failure ratio over the last hour, inline
        [graph] = [part for part in mails[0].walk() if part.get_content_type() == "image/png"]
        html = next(p for p in mails[0].walk() if p.get_content_type() == "text/html").get_payload(decode=True)
        content_id = "".join(str(graph["Content-ID"]).split()).strip("<>")  # the header may be folded
        assert f'src="cid:{content_id}"'.encode() in html
        assert graph.get_payload(decode=True).startswith(b"\x89PNG")
        firing_request = next(r for r in hook.requests if r.json() == fired)
        assert verify("s3cret", firing_request.headers, firing_request.body)

        # The burst ends after 3 minutes; the rate falls, the alert resolves, and every channel hears of it
        # at the group's next flush (group_interval 5m), PagerDuty with the same dedup_key.
        resolved_deadline = started + 180 + 60 + STEP + 300 + STEP
        while not hook_payloads("resolved") and clock.now() <= resolved_deadline:
            await demo.step()
        [resolved] = hook_payloads("resolved")
        assert [b["dedup_key"] for b in pd_events("resolve")].count(trigger["dedup_key"]) == 1
        assert about(ALERT, slack_api.updated), "the Slack message is updated on resolve"
        assert [m["Subject"].split("]")[0] for _, m in inbox.mails if ALERT in m["Subject"]] == [
            "[FIRING:1",
            "[RESOLVED",
        ]
        resolved_request = next(r for r in hook.requests if r.json() == resolved)
        assert verify("s3cret", resolved_request.headers, resolved_request.body)

        log = (await client.get("/api/v1/notifications?limit=500")).json()
        mine = [e for e in log if any(a.get("alertname") == ALERT for a in e["alerts"])]
        assert len(mine) == 8 and {e["status"] for e in mine} == {"delivered"}


async def test_starting_a_demo_incident_is_validated_and_needs_write(make_settings: Any, clock: ManualClock) -> None:
    from tests.conftest import credential_for

    app: FastAPI = create_app(make_settings(demo=True, demo_seed=DEMO_SEED, port=3999), clock=clock)
    async with app.router.lifespan_context(app), admin_client(app) as client:
        bad = await client.post("/api/v1/demo/incidents", json={"service": "nope", "kind": "down"})
        assert bad.status_code == 422 and bad.json()["field"] == "service"
        bad = await client.post("/api/v1/demo/incidents", json={"service": "payment", "kind": "down", "duration": "7h"})
        assert bad.status_code == 422 and bad.json()["field"] == "duration"
        bad = await client.post(
            "/api/v1/demo/incidents", json={"service": "payment", "kind": "down", "duration": "soon"}
        )
        assert bad.status_code == 422 and bad.json()["field"] == "duration"
        bad = await client.post("/api/v1/demo/incidents", json={"service": "payment", "kind": "meteor"})
        assert bad.status_code == 422

        viewer = {"Authorization": f"Bearer {credential_for(app, scopes=['read'])}"}
        refused = await client.post(
            "/api/v1/demo/incidents", json={"service": "payment", "kind": "down"}, headers=viewer
        )
        assert refused.status_code == 403

        started = await client.post(
            "/api/v1/demo/incidents", json={"service": "payment", "kind": "down", "duration": 90}
        )
        assert started.status_code == 201
        assert started.json() == {"service": "payment", "kind": "down", "start": clock.now(), "end": clock.now() + 90}
        assert (await client.get("/demo/payment/health")).status_code == 503
        listed = (await client.get("/api/v1/demo/incidents")).json()
        assert {"service": "payment", "kind": "down", "start": clock.now(), "end": clock.now() + 90} in listed
        audit = (await client.get("/api/v1/audit", params={"action": "demo.incident_started"})).json()
        assert any(e["object_id"] == "payment" for e in audit["items"])
        clock.advance(91)
        assert (await client.get("/demo/payment/health")).status_code == 200


async def test_without_the_demo_the_incident_api_says_so(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/demo/incidents", json={"service": "payment", "kind": "down"})
    assert answer.status_code == 404 and "--demo" in answer.json()["detail"]
