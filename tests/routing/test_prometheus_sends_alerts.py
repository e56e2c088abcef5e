"""A real Prometheus (Debian's package) fires a rule and sends it to Nightowl's Alertmanager API v2."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from nightowl.app import create_app
from nightowl.config import load_settings
from tests.conftest import credential_for, requires
from tests.notify.receiver import receiver

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

pytestmark = [pytest.mark.serial]
if not Path(PROMETHEUS).exists():
    pytestmark.append(requires("prometheus", "apt-get install prometheus"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.2)


async def test_prometheus_alert_reaches_a_webhook_through_nightowl(tmp_path: Path) -> None:
    port, prom_port = free_port(), free_port()
    async with receiver() as hook:
        am = tmp_path / "alertmanager.yml"
        am.write_text(
            "route: {receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 1m}\n"
            f"receivers: [{{name: hook, webhook_configs: [{{url: '{hook.url}/am'}}]}}]\n"
        )
        settings = load_settings(
            None, data_dir=tmp_path / "data", alertmanager_config=am, outbound_allow_loopback=True
        )  # SQLite is enough; the webhook listens on loopback
        app = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        serving = asyncio.create_task(server.serve())
        await wait_for(lambda: asyncio.sleep(0, result=server.started))

        (tmp_path / "rules.yml").write_text(
            "groups:\n- name: demo\n  interval: 1s\n  rules:\n"
            "  - alert: AlwaysFiring\n    expr: vector(1)\n"
            "    labels: {severity: critical}\n    annotations: {summary: 'fires from Prometheus'}\n"
        )
        (tmp_path / "prometheus.yml").write_text(
            "global: {evaluation_interval: 1s}\nrule_files: [rules.yml]\n"
            "alerting: {alertmanagers: [{api_version: v2, "
            f"basic_auth: {{username: prometheus, password: '{credential_for(app, scopes=['ingest'])}'}}, "
            f"static_configs: [{{targets: ['127.0.0.1:{port}']}}]}}]}}\n"
        )
        prometheus = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                # the first send can come before the alertmanager is discovered: resend soon, not after 1m
                "--rules.alert.resend-delay=1s",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            reader = {"Authorization": f"Bearer {credential_for(app, scopes=['read'])}"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=reader) as client:

                async def alert_arrived() -> bool:
                    return bool((await client.get("/api/v2/alerts")).json())

                await wait_for(alert_arrived)
                [alert] = (await client.get("/api/v2/alerts")).json()
                assert alert["labels"]["alertname"] == "AlwaysFiring"
                assert alert["labels"]["severity"] == "critical"
                assert alert["annotations"]["summary"] == "fires from Prometheus"
                assert alert["generatorURL"].startswith("http")

                async def delivered() -> bool:
                    return bool(hook.requests)

                await wait_for(delivered)
                payload = hook.requests[0].json()
                assert payload["status"] == "firing" and payload["groupLabels"] == {"alertname": "AlwaysFiring"}
        finally:
            prometheus.terminate()
            prometheus.wait(timeout=10)
            server.should_exit = True
            await serving
