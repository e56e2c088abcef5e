"""The Prometheus project's own PromQL test files, played against the real app over HTTP.

The files and their runner live outside the repository (`../shared/conformance/promqltest`); without
them this test skips. `--taint-scope selector` skips only the evals that touch native histograms
(not every eval after a block that loads one), so more of the float evals run. Each file's pass
count must not fall below the floor recorded here (raise the floors as the engine improves;
docs/promql.md lists what still fails and why).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from nightowl.app import create_app
from nightowl.config import load_settings
from tests.conftest import credential_for

RUNNER = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "promqltest" / "run.py"

FLOORS = {
    "aggregators": 125,
    "at_modifier": 78,
    "collision": 2,
    "duration_expression": 59,
    "extended_vectors": 120,
    "fill-modifier": 46,
    "info": 52,
    "functions": 319,
    "histograms": 90,
    "literals": 25,
    "name_label_dropping": 30,
    "native_histograms": 3,
    "operators": 142,
    "range_queries": 16,
    "selectors": 31,
    "staleness": 17,
    "subquery": 32,
    "trig_functions": 19,
    "type_and_unit": 58,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_promqltest_pass_counts_do_not_regress(tmp_path: Path) -> None:
    if not RUNNER.exists():
        pytest.skip("../shared/conformance/promqltest is not present")
    # The test files load samples from 1970 on: raw retention must reach back that far.
    settings = load_settings(None, data_dir=tmp_path / "data", tsdb_retention="100y", tsdb_tier_retention="100y")
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for a real server thread, not for logic
        assert server.started, "server did not start"
        out = tmp_path / "promqltest.json"
        command = [
            sys.executable, str(RUNNER), "--url", f"http://127.0.0.1:{port}/prometheus",
            "--stale-token", "stale", "--strict-annotations", "--taint-scope", "selector", "--json", str(out),
            "--header", f"Authorization: Bearer {credential_for(app, scopes=['admin'])}",
        ]  # fmt: skip
        subprocess.run(command, check=False, capture_output=True, timeout=600)
        files = json.loads(out.read_text())["files"]
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    below = {name: (files.get(name, {}).get("pass", 0), floor) for name, floor in FLOORS.items()}
    regressed = {name: counts for name, counts in below.items() if counts[0] < counts[1]}
    assert not regressed, f"pass counts below their floors (passed, floor): {regressed}"
