"""Secrets in stored configuration are write-only: every caller, admin included, sees `<secret>`, and a
definition sent back as it was shown keeps the stored secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nightowl.auth.redact import MASK, mask_url, restore_value
from nightowl.core.clock import ManualClock
from nightowl.core.errors import InvalidInput
from nightowl.notify import store
from nightowl.routing.redacted import redacted_yaml
from tests.auth.seeds import CHANNEL, HTTP_CHECK, INTEGRATION, PG_CHECK, SECRETS, leaked, seed, write_alertmanager_yml
from tests.support.apps import admin_client, http_client, running_app


@pytest.fixture
async def seeded(make_settings: Any, clock: ManualClock, tmp_path: Path) -> AsyncIterator[FastAPI]:
    async with running_app(make_settings, clock, alertmanager_config=write_alertmanager_yml(tmp_path)) as app:
        async with admin_client(app) as admin:
            app.state.seed_ids = await seed(admin)
        yield app


def as_role(app: FastAPI, role: str) -> httpx.AsyncClient:
    from tests.conftest import credential_for

    return http_client(app, headers={"Authorization": f"Bearer {credential_for(app, role=role)}"})


async def test_status_shows_the_alertmanager_config_with_every_secret_masked(seeded: FastAPI) -> None:
    async with as_role(seeded, "viewer") as viewer:
        original = (await viewer.get("/api/v2/status")).json()["config"]["original"]
    assert leaked(original) == []
    assert "smtp_auth_password: <secret>" in original
    assert "bot_token: <secret>" in original
    assert "routing_key: <secret>" in original and "service_key: <secret>" in original
    assert "url: <secret>" in original and "webhook_url: <secret>" in original
    assert "password: <secret>" in original and "credentials: <secret>" in original
    assert "chat_id: -1001234567890" in original and "smtp_auth_username: am" in original


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
async def test_no_role_reads_channel_integration_or_check_secrets(seeded: FastAPI, role: str) -> None:
    ids = seeded.state.seed_ids
    async with as_role(seeded, role) as c:
        answers = [
            await c.get("/api/v1/channels"),
            await c.get(f"/api/v1/channels/{ids['channel']}"),
            await c.get("/api/v1/integrations/webhooks"),
            await c.get(f"/api/v1/integrations/webhooks/{ids['integration']}"),
            await c.get("/api/v1/integrations/external"),
            await c.get("/api/v1/checks"),
            await c.get(f"/api/v1/checks/{ids['http_check']}"),
        ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert leaked(answer.text) == [], answer.request.url
    channel = answers[1].json()["config"]
    assert channel["url"] == f"https://hooks.example/{MASK}"
    assert channel["headers"] == {"Authorization": MASK, "Content-Type": "application/json"}
    assert channel["secret"] == MASK
    check = answers[6].json()["spec"]
    assert check["target"] == f"https://api.example/health?token={MASK}"
    assert check["headers"] == {"X-Api-Key": MASK, "Accept": "application/json"}
    assert check["body"] == MASK


async def test_a_channel_sent_back_as_shown_keeps_its_secrets(seeded: FastAPI) -> None:
    nightowl = seeded.state.nightowl
    channel_id = seeded.state.seed_ids["channel"]
    async with admin_client(seeded) as admin:
        shown = (await admin.get(f"/api/v1/channels/{channel_id}")).json()
        shown["name"] = "renamed"
        assert (await admin.put(f"/api/v1/channels/{channel_id}", json=shown)).status_code == 200
        with nightowl.engine.connect() as conn:
            record = store.get_channel(conn, channel_id)
        assert record is not None and record.name == "renamed"
        assert record.plain_config(nightowl.secrets) == {**CHANNEL["config"], "format": "alertmanager", "max_alerts": 0}
        # A mask where no secret is stored is refused, not stored as the secret.
        fresh = {**CHANNEL, "name": "new", "config": {"url": f"https://x.example/{MASK}"}}
        refused = await admin.post("/api/v1/channels", json=fresh)
        assert refused.status_code == 422 and refused.json()["field"] == "config.url"


async def test_an_integration_webhook_sent_back_as_shown_keeps_its_secrets(seeded: FastAPI) -> None:
    webhook_id = seeded.state.seed_ids["integration"]
    async with admin_client(seeded) as admin:
        shown = (await admin.get(f"/api/v1/integrations/webhooks/{webhook_id}")).json()
        body = {k: shown[k] for k in ("name", "url", "events", "headers", "secret", "enabled")}
        assert (await admin.put(f"/api/v1/integrations/webhooks/{webhook_id}", json=body)).status_code == 200
    stored = seeded.state.nightowl.integrations.webhooks.get(webhook_id)
    assert stored.url == INTEGRATION["url"] and stored.headers == INTEGRATION["headers"]


async def test_a_check_sent_back_as_shown_keeps_its_secrets(seeded: FastAPI) -> None:
    runner = seeded.state.nightowl.checks
    async with admin_client(seeded) as admin:
        for name, original in (("http_check", HTTP_CHECK), ("pg_check", PG_CHECK)):
            check_id = seeded.state.seed_ids[name]
            shown = (await admin.get(f"/api/v1/checks/{check_id}")).json()["spec"]
            assert (await admin.put(f"/api/v1/checks/{check_id}", json=shown)).status_code == 200
            spec = runner.checks[check_id].spec
            assert spec.target == original["target"]
            assert spec.headers == original.get("headers", {}) and spec.body == original.get("body")


async def test_a_check_pointed_elsewhere_does_not_take_its_secrets_along(seeded: FastAPI) -> None:
    """An editor kept the masks and changed the target to a host of theirs: the stored headers, body and
    token would have gone there on the next run."""
    runner = seeded.state.nightowl.checks
    check_id = seeded.state.seed_ids["http_check"]
    async with admin_client(seeded) as admin:
        shown = (await admin.get(f"/api/v1/checks/{check_id}")).json()["spec"]
        moved = {**shown, "target": "https://attacker.example/collect"}
        refused = await admin.put(f"/api/v1/checks/{check_id}", json=moved)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] in ("headers", "body")
        assert runner.checks[check_id].spec.target == HTTP_CHECK["target"]
        same_host = {**shown, "target": shown["target"].replace("/health", "/healthz")}
        assert (await admin.put(f"/api/v1/checks/{check_id}", json=same_host)).status_code == 200
        assert runner.checks[check_id].spec.headers == HTTP_CHECK.get("headers", {})


async def test_forwarder_url_credentials_are_masked_and_kept(seeded: FastAPI) -> None:
    async with admin_client(seeded) as admin:
        shown = (await admin.get("/api/v1/integrations/external/remote_write")).json()
        assert shown["url"] == f"https://grafana:{MASK}@prometheus.example/api/prom/push"
        body = {"url": shown["url"], "api_key": shown["api_key"], "enabled": False}
        assert (await admin.put("/api/v1/integrations/external/remote_write", json=body)).status_code == 200
    from nightowl.integrations.forward import manage

    stored = manage.get(seeded.state.nightowl.engine, "remote_write")
    assert SECRETS["forwarder_url_password"] in stored.settings["url"]


def test_an_edited_url_keeps_the_masked_parts_it_was_shown() -> None:
    current = "https://u:pw@h.example/a?token=t0k&region=eu"
    shown = mask_url(current)
    assert shown == f"https://u:{MASK}@h.example/a?token={MASK}&region={MASK}"
    edited = shown.replace("/a?", "/b?")
    assert restore_value("url", edited, current, "target") == "https://u:pw@h.example/b?token=t0k&region=eu"
    with pytest.raises(InvalidInput, match="target"):
        restore_value("url", f"https://u:{MASK}@h.example/?other={MASK}", current, "target")


def test_a_header_map_keeps_masked_values_case_insensitively() -> None:
    assert restore_value("headers", {"authorization": MASK, "X-New": "v"}, {"Authorization": "B s"}, "headers") == {
        "authorization": "B s",
        "X-New": "v",
    }


def test_every_kind_of_alertmanager_secret_is_masked_and_file_references_are_not() -> None:
    text = """
global:
  victorops_api_key: s-vo
  wechat_api_secret: s-wc
  http_config:
    oauth2: {client_id: c, client_secret: s-oauth, token_url: 'https://t.example'}
    tls_config: {cert_file: /etc/c.pem, key: s-tlskey}
    bearer_token: s-bearer
    proxy_connect_header: {Proxy-Authorization: [s-proxy]}
route: {receiver: r}
receivers:
- name: r
  pushover_configs: [{user_key: s-pu, token: s-pt}]
  opsgenie_configs: [{api_key: s-og}]
  victorops_configs: [{api_key: s-vo2, routing_key: s-vr}]
  wechat_configs: [{api_secret: s-wc2}]
  slack_configs: [{api_url: 'https://hooks.slack.com/services/s-slack'}]
  webhook_configs: [{url_file: /etc/hook-url, http_config: {basic_auth: {username: u, password_file: /etc/p}}}]
  email_configs: [{to: a@example.com, auth_password: s-mail}]
"""
    shown = redacted_yaml(text)
    assert [line for line in shown.splitlines() if " s-" in line or "/s-" in line or "[s-" in line] == []
    assert "/etc/hook-url" in shown and "/etc/p" in shown and "/etc/c.pem" in shown
    assert "client_id: c" in shown and "username: u" in shown
