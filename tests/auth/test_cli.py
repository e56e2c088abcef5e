"""`nightowl users` and `nightowl keys` as a user runs them, including beside a running server."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.test_cli import NIGHTOWL, free_port, run


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    created = run("keys", "create", "--name", "ci", "--scopes", "read,write", "--rate-limit", "100", "--data-dir", data)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("nok_") and " " not in key
    key_id = created.stdout.split()[3]
    listed = run("keys", "list", "--data-dir", data)
    assert key_id in listed.stdout and "read,write" in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout and key[:12] in listed.stdout
    assert run("keys", "revoke", key_id, "--data-dir", data).returncode == 0
    assert "revoked" in run("keys", "list", "--data-dir", data).stdout
    missing = run("keys", "revoke", "nope", "--data-dir", data)
    assert missing.returncode == 1 and "no API key" in missing.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--scopes", "root"], "unknown scope 'root'"),
        (["--scopes", "read", "--expires-at", "2001-01-01"], "must be in the future"),
    ],
)
def test_bad_key_options_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run("keys", "create", "--name", "x", *args, "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 1 and expected in result.stderr and "Traceback" not in result.stderr


def test_create_admin_from_stdin(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    created = subprocess.run(
        [*NIGHTOWL, "users", "create-admin", "--username", "root", "--password-stdin", "--data-dir", data],
        input="a long password\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    assert "a long password" not in created.stdout + created.stderr
    assert "root  admin" in run("users", "list", "--data-dir", data).stdout
    weak = subprocess.run(
        [*NIGHTOWL, "users", "create-admin", "--username", "other", "--password-stdin", "--data-dir", data],
        input="short\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert weak.returncode == 1 and "at least 8 characters" in weak.stderr
    reset = subprocess.run(
        [*NIGHTOWL, "users", "set-password", "--username", "root", "--password-stdin", "--data-dir", data],
        input="another long password\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert reset.returncode == 0 and "password of root changed" in reset.stdout


@pytest.mark.serial
def test_a_key_created_by_the_cli_works_on_the_running_server(tmp_path: Path) -> None:
    port, data = free_port(), str(tmp_path / "d")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTOWL_")}
    process = subprocess.Popen(
        [*NIGHTOWL, "serve", "--data-dir", data, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not answer within 120 s"
                time.sleep(0.1)  # waiting for a real process to bind its port, not for our logic
        assert httpx.get(f"{base}/api/v1/workers").status_code == 401
        created = run("keys", "create", "--name", "e2e", "--scopes", "read", "--data-dir", data)
        key = created.stdout.strip().splitlines()[-1]
        workers = httpx.get(f"{base}/api/v1/workers", headers={"Authorization": f"Bearer {key}"})
        assert workers.status_code == 200 and workers.json()["scheduler_running"] is True
        assert httpx.get(f"{base}/metrics", headers={"X-API-Key": key}).status_code == 200
        key_id = created.stdout.split()[3]
        assert run("keys", "revoke", key_id, "--data-dir", data).returncode == 0
        assert httpx.get(f"{base}/api/v1/workers", headers={"X-API-Key": key}).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
        output = process.stdout.read() if process.stdout else ""
    assert "nightowl users create-admin" in output, "without an admin the log says how to create one"
    assert key not in output
