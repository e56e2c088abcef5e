"""`nightowl serve` and `nightowl check-config` judge a configuration alike, and what serve writes is private."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.test_cli import NIGHTOWL, free_port, run

AM_YML = """
route:
  receiver: ops
receivers:
- name: ops
  telegram_configs:
  - bot_token: '123:abc'
    chat_id: {chat_id}
"""


def write_config(tmp_path: Path, chat_id: str) -> Path:
    (tmp_path / "alertmanager.yml").write_text(AM_YML.format(chat_id=chat_id))
    config = tmp_path / "nightowl.yaml"
    config.write_text(f"alertmanager_config: {tmp_path / 'alertmanager.yml'}\n")
    return config


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.serial
def test_a_numeric_telegram_chat_id_passes_check_config_and_serve_and_the_data_dir_is_private(tmp_path: Path) -> None:
    config = write_config(tmp_path, "-1001234567890")
    checked = run("check-config", "--config", str(config))
    assert checked.returncode == 0, checked.stderr
    data = tmp_path / "d"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTOWL_")}
    process = subprocess.Popen(
        [*NIGHTOWL, "serve", "--config", str(config), "--data-dir", str(data), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not answer within 120 s"
                time.sleep(0.1)  # waiting for a real process to bind its port, not for our logic
        assert mode(data) == 0o700
        files = [p for p in data.rglob("*") if p.is_file()]
        assert {"nightowl.db", "secret.key"} <= {p.name for p in files}
        assert any(p.name.endswith("-wal") for p in files)
        loose = [f"{p.relative_to(data)} {oct(mode(p))}" for p in files if mode(p) & 0o077]
        assert loose == []
        dirs = [f"{p.relative_to(data)} {oct(mode(p))}" for p in data.rglob("*") if p.is_dir() and mode(p) & 0o077]
        assert dirs == []
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)


def test_an_existing_world_readable_data_dir_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "nightowl.db").write_bytes(b"")
    (data / "nightowl.db").chmod(0o644)
    from nightowl.cli import make_private

    old = os.umask(0o022)
    try:
        make_private(data)
    finally:
        os.umask(old)
    assert mode(data) == 0o700 and mode(data / "nightowl.db") == 0o600


def test_a_channel_that_does_not_validate_fails_check_config_and_serve_alike(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[1, 2]")
    checked = run("check-config", "--config", str(config))
    served = run("serve", "--config", str(config), "--data-dir", str(tmp_path / "d"), "--port", str(free_port()))
    for result in (checked, served):
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("nightowl: error:")]
        assert len(errors) == 1 and "receivers[ops].telegram_configs[0]" in errors[0] and "chat_id" in errors[0]
    assert checked.stderr.splitlines()[-1] == served.stderr.splitlines()[-1]
