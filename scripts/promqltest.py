"""Play the Prometheus project's PromQL test files against a fresh Nightowl (docs/promql.md, "Conformance").

Starts the app in-process on a free port with a throw-away data directory (retention reaching back to
1970, as the files load samples from the epoch), creates an admin API key, and runs
`../shared/conformance/promqltest/run.py` with Nightowl's options; extra arguments go to the runner:

    .venv/bin/python scripts/promqltest.py --taint-scope selector -v --json out.json
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from nightowl.app import create_app
from nightowl.auth import keys
from nightowl.config import load_settings

RUNNER = Path(__file__).resolve().parents[1] / ".." / "shared" / "conformance" / "promqltest" / "run.py"


def main() -> int:
    if not RUNNER.exists():
        print(f"runner not found: {RUNNER}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, data_dir=Path(tmp) / "data", tsdb_retention="100y", tsdb_tier_retention="100y")
        app = create_app(settings)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            while not server.started:
                time.sleep(0.05)  # waiting for a real server thread, not for logic
            nightowl = app.state.nightowl
            _key, secret = keys.create_key(
                nightowl.engine, nightowl.clock, name="promqltest", scopes=["admin"], actor="promqltest"
            )
            command = [
                sys.executable, str(RUNNER), "--url", f"http://127.0.0.1:{port}/prometheus",
                "--stale-token", "stale", "--strict-annotations", "--header", f"Authorization: Bearer {secret}",
                *sys.argv[1:],
            ]  # fmt: skip
            return subprocess.run(command, check=False).returncode
        finally:
            server.should_exit = True
            thread.join(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
