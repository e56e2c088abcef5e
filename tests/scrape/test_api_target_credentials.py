"""A job's scrape credentials stay with the targets they were configured for: a target added through
/api/v1/targets (it can name any host) is scraped without the job's basic_auth or authorization."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from nightowl.core.clock import ManualClock
from nightowl.scrape.config import TLSConfig
from nightowl.scrape.scraper import carries_credentials, without_client_certificate
from nightowl.scrape.targets import Target
from tests.support.apps import http_client, running_app


class Exporter:
    """Answers every scrape and remembers the Authorization header each host received."""

    def __init__(self) -> None:
        self.authorization: dict[str, str | None] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.authorization[request.url.host] = request.headers.get("authorization")
        return httpx.Response(200, text="up_value 1\n")


@pytest.mark.parametrize(
    ("auth", "sent"),
    [
        ({"basic_auth": {"username": "prom", "password": "scrape-pass-1"}}, "Basic cHJvbTpzY3JhcGUtcGFzcy0x"),
        ({"authorization": {"credentials": "scrape-token-2"}}, "Bearer scrape-token-2"),
    ],
)
async def test_a_target_added_by_an_editor_does_not_receive_the_jobs_credentials(
    make_settings: Any, clock: ManualClock, auth: dict[str, Any], sent: str
) -> None:
    job = {"job_name": "node", "static_configs": [{"targets": ["node-exporter:9100"]}], **auth}
    async with running_app(make_settings, clock, scrape_configs=[job]) as app:
        from tests.conftest import credential_for

        exporter = Exporter()
        scraper = app.state.nightowl.scraper
        scraper.transport = httpx.MockTransport(exporter)
        headers = {"Authorization": f"Bearer {credential_for(app, role='editor')}"}
        async with http_client(app, headers=headers) as editor:
            added = await editor.post("/api/v1/targets", json={"job": "node", "address": "attacker.example:9100"})
            assert added.status_code == 201, added.text
            assert added.json()["credentials_withheld"] is True
        for key in list(scraper.pools["node"].targets):
            await scraper.scrape_once("node", key)
    assert exporter.authorization == {"node-exporter": sent, "attacker.example": None}


def test_targets_without_credentials_keep_the_jobs_ca_but_not_its_client_certificate() -> None:
    tls = TLSConfig(ca_file="/etc/ca.pem", cert_file="/etc/client.pem", key_file="/etc/client.key")
    plain = without_client_certificate(tls)
    assert plain == TLSConfig(ca_file="/etc/ca.pem")
    assert without_client_certificate(None) is None
    assert carries_credentials(Target("node", "http://a:1/metrics", (), {}, 15, 10, {}, "api/123")) is False
    assert carries_credentials(Target("node", "http://a:1/metrics", (), {}, 15, 10, {}, "static/0")) is True
