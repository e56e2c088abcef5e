"""The web UI in a real browser against a real `nightowl serve --demo`: log in, every page, live alerts,
acknowledge, silence, a check run, a query link, roles; axe-core finds no serious accessibility problem.

Screenshots of every page land in tests/e2e/artifacts/ (for people to look at).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser import ADMIN_PASSWORD, DemoServer, axe_violations, browser, log_in, screenshot, server

__all__ = ["browser", "server"]  # the fixtures

PAGES = [
    ("/", "Overview"),
    ("/explore?q=up", "Explore"),
    ("/explore/metrics", "Metrics browser"),
    ("/targets", "Targets"),
    ("/services", "Services"),
    ("/services/inventory", "Service inventory"),
    ("/checks", "Checks"),
    ("/maintenance", "Maintenance"),
    ("/maintenance?new=1", "Maintenance"),
    ("/pages", "Status pages"),
    ("/pages?new=1", "Status pages"),
    ("/alerts?state=all", "Alerts"),
    ("/silences", "Silences"),
    ("/silences/new", "New silence"),
    ("/rules", "Rules"),
    ("/notifications", "Notifications"),
    ("/notifications?new=1", "Notifications"),
    ("/notifications/escalations?new=1", "Escalation policies"),
    ("/notifications/integrations", "Integrations"),
    ("/admin/users", "Admin"),
    ("/admin/keys", "Admin"),
    ("/admin/audit", "Admin"),
    ("/admin/workers", "Admin"),
]


@pytest.fixture(scope="module")
def admin(browser: Any, server: DemoServer) -> Iterator[Any]:
    """A logged-in admin's page; CSP is bypassed only so the tests can inject axe-core."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    log_in(page, server, "admin", ADMIN_PASSWORD, "/alerts")
    yield page
    context.close()


def test_every_page_renders_without_errors_and_accessibly(admin: Any, server: DemoServer) -> None:
    problems: dict[str, Any] = {}
    for path, heading in PAGES:
        admin.goto(server.url + path)
        admin.get_by_role("heading", level=1, name=heading).wait_for()
        admin.wait_for_load_state("networkidle")
        name = path.strip("/").replace("?new=1", "-new").split("?")[0].replace("/", "-") or "overview"
        screenshot(admin, name)
        violations = axe_violations(admin)
        if violations:
            problems[path] = violations
    assert admin.errors == []
    assert problems == {}


def test_login_returns_to_the_page_and_logout_ends_the_session(browser: Any, server: DemoServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/targets?health=down")
    page.wait_for_url("**/login?next=%2Ftargets%3Fhealth%3Ddown")
    screenshot(page, "login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").filter(has_text="wrong username or password").wait_for()
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/targets?health=down")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.goto(server.url + "/checks")
    page.wait_for_url("**/login?next=%2Fchecks")
    context.close()


def test_a_new_check_runs_on_demand(admin: Any, server: DemoServer) -> None:
    admin.goto(server.url + "/checks")
    admin.get_by_role("link", name="New check").click()
    admin.get_by_label("Name").fill("ui-inventory-health")
    admin.get_by_label("Interval (s)").fill("0")
    admin.get_by_label("Target").fill(f"{server.url}/demo/inventory/health")
    admin.get_by_role("button", name="Create check").click()
    # the server's problem detail appears next to the field it names
    admin.locator("label", has_text="Interval").locator(".field-error").wait_for()
    admin.get_by_label("Interval (s)").fill("300")
    admin.get_by_role("button", name="Create check").click()
    admin.get_by_role("heading", level=1, name="ui-inventory-health").wait_for()
    admin.get_by_role("button", name="Run now").click()
    result = admin.locator(".run-result")
    result.wait_for()
    assert "up" in result.inner_text()
    screenshot(admin, "check")


def test_a_maintenance_window_is_planned_through_the_form_and_listed(admin: Any, server: DemoServer) -> None:
    admin.goto(server.url + "/maintenance")
    admin.get_by_role("link", name="New window").click()
    form = admin.get_by_role("form", name="New maintenance window")
    form.get_by_label("Name").fill("ui-database-upgrade")
    form.get_by_label("Duration", exact=True).fill("two hours")
    form.get_by_role("button", name="Create window").click()
    form.get_by_role("alert").filter(has_text="not a duration").wait_for()
    form.get_by_label("Duration", exact=True).fill("2h")
    form.get_by_label("Services").fill("inventory")
    form.get_by_role("button", name="Create window").click()
    row = admin.get_by_role("row").filter(has_text="ui-database-upgrade")
    row.wait_for()
    assert "active" in row.inner_text()
    assert "inventory" in row.inner_text()
    screenshot(admin, "maintenance-created")


def test_a_status_page_is_created_edited_and_linked(admin: Any, server: DemoServer) -> None:
    admin.goto(server.url + "/pages")
    admin.get_by_role("link", name="New status page").click()
    form = admin.get_by_role("form", name="New status page")
    form.get_by_label("Slug").fill("Not A Slug")
    form.get_by_label("Title").fill("Demo status")
    form.get_by_role("button", name="Create status page").click()
    admin.locator("label", has_text="Slug").locator(".field-error").wait_for()
    form.get_by_label("Slug").fill("demo-status")
    form.get_by_label("Public (readable without signing in)").check()
    form.get_by_role("button", name="Create status page").click()
    row = admin.get_by_role("row").filter(has_text="demo-status")
    row.wait_for()
    assert "public" in row.inner_text()
    link = row.get_by_role("link", name="Open demo-status (new tab)")
    assert link.get_attribute("href") == "/status-pages/demo-status"
    row.get_by_role("link", name="Edit Demo status").click()
    admin.get_by_role("form", name="Edit Demo status").get_by_label("Title").fill("Demo service status")
    admin.get_by_role("button", name="Save").click()
    admin.get_by_role("row").filter(has_text="Demo service status").wait_for()


def test_a_webhook_channel_is_created_through_the_form(admin: Any, server: DemoServer) -> None:
    admin.goto(server.url + "/notifications")
    admin.get_by_role("link", name="New channel").click()
    form = admin.get_by_role("form", name="New channel")
    form.get_by_label("Name").fill("ui-hook")
    form.get_by_label("Kind").select_option("webhook")
    form.locator("input[name=url]").fill(f"{server.url}/demo/hook/secret-token")
    form.get_by_role("button", name="Create channel").click()
    admin.get_by_role("row").filter(has_text="ui-hook").first.wait_for()
    # editing shows the secret as a placeholder, never its value
    admin.get_by_role("link", name="Edit ui-hook").click()
    edit = admin.get_by_role("form", name="Edit channel")
    url = edit.locator("input[name=url]")
    assert url.input_value() == ""
    assert url.get_attribute("placeholder") == "<secret>"
    screenshot(admin, "notifications-edit")
    edit.get_by_role("button", name="Save").click()
    edit.wait_for(state="detached")
    admin.get_by_role("row").filter(has_text="ui-hook").first.wait_for()


def test_demo_incident_appears_live_and_is_acknowledged_and_silenced(admin: Any, server: DemoServer) -> None:
    admin.goto(server.url + "/alerts")
    admin.get_by_role("heading", level=1, name="Alerts").wait_for()
    admin.evaluate("window.__sameDocument = true")
    started = server.admin.post("/api/v1/demo/incidents", json={"service": "inventory", "kind": "down"})
    assert started.status_code in (200, 201), started.text
    row = admin.locator("a.alert-row[data-alert='DemoServiceDown']", has_text="inventory")
    admin.locator(".live-live").wait_for()
    row.first.wait_for(timeout=90_000)  # one scrape and one rule evaluation; no reload
    assert admin.evaluate("window.__sameDocument") is True
    row.first.click()
    admin.get_by_label("Note").fill("restarting inventory")
    admin.get_by_role("button", name="Acknowledge").click()
    admin.locator(".detail").get_by_text("“restarting inventory”").first.wait_for()
    screenshot(admin, "alert-detail")

    admin.get_by_role("link", name="Silence…").click()
    admin.get_by_role("heading", level=1, name="New silence").wait_for()
    assert 'service="inventory"' in admin.get_by_label("Matchers").input_value()
    admin.get_by_role("heading", name="Would mute 1 active alert").wait_for()
    admin.get_by_role("button", name="Create silence").click()
    admin.get_by_role("heading", level=1, name="Silences").wait_for()
    admin.locator("td", has_text='service="inventory"').first.wait_for()

    acknowledged = [
        a for a in server.admin.get("/api/v1/alerts").json()["items"] if a["labels"].get("service") == "inventory"
    ]
    assert acknowledged and acknowledged[0]["acknowledged"]["note"] == "restarting inventory"


def test_a_query_link_reproduces_the_view_in_a_new_page(admin: Any, server: DemoServer) -> None:
    admin.goto(server.url + "/explore")
    editor = admin.locator(".cm-content")  # CodeMirror, loaded on demand
    editor.fill("sum by (service) (up)")
    editor.press("Enter")
    admin.locator(".u-over").first.wait_for()
    admin.locator("label", has_text="Range").locator("select").select_option("15m")
    admin.locator(".u-over").first.wait_for()
    link = admin.get_by_role("link", name="link to this query").get_attribute("href")
    assert link is not None
    page = admin.context.new_page()
    page.goto(link)
    page.locator(".u-over").first.wait_for()
    assert "range=15m" in page.url and "sum+by+%28service%29+%28up%29" in page.url
    assert "sum by (service) (up)" in page.locator(".cm-content").inner_text()
    page.close()


def test_a_viewer_sees_no_admin_pages_and_no_write_controls(browser: Any, server: DemoServer) -> None:
    name, password = server.user("viewer")
    context = browser.new_context()
    page = context.new_page()
    log_in(page, server, name, password, "/checks")
    assert page.get_by_role("link", name="New check").count() == 0
    page.goto(server.url + "/maintenance")
    page.get_by_role("heading", level=1, name="Maintenance").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("link", name="New window").count() == 0
    assert page.get_by_role("button", name="Delete").count() == 0
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").count() == 0
    page.goto(server.url + "/admin/users")
    page.get_by_role("heading", level=1, name="Not allowed").wait_for()
    assert page.get_by_role("table").count() == 0
    forbidden = page.evaluate("async () => (await fetch('/api/v1/users')).status")
    assert forbidden == 403
    context.close()


def test_the_inbox_works_on_a_phone(browser: Any, server: DemoServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, server, "admin", ADMIN_PASSWORD, "/alerts")
    page.get_by_role("heading", level=1, name="Alerts").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "alerts-phone")
    context.close()


def test_dark_theme_follows_the_system(browser: Any, server: DemoServer) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme="dark", bypass_csp=True)
    page = context.new_page()
    log_in(page, server, "admin", ADMIN_PASSWORD, "/")
    page.get_by_role("heading", level=1, name="Overview").wait_for()
    page.wait_for_load_state("networkidle")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 19, 26)"
    screenshot(page, "overview-dark")
    assert axe_violations(page) == []
    context.close()
