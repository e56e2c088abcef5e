"""A real `nightowl serve` process on a free port, for tests that speak to it as outside clients do."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

NIGHTOWL = [sys.executable, "-m", "nightowl.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    url: str
    admin_key: str
    data_dir: Path
    process: subprocess.Popen[str]


def _clean_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTOWL_")}
    env.update(extra or {})
    return env


@contextmanager
def live_server(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """Create an admin API key, start the server, wait for /health, and stop it with SIGTERM afterwards."""
    environment = _clean_env(env)
    created = subprocess.run(
        [*NIGHTOWL, "keys", "create", "--data-dir", str(data_dir), "--name", "live", "--scopes", "admin"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    admin_key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    log = open(data_dir.parent / f"serve-{port}.log", "w")
    process = subprocess.Popen(
        [*NIGHTOWL, "serve", "--data-dir", str(data_dir), "--port", str(port), *args],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, (data_dir.parent / f"serve-{port}.log").read_text()
                assert time.monotonic() < deadline, "server did not answer within 60 s"
                time.sleep(0.1)  # waiting for a real process to bind its port, not for our logic
        yield LiveServer(url=url, admin_key=admin_key, data_dir=data_dir, process=process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
