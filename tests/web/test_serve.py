"""The UI is served at / to anyone (it holds no data); API paths keep their answers, 401s stay JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from nightowl.core.clock import ManualClock
from nightowl.web.serve import SinglePageApp
from tests.support.apps import running_app

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text('<!doctype html><script type="module" src="/assets/index-abc.js"></script>')
    (root / "assets" / "index-abc.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("no")
    return root


async def test_pages_assets_and_api_answers(make_settings: Any, clock: ManualClock, dist: Path) -> None:
    async with running_app(make_settings, clock) as app:
        spa = SinglePageApp(app, app.router, dist=dist)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=spa), base_url="http://nightowl.test") as client:
            for path in ("/", "/alerts", "/explore?q=up", "/login?next=%2Falerts", "/services/payments"):
                page = await client.get(path, headers=HTML)
                assert page.status_code == 200, path
                assert page.text.startswith("<!doctype html>")
                csp = page.headers["content-security-policy"]
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
                assert "frame-ancestors 'none'" in csp
                assert page.headers["x-content-type-options"] == "nosniff"
                assert page.headers["cache-control"] == "no-cache"

            asset = await client.get("/assets/index-abc.js")
            assert asset.status_code == 200 and asset.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert asset.headers["content-type"].startswith("text/javascript")
            assert (await client.get("/favicon.svg")).headers["cache-control"] == "no-cache"
            assert (await client.get("/assets/missing.js")).status_code == 404
            assert (await client.get("/assets/../../secret.txt")).status_code == 404

            # an API client without a session still gets 401 problem JSON, on API paths and page paths alike
            for path in ("/api/v1/alerts", "/alerts"):
                answer = await client.get(path, headers={"Accept": "application/json"})
                assert answer.status_code == 401, path
                assert answer.headers["content-type"] == "application/problem+json"
            # a browser asking for an unknown API path gets the API's answer, not the app
            assert (
                (await client.get("/api/v1/nothing-here", headers=HTML))
                .headers["content-type"]
                .startswith("application/problem+json")
            )
            assert (await client.get("/health", headers=HTML)).json()["status"] in ("healthy", "degraded")
            assert (await client.get("/openapi.json", headers=HTML)).json()["info"]["title"] == "Nightowl"
            assert (await client.post("/", headers=HTML)).status_code in (401, 404, 405)


async def test_without_a_build_the_page_says_how_to_build_it(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    async with running_app(make_settings, clock) as app:
        spa = SinglePageApp(app, app.router, dist=tmp_path / "absent")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=spa), base_url="http://nightowl.test") as client:
            page = await client.get("/", headers=HTML)
            assert page.status_code == 200 and "make run" in page.text
