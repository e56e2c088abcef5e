"""A real Prometheus scrapes itself and remote-writes to Nightowl: the independent sender end to end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from fastapi import FastAPI

from nightowl.metrics.model import Matcher
from tests.conftest import requires

pytestmark = [] if shutil.which("prometheus") else [requires("prometheus", "apt-get install prometheus")]

CONFIG = """
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ["127.0.0.1:{prometheus_port}"]
remote_write:
  - url: {url}/prometheus/api/v1/write
    queue_config: {{batch_send_deadline: 500ms, min_backoff: 100ms, max_backoff: 1s}}
    metadata_config: {{send_interval: 1s}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_prometheus_remote_writes_its_scrapes_and_metadata(live_app: tuple[FastAPI, str], tmp_path: Path) -> None:
    app, url = live_app
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(CONFIG.format(prometheus_port=port, url=url))
    command = [
        "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    storage = app.state.nightowl.storage
    try:
        deadline = time.monotonic() + 60
        up: list[float] = []
        while time.monotonic() < deadline and not (up and storage.metadata("prometheus_build_info")):
            found = storage.select([Matcher("__name__", "=", "up"), Matcher("job", "=", "self")], 0, 2**62)
            up = found[0].values.tolist() if found else []
            time.sleep(0.2)
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    assert up and set(up) == {1.0}, errors.decode()[-2000:]
    build = storage.select([Matcher("__name__", "=", "prometheus_build_info")], 0, 2**62)
    assert dict(build[0].labels)["instance"] == f"127.0.0.1:{port}"
    assert storage.metadata("prometheus_build_info")["prometheus_build_info"][0].type == "gauge"
