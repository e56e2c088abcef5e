"""CORS: off by default; with `cors_allowed_origins` a browser preflight is answered 204 without credentials."""

from __future__ import annotations

from typing import Any

import pytest

from nightowl.config import load_settings
from nightowl.core.clock import ManualClock
from nightowl.core.errors import ConfigError
from tests.support.apps import admin_client, http_client, running_app

GRAFANA = "https://grafana.example.com"
PREFLIGHT = {
    "Origin": GRAFANA,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_an_allowed_origin_gets_its_preflight_answered_without_credentials(
    make_settings: Any, clock: ManualClock
) -> None:
    async with running_app(make_settings, clock, cors_allowed_origins=GRAFANA) as app:
        async with http_client(app) as anonymous:
            answer = await anonymous.options("/prometheus/api/v1/query", headers=PREFLIGHT)
        assert answer.status_code == 204 and answer.content == b""
        assert answer.headers["access-control-allow-origin"] == GRAFANA
        assert "POST" in answer.headers["access-control-allow-methods"]
        assert answer.headers["access-control-allow-headers"] == "authorization, content-type"
        assert "access-control-allow-credentials" not in answer.headers  # no cookies across origins
        async with admin_client(app) as client:
            real = await client.get("/prometheus/api/v1/query", params={"query": "1"}, headers={"Origin": GRAFANA})
        assert real.status_code == 200
        assert real.headers["access-control-allow-origin"] == GRAFANA
        async with http_client(app) as anonymous:
            refused = await anonymous.get("/api/v1/workers", headers={"Origin": GRAFANA})
        assert refused.status_code == 401  # CORS lets the page read the answer; it grants no access
        assert refused.headers["access-control-allow-origin"] == GRAFANA


async def test_another_origin_is_refused_with_a_problem_naming_the_setting(
    make_settings: Any, clock: ManualClock
) -> None:
    async with running_app(make_settings, clock, cors_allowed_origins=GRAFANA) as app, http_client(app) as anonymous:
        answer = await anonymous.options(
            "/prometheus/api/v1/query", headers={**PREFLIGHT, "Origin": "https://evil.example"}
        )
        assert answer.status_code == 400
        assert answer.json()["field"] == "origin" and "cors_allowed_origins" in answer.json()["detail"]
        assert "access-control-allow-origin" not in answer.headers
        simple = await anonymous.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


async def test_without_the_setting_no_cors_headers_are_sent(make_settings: Any, clock: ManualClock) -> None:
    async with running_app(make_settings, clock) as app, http_client(app) as anonymous:
        answer = await anonymous.options("/prometheus/api/v1/query", headers=PREFLIGHT)
        assert "access-control-allow-origin" not in answer.headers
        assert answer.status_code in (401, 405)


def test_an_origin_with_a_path_is_a_configuration_error(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="cors_allowed_origins.*not an origin"):
        load_settings(None, data_dir=tmp_path, cors_allowed_origins="https://grafana.example.com/dashboards")
