"""Real Prometheus and VictoriaMetrics processes for the remote backend tests, one per test worker.

Each starts on a free port with a throwaway data directory and is stopped when the test process exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import httpx

PROMETHEUS = "/usr/bin/prometheus"
VICTORIA_METRICS = "/usr/bin/victoria-metrics"


@dataclass
class MetricsServer:
    kind: str
    url: str
    process: subprocess.Popen[bytes]
    root: str

    def refresh(self) -> None:
        """Make just-written samples searchable (VictoriaMetrics buffers them for about a second)."""
        if self.kind == "victoria-metrics":
            httpx.get(f"{self.url}/internal/force_flush", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available(kind: str) -> bool:
    return os.access(PROMETHEUS if kind == "prometheus" else VICTORIA_METRICS, os.X_OK)


def _command(kind: str, root: str, port: int, config_text: str | None = None) -> list[str]:
    if kind == "prometheus":
        config = os.path.join(root, "prometheus.yml")
        with open(config, "w") as f:
            f.write(config_text or "global:\n  scrape_interval: 1h\n")
        return [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={os.path.join(root, 'data')}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-remote-write-receiver",
            "--web.enable-admin-api",
            "--log.level=warn",
        ]
    return [
        VICTORIA_METRICS,
        f"-storageDataPath={os.path.join(root, 'data')}",
        f"-httpListenAddr=127.0.0.1:{port}",
        "-retentionPeriod=100y",
        "-search.latencyOffset=0s",
        "-search.disableCache",
        "-loggerLevel=WARN",
    ]


def start(kind: str, config: str | None = None) -> MetricsServer:
    """`config`: the prometheus.yml text (Prometheus only); by default no scrape jobs."""
    root = tempfile.mkdtemp(prefix=f"nightowl-{kind}-")
    port = free_port()
    log = open(os.path.join(root, "log"), "wb")
    process = subprocess.Popen(_command(kind, root, port, config), stdout=log, stderr=subprocess.STDOUT)
    server = MetricsServer(kind, f"http://127.0.0.1:{port}", process, root)
    ready = f"{server.url}/-/ready" if kind == "prometheus" else f"{server.url}/health"
    deadline = time.monotonic() + 60
    while True:  # waiting for a process to listen, not for logic
        if process.poll() is not None:
            with open(os.path.join(root, "log")) as f:
                raise RuntimeError(f"{kind} exited with {process.returncode}: {f.read()[-2000:]}")
        try:
            if httpx.get(ready, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{kind} did not become ready on {server.url}")
        time.sleep(0.1)
    atexit.register(server.stop)
    return server
