"""/metrics needs a key with `read`, unless it is made public or the client IP is on the allowlist."""

from __future__ import annotations

import pytest

from nightowl.core.clock import ManualClock
from tests.support.apps import http_client, running_app


async def test_metrics_need_read_by_default(app, anon_client, client_for) -> None:
    assert (await anon_client.get("/metrics")).status_code == 401
    assert (await client_for(scopes=["read"]).get("/metrics")).status_code == 200
    assert (await client_for(scopes=["ingest"]).get("/metrics")).status_code == 403


async def test_metrics_can_be_public(make_settings, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, metrics_public=True) as app, http_client(app) as anon:
        assert (await anon.get("/metrics")).status_code == 200
        assert (await anon.get("/api/v1/workers")).status_code == 401


async def test_metrics_ip_allowlist_holds(make_settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIGHTOWL_METRICS_ALLOW", "10.0.0.1,10.0.1.0/24")
    cases = [("10.0.0.1", True), ("10.0.1.77", True), ("10.0.2.1", False), ("192.168.1.1", False), ("::1", False)]
    async with running_app(make_settings, clock) as app:
        for ip, allowed in cases:
            async with http_client(app, ip=ip) as c:
                assert (await c.get("/metrics")).status_code == (200 if allowed else 401), ip
                assert (await c.get("/api/v1/workers")).status_code == 401, "the allowlist opens /metrics only"
