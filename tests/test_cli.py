"""The `nightowl` command as a user runs it: a real process, its exit code and its one-line errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

NIGHTOWL = [sys.executable, "-m", "nightowl.cli"]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTOWL_")}
    full_env.update(env or {})
    return subprocess.run([*NIGHTOWL, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_version_and_help() -> None:
    assert run("version").stdout.strip().startswith("nightowl ")
    help_text = run("serve", "--help").stdout
    assert "--port" in help_text and "--data-dir" in help_text and "--config" in help_text


def test_init_writes_a_config_that_check_config_accepts(tmp_path: Path) -> None:
    config = tmp_path / "nightowl.yaml"
    assert run("init", str(config)).returncode == 0
    assert "# Nightowl configuration" in config.read_text()
    assert run("init", str(config)).returncode == 1
    checked = run("check-config", "--config", str(config))
    assert checked.returncode == 0 and "configuration ok" in checked.stdout


@pytest.mark.parametrize(
    ("env", "config_text", "expected"),
    [
        ({"NIGHTOWL_PORT": "http"}, None, "port='http' (from NIGHTOWL_PORT)"),
        ({}, "colour: blue\n", "unknown configuration key 'colour'"),
        ({}, "port: [1,\n", "is not valid YAML"),
        ({"NIGHTOWL_DATABASE_URL": "mysql://x/y"}, None, "backend 'mysql' is not supported"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(
    tmp_path: Path, env: dict[str, str], config_text: str | None, expected: str
) -> None:
    args = ["serve", "--data-dir", str(tmp_path / "d")]
    if "NIGHTOWL_PORT" not in env:
        args += ["--port", str(free_port())]
    if config_text is not None:
        (tmp_path / "c.yaml").write_text(config_text)
        args += ["--config", str(tmp_path / "c.yaml")]
    result = run(*args, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run("serve", "--data-dir", str(tmp_path / "d"), "--port", str(port))
    assert result.returncode == 1
    assert "address already in use" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; permissions cannot be tested as root")
def test_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = run("serve", "--data-dir", str(locked / "d"), "--port", str(free_port()))
    assert result.returncode == 1 and "not writable" in result.stderr


def test_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = run("serve", "--data-dir", str(tmp_path / "file"), "--port", str(free_port()))
    assert result.returncode == 1 and "not writable" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    result = run(
        "serve",
        "--data-dir",
        str(tmp_path / "d"),
        "--port",
        str(free_port()),
        env={"NIGHTOWL_DATABASE_URL": url},
    )
    assert result.returncode == 1
    assert "cannot reach the state database" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.serial
def test_serve_answers_health_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTOWL_")}
    process = subprocess.Popen(
        [*NIGHTOWL, "serve", "--data-dir", str(tmp_path / "d"), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.1)  # waiting for a real process to bind its port, not for our logic
        assert response.status_code == 200 and response.json()["status"] == "healthy"
        assert (tmp_path / "d" / "nightowl.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught, so -SIGTERM is a clean exit.
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
        output = process.stdout.read() if process.stdout else ""
        assert "Application shutdown complete" in output and "Traceback" not in output
