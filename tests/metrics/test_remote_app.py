"""A Nightowl instance with `metrics_url` set keeps its metrics in the remote store and says so in /health."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from nightowl.app import create_app
from nightowl.config import Settings
from nightowl.core.clock import ManualClock
from nightowl.core.errors import ConfigError
from nightowl.metrics.model import Matcher, SampleBatch, labels_from_dict
from nightowl.metrics.remote import RemoteQueryEngine, RemoteStorage
from nightowl.runtime import Nightowl
from tests.conftest import requires
from tests.support import remote_servers
from tests.support.remote_servers import MetricsServer, free_port

pytestmark = (
    []
    if remote_servers.available("victoria-metrics")
    else [requires("victoria-metrics", "apt-get install victoria-metrics (the remote backend is tested against it)")]
)


@pytest.fixture(scope="module")
def vm() -> Iterator[MetricsServer]:
    server = remote_servers.start("victoria-metrics")
    yield server
    server.stop()


@asynccontextmanager
async def serving(settings: Settings, clock: ManualClock) -> AsyncIterator[tuple[Nightowl, httpx.AsyncClient]]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        from tests.conftest import credential_for

        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {credential_for(app, scopes=['admin'])}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://nightowl.test", headers=headers) as client:
            yield app.state.nightowl, client


async def test_metrics_url_makes_the_remote_store_the_backend(
    make_settings: Any, clock: ManualClock, vm: MetricsServer
) -> None:
    async with serving(make_settings(metrics_url=vm.url), clock) as (nightowl, client):
        assert isinstance(nightowl.storage, RemoteStorage)
        assert isinstance(nightowl.query_engine, RemoteQueryEngine)
        health = (await client.get("/health")).json()
        assert health["status"] == "healthy"
        assert {c["name"]: c["status"] for c in health["components"]}["remote_metrics"] == "ok"

        t = int(time.time()) * 1000 - 60_000  # the real server's clock decides what it accepts
        name = f"nightowl_app_test_{uuid.uuid4().hex[:8]}"
        up = labels_from_dict({"__name__": name, "job": "app"})
        nightowl.storage.append(SampleBatch.from_rows([(up, t, 1.0), (up, t + 1000, 0.0)]))
        nightowl.storage.flush()
        vm.refresh()
        (series,) = nightowl.storage.select([Matcher("__name__", "=", name)], t, t + 1000)
        assert series.values.tolist() == [1.0, 0.0]
        assert nightowl.query_engine.instant(f"sum({name})", t + 30_000).series[0].values.tolist() == [0.0]

        exposition = (await client.get("/metrics")).text
        assert 'nightowl_remote_write_samples_total{result="sent"} 2.0' in exposition


async def test_an_unreachable_remote_makes_nightowl_unhealthy(make_settings: Any, clock: ManualClock) -> None:
    settings = make_settings(metrics_url=f"http://127.0.0.1:{free_port()}", metrics_flush_timeout=0.1)
    async with serving(settings, clock) as (_, client):
        response = await client.get("/health")
        assert response.status_code == 503
        remote = {c["name"]: c for c in response.json()["components"]}["remote_metrics"]
        assert remote["status"] == "down" and "cannot reach" in remote["detail"]


def test_conflicting_remote_credentials_are_a_config_error(make_settings: Any) -> None:
    settings = make_settings(
        metrics_url="http://vm:8428", metrics_username="u", metrics_password="p", metrics_bearer_token="t"
    )
    with pytest.raises(ConfigError, match="not both"):
        Nightowl(settings)
    with pytest.raises(ConfigError, match="metrics_url"):
        Nightowl(make_settings(metrics_url="vm:8428"))
