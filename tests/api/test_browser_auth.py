"""Issue #14: a browser following a link (an alert e-mail's graph) must be able to authenticate.

A combined `WWW-Authenticate: Bearer realm=..., Basic realm=...` header made Chromium neither prompt nor
use the credentials of a `http://user:key@host/...` link, so the link opened as 401 JSON.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from nightowl.app import create_app
from nightowl.config import load_settings
from nightowl.core.clock import ManualClock
from tests.conftest import credential_for, requires
from tests.routing.test_prometheus_sends_alerts import free_port, wait_for
from tests.support.apps import http_client, running_app

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what Chromium sends
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHALLENGES = ['Basic realm="nightowl"', 'Bearer realm="nightowl"']


async def test_a_401_sends_each_challenge_in_its_own_header_basic_first(anon_client: httpx.AsyncClient) -> None:
    page = await anon_client.get("/prometheus/graph", params={"g0.expr": "up"}, headers={"Accept": BROWSER_ACCEPT})
    api = await anon_client.get("/api/v1/alerts", headers={"Accept": "application/json"})
    for answer in (page, api):
        assert answer.status_code == 401
        assert answer.headers.get_list("www-authenticate") == CHALLENGES
    assert api.headers["content-type"] == "application/problem+json"


async def test_a_scripts_401_carries_no_basic_challenge(anon_client: httpx.AsyncClient) -> None:
    """The web UI's own fetch() calls: a Basic challenge would make Chromium hold them open behind a
    password prompt (the page then never learns it must go to /login)."""
    ui = await anon_client.get("/api/v1/auth/me", headers={"X-Requested-With": "nightowl"})
    fetched = await anon_client.get("/api/v1/alerts", headers={"Sec-Fetch-Mode": "cors"})
    navigated = await anon_client.get("/api/v1/alerts", headers={"Sec-Fetch-Mode": "navigate"})
    assert ui.status_code == fetched.status_code == navigated.status_code == 401
    assert ui.headers.get_list("www-authenticate") == fetched.headers.get_list("www-authenticate") == CHALLENGES[1:]
    assert navigated.headers.get_list("www-authenticate") == CHALLENGES


def with_login_page(app: FastAPI) -> FastAPI:
    """The web UI serves /login; until it is there, a stand-in is enough to test the redirect."""
    app.add_api_route("/login", lambda: HTMLResponse("<form>log in</form>"), methods=["GET"])
    return app


async def test_a_browser_without_a_session_is_sent_to_the_login_page_and_back(
    make_settings: object, clock: ManualClock
) -> None:
    async with running_app(make_settings, clock) as app:  # type: ignore[arg-type]
        with_login_page(app)
        async with http_client(app, headers={"Accept": BROWSER_ACCEPT}) as browser:
            page = await browser.get("/prometheus/graph", params={"g0.expr": 'up{job="api"}'})
            expired = await browser.get("/prometheus/graph", headers={"Cookie": "nightowl_session=expired"})
            form_post = await browser.post("/api/v1/silences", json={})
            wrong_key = await browser.get("/prometheus/graph", headers={"Authorization": "Bearer nok_wrong"})
        async with http_client(app, headers={"Accept": "application/json"}) as api_client:
            api = await api_client.get("/prometheus/graph")
    assert page.status_code == 303
    location = urlsplit(page.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/prometheus/graph?g0.expr=up%7Bjob%3D%22api%22%7D"]}
    assert expired.status_code == 303 and expired.headers["location"] == "/login?next=%2Fprometheus%2Fgraph"
    # not a navigation, or credentials the browser must be asked again for: 401 with the challenges
    for answer in (form_post, wrong_key, api):
        assert answer.status_code == 401 and answer.headers.get_list("www-authenticate") == CHALLENGES


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, str]]:
    port = free_port()
    app = create_app(load_settings(None, data_dir=tmp_path / "data"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await wait_for(lambda: asyncio.sleep(0, result=server.started))
    try:
        yield app, f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def chromium_dom(url: str, profile: Path) -> str:
    assert CHROMIUM is not None
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return out.decode()


browser_test = pytest.mark.serial
if CHROMIUM is None:
    browser_test = requires("chromium", "apt-get install chromium")


@browser_test
async def test_chromium_opens_a_graph_link_with_credentials_in_the_url(
    live_server: tuple[FastAPI, str], tmp_path: Path
) -> None:
    app, host = live_server
    key = credential_for(app, scopes=["read"])
    page = await chromium_dom(f"http://nightowl:{key}@{host}/prometheus/graph?g0.expr=vector(1)", tmp_path / "p1")
    assert "<title>Nightowl - vector(1)</title>" in page, page[:500]
    refused = await chromium_dom(
        f"http://nightowl:nok_wrong@{host}/prometheus/graph?g0.expr=vector(1)", tmp_path / "p2"
    )
    assert "<title>Nightowl" not in refused
