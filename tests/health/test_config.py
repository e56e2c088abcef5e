"""Checks, services and groups from the YAML config file: synced into the state database at start,
read-only through the API, updated or removed when the file changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nightowl.app import create_app
from nightowl.config import load_settings
from nightowl.core.clock import ManualClock
from nightowl.core.errors import ConfigError
from tests.support.apps import admin_client

CONFIG = """
groups:
  - name: platform
services:
  - name: website
    group: platform
    critical: true
checks:
  - name: home page
    type: http
    target: https://example.invalid/
    interval: 30
    timeout: 5
    service: website
    degraded_latency: 0.5
    failures_to_down: 3
    assertions:
      - {type: keyword, value: Welcome}
  - name: nightly backup
    type: heartbeat
    cron: "0 3 * * *"
    tz: Europe/Paris
    grace: 3600
"""


async def start(config: Path, tmp_path: Path, database_url: str | None, clock: ManualClock) -> dict[str, Any]:
    settings = load_settings(config, data_dir=tmp_path / "data", database_url=database_url)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        async with admin_client(app, "http://t") as client:
            checks = {c["name"]: c for c in (await client.get("/api/v1/checks")).json()["checks"]}
            services = (await client.get("/api/v1/health/services")).json()
            any_id = next(iter(checks.values()))["id"] if checks else None
            edit = await client.delete(f"/api/v1/checks/{any_id}") if any_id else None
            service_edit = await client.delete("/api/v1/health/services/website")
    return {"checks": checks, "services": services, "edit": edit, "service_edit": service_edit}


async def test_config_checks_are_synced_and_read_only(
    tmp_path: Path, database_url: str | None, clock: ManualClock
) -> None:
    config = tmp_path / "nightowl.yml"
    config.write_text(CONFIG)
    first = await start(config, tmp_path, database_url, clock)
    assert set(first["checks"]) == {"home page", "nightly backup"}
    home = first["checks"]["home page"]
    assert home["source"] == "config" and home["spec"]["failures_to_down"] == 3
    assert first["checks"]["nightly backup"]["ping_url"].startswith("http://t/ping/")
    assert first["edit"].status_code == 409 and "config file" in first["edit"].json()["detail"]
    assert first["service_edit"].status_code == 409
    assert first["services"]["services"][0]["group"] == "platform"

    config.write_text(CONFIG.replace("interval: 30", "interval: 60").split("  - name: nightly backup")[0])
    second = await start(config, tmp_path, database_url, clock)
    assert set(second["checks"]) == {"home page"}
    assert second["checks"]["home page"]["id"] == home["id"]
    assert second["checks"]["home page"]["spec"]["interval"] == 60


def test_invalid_check_in_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "nightowl.yml"
    config.write_text("checks:\n  - name: x\n    type: tcp\n    target: nope\n")
    with pytest.raises(ConfigError, match=r"checks\.0.*must be host:port"):
        load_settings(config, data_dir=tmp_path)
