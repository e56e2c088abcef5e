"""The UI's typed API client matches the API, and the web code's own unit tests (vitest) pass.

These run node from `web/node_modules` (`make test` installs it with `npm ci`); without node they are
skipped locally and fail under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from nightowl.app import create_app
from nightowl.config import Settings

WEB = Path(__file__).resolve().parents[2] / "web"
REGENERATE = "the API changed: run `cd web && npm run gen:api` and commit web/src/api/ (openapi.json, schema.d.ts)"


def _need_node() -> str:
    npm = shutil.which("npm")
    if npm is None or not (WEB / "node_modules").is_dir():
        message = "node/npm or web/node_modules missing (run `make web`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return npm


def test_committed_openapi_document_is_the_apps(tmp_path: Path) -> None:
    current = create_app(Settings(data_dir=tmp_path)).openapi()
    committed = json.loads((WEB / "src/api/openapi.json").read_text())
    assert json.dumps(committed, sort_keys=True) == json.dumps(current, sort_keys=True), REGENERATE


def test_committed_types_are_generated_from_the_document(tmp_path: Path) -> None:
    _need_node()
    out = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(WEB / "node_modules/.bin/openapi-typescript"), "src/api/openapi.json", "-o", str(out)],
        cwd=WEB,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert out.read_text() == (WEB / "src/api/schema.d.ts").read_text(), REGENERATE


def test_web_unit_tests_pass() -> None:
    npm = _need_node()
    run = subprocess.run([npm, "test", "--silent"], cwd=WEB, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
