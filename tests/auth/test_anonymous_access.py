"""anonymous_permissions: Grafana-style anonymous access for trusted networks, off by default."""

from __future__ import annotations

from typing import Any

import pytest

from nightowl.config import load_settings
from nightowl.core.clock import ManualClock
from nightowl.core.errors import ConfigError
from tests.support.apps import http_client, running_app


async def test_anonymous_requests_get_exactly_the_granted_permissions(make_settings: Any, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, anonymous_permissions="read,ingest") as app:
        async with http_client(app) as anon:
            written = await anon.post(
                "/prometheus/api/v1/import/prometheus", content=f"up 1 {int(clock.now() * 1000)}\n"
            )
            assert written.status_code == 204
            query = await anon.get("/prometheus/api/v1/query", params={"query": "up", "time": str(clock.now())})
            assert query.status_code == 200 and query.json()["data"]["result"][0]["value"][1] == "1"
            assert (await anon.get("/api/v1/keys")).status_code == 403
            bad_key = await anon.get("/api/v1/workers", headers={"Authorization": "Bearer nok_wrong"})
            assert bad_key.status_code == 401, "a wrong credential is refused, not treated as anonymous"


async def test_without_the_setting_anonymous_requests_are_refused(make_settings: Any, clock: ManualClock) -> None:
    async with running_app(make_settings, clock) as app:
        async with http_client(app) as anon:
            assert (await anon.get("/prometheus/api/v1/query", params={"query": "up"})).status_code == 401


def test_admin_cannot_be_granted_anonymously(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="anonymous_permissions"):
        load_settings(None, data_dir=tmp_path, anonymous_permissions="read,admin")
