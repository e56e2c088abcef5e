"""A real `nightowl serve --demo` process and headless Debian Chromium driven by Playwright, for the UI tests.

Nothing is faked: the server is the CLI a person runs, the browser is the distribution's chromium
(Playwright's own browser download is never used). Without chromium, Playwright or the built UI the
tests skip locally and fail under CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import nightowl
from tests.support.remote_servers import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web/node_modules/axe-core/axe.min.js"
DIST = Path(nightowl.__file__).parent / "web/dist/index.html"
ARTIFACTS = ROOT / "tests/e2e/artifacts"
ADMIN_PASSWORD = "browser-test-admin-1"


def need(condition: bool, what: str) -> None:
    if not condition:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is missing (make web; apt-get install chromium; pip install -e '.[dev]')")
        pytest.skip(f"{what} is missing")


@dataclass
class DemoServer:
    url: str
    process: subprocess.Popen[bytes]
    root: str
    log: Path
    admin: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.admin = httpx.Client(base_url=self.url, timeout=30)
        answer = self.admin.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        answer.raise_for_status()
        self.admin.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def user(self, role: str) -> tuple[str, str]:
        """A user of this role (created on first use): its name and password."""
        name, password = f"{role}-user", f"{role}-password-1"
        if not any(u["username"] == name for u in self.admin.get("/api/v1/users").json()["items"]):
            created = self.admin.post("/api/v1/users", json={"username": name, "password": password, "role": role})
            created.raise_for_status()
        return name, password

    def stop(self) -> None:
        self.admin.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_demo_server() -> DemoServer:
    root = tempfile.mkdtemp(prefix="nightowl-ui-")
    port = free_port()
    env = {
        **os.environ,
        "NIGHTOWL_DATA_DIR": root,
        "NIGHTOWL_PORT": str(port),
        "NIGHTOWL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "NIGHTOWL_DEMO_SEED": "11",
        "PYTHONPATH": os.pathsep.join([str(Path(nightowl.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]),
    }
    log = Path(root) / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "nightowl.cli", "serve", "--demo"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nightowl serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return DemoServer(url, process, root, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.3)  # waiting for a process to start listening, not for logic
    process.kill()
    raise RuntimeError(f"nightowl serve did not become ready: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    need(DIST.is_file(), "the built UI (src/nightowl/web/dist)")
    demo = start_demo_server()
    try:
        yield demo
    finally:
        demo.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(Path(CHROMIUM).is_file(), CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the playwright Python package")
        raise
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def log_in(page: Any, server: DemoServer, username: str, password: str, path: str = "/") -> None:
    page.goto(server.url + path)
    page.wait_for_url("**/login?next=*")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{path}")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical accessibility violations axe-core finds in the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
