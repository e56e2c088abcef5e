"""/status/runtimeinfo reports the retention as Prometheus does (it said "" whatever was configured)."""

from __future__ import annotations

from typing import Any

import pytest

from nightowl.api.prometheus_status import prom_bytes, prom_duration
from nightowl.core.clock import ManualClock
from tests.support.apps import admin_client, running_app


@pytest.fixture
def database_url() -> None:
    """Nothing here depends on the state database: SQLite only (the PostgreSQL run adds nothing)."""
    return None


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, "30d"),
        ({"tsdb_retention": "14d"}, "2w"),
        ({"tsdb_retention": "36h", "tsdb_retention_size_bytes": 10 * 2**30}, "1d12h or 10GiB"),
    ],
)
async def test_storage_retention_is_reported_like_prometheus(
    make_settings: Any, clock: ManualClock, settings: dict[str, Any], expected: str
) -> None:
    async with running_app(make_settings, clock, **settings) as app, admin_client(app) as client:
        body = (await client.get("/prometheus/api/v1/status/runtimeinfo")).json()
    assert body["data"]["storageRetention"] == expected


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0s"), (30 * 86_400_000, "30d"), (365 * 86_400_000, "1y"), (90 * 86_400_000, "90d"), (5400_500, "1h30m500ms")],
)
def test_durations_read_as_prometheus_writes_them(ms: int, text: str) -> None:
    assert prom_duration(ms) == text


@pytest.mark.parametrize(
    ("n", "text"), [(0, "0B"), (512, "512B"), (10 * 2**30, "10GiB"), (3 * 2**29, "1GiB512MiB"), (2**20 + 1, "1MiB1B")]
)
def test_sizes_read_as_prometheus_writes_them(n: int, text: str) -> None:
    assert prom_bytes(n) == text
