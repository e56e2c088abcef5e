"""Status pages per group: JSON and HTML with state, uptime bars and incident notes; no operator details."""

from __future__ import annotations

import httpx
import pytest

from nightowl.core.clock import ManualClock
from tests.health.servers import closed_port

pytestmark = pytest.mark.usefixtures("manual_runs")


async def setup_group(client: httpx.AsyncClient) -> str:
    for path, body in [
        ("groups/public", {"name": "public"}),
        ("groups/edge", {"name": "edge", "parent": "public"}),
        ("services/website", {"name": "website", "group": "public", "description": "The shop"}),
        ("services/cdn", {"name": "cdn", "group": "edge"}),
        ("services/internal", {"name": "internal"}),
    ]:
        assert (await client.put(f"/api/v1/health/{path}", json=body)).status_code == 200
    port = closed_port()
    created = await client.post(
        "/api/v1/checks",
        json={"name": "shop", "type": "tcp", "target": f"127.0.0.1:{port}", "service": "website"},
    )
    return str(created.json()["id"])


async def test_public_status_page_json_and_html(client: httpx.AsyncClient, clock: ManualClock) -> None:
    check = await setup_group(client)
    await client.post(f"/api/v1/checks/{check}/run")
    clock.advance(7200)
    page = {"slug": "shop", "title": "Shop status", "group": "public", "public": True}
    assert (await client.post("/api/v1/status-pages", json=page)).status_code == 201
    assert (await client.post("/api/v1/status-pages", json=page)).status_code == 409
    incident = await client.post(
        "/api/v1/status-pages/shop/incidents", json={"title": "Checkout <errors>", "body": "We are on it."}
    )
    assert incident.status_code == 201 and incident.json()["status"] == "investigating"
    resolved = await client.patch(
        f"/api/v1/status-pages/shop/incidents/{incident.json()['id']}", json={"status": "resolved"}
    )
    assert resolved.json()["resolved_at"] == clock.now()

    view = (await client.get("/status-pages/shop/json")).json()
    assert view["title"] == "Shop status" and view["status"] == "unhealthy"
    assert [s["name"] for s in view["services"]] == ["cdn", "website"]
    website = view["services"][1]
    assert website["state"] == "down" and website["uptime"]["24h"] == 0.0
    assert len(website["bars"]) == 90 and website["bars"][-1]["worst"] == "down"
    assert "last_error" not in website and "checks" not in website
    assert view["incidents"][0]["title"] == "Checkout <errors>"

    html = await client.get("/status-pages/shop")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Major outage" in html.text and "Checkout &lt;errors&gt;" in html.text and "<script" not in html.text
    assert html.text.count('title="') >= 180


async def test_status_page_validation(client: httpx.AsyncClient) -> None:
    bad = await client.post("/api/v1/status-pages", json={"slug": "Bad Slug", "title": "x", "group": "g"})
    assert bad.status_code == 422 and bad.json()["field"] == "slug"
    missing_group = await client.post("/api/v1/status-pages", json={"slug": "ok", "title": "x", "group": "nope"})
    assert missing_group.status_code == 422 and missing_group.json()["field"] == "group"
    assert (await client.get("/status-pages/none")).status_code == 404
    assert (await client.post("/api/v1/status-pages/none/incidents", json={"title": "x"})).status_code == 404


async def test_the_banner_shows_an_open_incident_while_every_check_is_green(client: httpx.AsyncClient) -> None:
    """Issue #14: "All systems operational" stood beside an open "investigating" incident."""
    assert (await client.put("/api/v1/health/groups/api", json={"name": "api"})).status_code == 200
    assert (
        await client.put("/api/v1/health/services/gateway", json={"name": "gateway", "group": "api"})
    ).status_code == 200
    page = {"slug": "api", "title": "API", "group": "api", "public": True}
    assert (await client.post("/api/v1/status-pages", json=page)).status_code == 201
    assert (await client.get("/status-pages/api/json")).json()["banner"]["text"] == "All systems operational"

    incident = await client.post("/api/v1/status-pages/api/incidents", json={"title": "Slow checkouts"})
    view = (await client.get("/status-pages/api/json")).json()
    assert view["status"] == "healthy"  # the checks' verdict is unchanged
    assert view["banner"] == {"level": "incident", "text": "Investigating: Slow checkouts"}
    html = (await client.get("/status-pages/api")).text
    assert "Investigating: Slow checkouts" in html and "All systems operational" not in html

    second = await client.post("/api/v1/status-pages/api/incidents", json={"title": "Login", "status": "identified"})
    assert (await client.get("/status-pages/api/json")).json()["banner"]["text"] == "2 open incidents"
    for opened in (incident, second):
        await client.patch(f"/api/v1/status-pages/api/incidents/{opened.json()['id']}", json={"status": "resolved"})
    assert (await client.get("/status-pages/api/json")).json()["banner"]["level"] == "operational"


async def test_uptime_says_how_long_it_was_observed(client: httpx.AsyncClient, clock: ManualClock) -> None:
    """Issue #14: "1y: 19.51 %" two minutes after start read as a year's figure."""
    check = await setup_group(client)
    await client.post(f"/api/v1/checks/{check}/run")
    clock.advance(120)
    page = {"slug": "shop", "title": "Shop status", "group": "public", "public": True}
    assert (await client.post("/api/v1/status-pages", json=page)).status_code == 201
    report = (await client.get("/api/v1/health/services")).json()
    [website] = [s for s in report["services"] if s["name"] == "website"]
    assert website["uptime_observed"] == {"24h": 120.0, "7d": 120.0, "30d": 120.0, "1y": 120.0}
    html = (await client.get("/status-pages/shop")).text
    assert "0.00% uptime over the 2 minutes observed" in html and "over 30 days" not in html
