"""The demo platform: services expose evolving metrics and health, incidents happen within a minute,
and `--demo` scrapes every service through Nightowl's own server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from nightowl.demo.catalog import SERVICES
from nightowl.demo.exposition import render
from nightowl.demo.simulation import Platform
from nightowl.health.topology import ServiceSpec
from nightowl.ingest.exposition import parse_exposition
from nightowl.metrics.model import Matcher, metric_name

START = 1_700_000_000.0


def running_demo(make_settings: Any, clock: ManualClock, **overrides: Any) -> Any:
    from tests.support.apps import running_app

    return running_app(make_settings, clock, port=3999, **overrides)


def families(text: str) -> dict[str, float]:
    batch = parse_exposition(text, 0)
    out: dict[str, float] = {}
    for index, value in zip(batch.series_index, batch.values, strict=True):
        name = metric_name(batch.series[int(index)])
        out[name] = out.get(name, 0.0) + float(value)
    return out


def test_about_twenty_services_expose_the_promised_families() -> None:
    platform = Platform(START, seed=1)
    platform.advance(START + 30)
    assert len(platform.services) == 20
    exposed = set()
    for state in platform.services.values():
        exposed |= set(families(render(state)))
    for name in (
        "tickets_sold_total",
        "revenue_cents_total",
        "refunds_processed_total",
        "active_listings",
        "http_request_duration_seconds_bucket",
        "db_query_duration_seconds_count",
        "payment_success_total",
        "payment_failure_total",
        "nft_minted_total",
        "solana_transaction_time_seconds_bucket",
        "solana_transactions_total",
        "solana_transaction_failures_total",
        "queue_size",
        "active_users",
        "cache_hit_rate",
        "http_requests_total",
    ):
        assert name in exposed, name


def test_every_counter_is_named_as_a_counter_so_rate_does_not_warn() -> None:
    from nightowl.demo.exposition import FAMILIES

    counters = [name for name, (kind, _, _) in FAMILIES.items() if kind == "counter"]
    assert counters and all(name.endswith("_total") for name in counters), counters
    pack = (resources.files("nightowl.demo") / "rules.yml").read_text()
    rated = set(re.findall(r"(?:rate|increase)\((\w+)", pack))
    assert rated and all(name.endswith(("_total", "_bucket", "_count", "_sum")) for name in rated), rated


def test_the_rule_pack_uses_the_seed_platforms_severities() -> None:
    pack = yaml.safe_load((resources.files("nightowl.demo") / "rules.yml").read_text())
    severities = {rule["alert"]: rule["labels"]["severity"] for rule in pack["groups"][0]["rules"]}
    assert severities == {
        "DemoServiceDown": "critical",
        "HighRefundRate": "warning",
        "PaymentFailureSpike": "error",
        "DatabaseSlow": "warning",
        "ApiErrorRate": "error",
        "SolanaFailureRate": "critical",
        "QueueBackup": "warning",
        "RevenueDrop": "info",
        "ConcurrentUsersHigh": "info",
    }


def test_counters_only_grow_and_histograms_stay_cumulative() -> None:
    platform = Platform(START, seed=2)
    ticket = platform.services["ticket"]
    platform.advance(START + 10)
    before = families(render(ticket))
    platform.advance(START + 70)
    after = families(render(ticket))
    assert after["tickets_sold_total"] > before["tickets_sold_total"] > 0
    assert after["http_request_duration_seconds_count"] > before["http_request_duration_seconds_count"]
    batch = parse_exposition(render(ticket), 0)
    buckets = [
        (dict(batch.series[int(i)])["le"], float(v))
        for i, v in zip(batch.series_index, batch.values, strict=True)
        if metric_name(batch.series[int(i)]) == "http_request_duration_seconds_bucket"
        and dict(batch.series[int(i)])["route"] == "/tickets/reserve"
    ]
    counts = [c for _, c in buckets]
    assert counts == sorted(counts)


def test_same_seed_same_numbers() -> None:
    one, two = Platform(START, seed=7), Platform(START, seed=7)
    one.advance(START + 120)
    two.advance(START + 120)
    assert render(one.services["payment"]) == render(two.services["payment"])


def test_a_service_goes_down_within_the_first_minute() -> None:
    for seed in range(10):
        platform = Platform(START, seed=seed)
        platform.advance(START + 60)
        assert any(i.kind == "down" for i in platform.active_incidents(START + 60)), seed


@pytest.fixture
async def demo_app(make_settings: Any, clock: ManualClock) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(demo=True, port=3999), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def test_demo_endpoints_and_the_demo_scrape_job(demo_app: FastAPI, clock: ManualClock) -> None:
    nightowl = demo_app.state.nightowl
    await nightowl.scheduler.stop()  # the test scrapes by hand; the background loop would race it
    transport = httpx.ASGITransport(app=demo_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nightowl.test") as client:
        overview = (await client.get("/demo/")).json()
        assert [s["name"] for s in overview["services"]] == [s.name for s in SERVICES]
        metrics = await client.get("/demo/payment/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert (await client.get("/demo/payment/health")).json()["status"] == "ok"
        assert (await client.get("/demo/nope/metrics")).status_code == 404

        nightowl.scraper.transport = transport
        pool = nightowl.scraper.pools["demo"]
        assert len(pool.targets) == 20
        clock.advance(45)
        for key in list(pool.targets):
            await nightowl.scraper.scrape_once("demo", key)
        down = [i.service for i in nightowl.demo.active_incidents(clock.now()) if i.kind == "down"]
        assert down, "the first incident takes a service down within a minute"
        assert (await client.get(f"/demo/{down[0]}/health")).status_code == 503

    ups = {
        dict(s.labels)["service"]: float(s.values[-1])
        for s in nightowl.storage.select([Matcher("__name__", "=", "up")], 0, 2**62)
    }
    assert len(ups) == 20
    assert ups[down[0]] == 0.0
    assert sum(ups.values()) == 19.0
    # Which service the first incident takes down is random; check the families of one that is up.
    service, family = ("ticket", "tickets_sold_total") if "ticket" not in down else ("payment", "payment_success_total")
    scraped = nightowl.storage.select([Matcher("__name__", "=", family), Matcher("job", "=", "demo")], 0, 2**62)
    assert f"{service}.demo" in {dict(s.labels)["instance"] for s in scraped}
    await nightowl.scraper.close()


def test_a_latency_spike_slows_the_services_own_answers() -> None:
    from nightowl.demo.simulation import Incident

    platform = Platform(START, seed=3)
    platform.incidents.append(Incident("payment", "latency_spike", START, START + 60))
    assert 0.3 < platform.response_delay("payment", START + 1) <= 2.0
    assert platform.response_delay("payment", START + 61) == 0.0
    assert platform.response_delay("auth", START + 1) == 0.0


def test_a_scrape_job_named_demo_conflicts_with_the_demo(make_settings: Any) -> None:
    from nightowl.core.errors import ConfigError

    settings = make_settings(demo=True, scrape_configs=[{"job_name": "demo"}])
    with pytest.raises(ConfigError, match="job_name 'demo' is taken by the demo platform"):
        create_app(settings)


async def test_the_demo_rule_pack_loads_and_a_down_service_fires_its_alert(
    demo_app: FastAPI, clock: ManualClock
) -> None:
    from tests.support.apps import admin_client

    nightowl = demo_app.state.nightowl
    await nightowl.scheduler.stop()  # driven by hand below
    nightowl.scraper.transport = httpx.ASGITransport(app=demo_app)
    pool = nightowl.scraper.pools["demo"]

    async def scrape_and_evaluate() -> None:
        for key in list(pool.targets):
            await nightowl.scraper.scrape_once("demo", key)
        await nightowl.scheduler.run_now("rules:demo-platform")

    clock.advance(45)
    await scrape_and_evaluate()
    down = {i.service for i in nightowl.demo.active_incidents(clock.now()) if i.kind == "down"}
    assert down, "the first incident takes a service down within a minute"
    for _ in range(2):
        clock.advance(10)
        await scrape_and_evaluate()
    async with admin_client(demo_app) as client:
        groups = (await client.get("/prometheus/api/v1/rules")).json()["data"]["groups"]
        (pack,) = [g for g in groups if g["name"] == "demo-platform"]
        assert len(pack["rules"]) == 9  # the seed's eight and DemoServiceDown
        assert all(rule["health"] == "ok" for rule in pack["rules"]), [r.get("lastError") for r in pack["rules"]]
        alerts = (await client.get("/prometheus/api/v1/alerts")).json()["data"]["alerts"]
    firing = {
        a["labels"]["service"]
        for a in alerts
        if a["labels"]["alertname"] == "DemoServiceDown" and a["state"] == "firing"
    }
    assert down <= firing


def solana_failure_ratio(platform: Platform, service: str) -> float:
    counters = platform.services[service].counters
    failed = sum(counters["solana_transaction_failures_total"].values())
    return failed / counters["solana_transactions_total"][()]


def test_solana_transactions_fail_a_few_percent_and_a_third_in_a_failure_burst() -> None:
    from nightowl.demo.simulation import Incident

    calm = Platform(START, seed=4)
    calm.incidents.append(Incident("nft-minting", "latency_spike", START, START + 3600))  # no other incident here
    calm.advance(START + 600)
    assert 0.01 < solana_failure_ratio(calm, "nft-minting") < 0.10
    burst = Platform(START, seed=4)
    burst.incidents.append(Incident("nft-minting", "failure_burst", START, START + 3600))
    burst.advance(START + 600)
    assert solana_failure_ratio(burst, "nft-minting") > 0.25


async def test_a_solana_failure_burst_fires_the_solana_failure_rule(demo_app: FastAPI, clock: ManualClock) -> None:
    from nightowl.demo.simulation import Incident

    nightowl = demo_app.state.nightowl
    await nightowl.scheduler.stop()  # driven by hand below
    nightowl.scraper.transport = httpx.ASGITransport(app=demo_app)
    pool = nightowl.scraper.pools["demo"]
    nightowl.demo.incidents.append(Incident("blockchain", "failure_burst", clock.now(), clock.now() + 3600))
    blockchain = [key for key, state in pool.targets.items() if ("service", "blockchain") in state.target.labels]
    assert blockchain
    for _ in range(6):  # 90 s: two samples for rate(), then `for: 1m`
        clock.advance(15)
        for key in blockchain:
            await nightowl.scraper.scrape_once("demo", key)
        await nightowl.scheduler.run_now("rules:demo-platform")
    firing = {
        i.labels["service"]
        for _, i in nightowl.rules.evaluator.all_instances()
        if i.labels["alertname"] == "SolanaFailureRate" and i.state == "firing"
    }
    assert firing == {"blockchain"}


async def test_the_demo_adds_a_health_check_per_service(demo_app: FastAPI) -> None:
    from tests.support.apps import admin_client

    async with admin_client(demo_app) as client:
        checks = (await client.get("/api/v1/checks")).json()
        report = (await client.get("/api/v1/health/services")).json()
    items = checks["checks"] if isinstance(checks, dict) else checks
    demo = [c for c in items if c["spec"]["name"].startswith("demo-")]
    assert len(demo) == len(SERVICES)
    assert {c["spec"]["target"] for c in demo} >= {"http://127.0.0.1:3999/demo/payment/health"}
    assert {s["name"] for s in report["services"]} >= {s.name for s in SERVICES}


async def test_demo_services_go_on_a_status_page_and_can_be_regrouped(demo_app: FastAPI) -> None:
    """Issue #14: putting a demo service on a status page answered 409 "defined in the config file"."""
    from tests.support.apps import admin_client

    async with admin_client(demo_app) as client:
        page = {"slug": "platform", "title": "Platform", "group": "demo", "public": True}
        assert (await client.post("/api/v1/status-pages", json=page)).status_code == 201
        shown = (await client.get("/status-pages/platform/json")).json()
        assert {s["name"] for s in shown["services"]} == {s.name for s in SERVICES}

        assert (await client.put("/api/v1/health/groups/payments", json={"name": "payments"})).status_code == 200
        moved = await client.put("/api/v1/health/services/payment", json={"name": "payment", "group": "payments"})
        assert moved.status_code == 200, moved.text
        page = {"slug": "payments", "title": "Payments", "group": "payments", "public": True}
        assert (await client.post("/api/v1/status-pages", json=page)).status_code == 201
        shown = (await client.get("/status-pages/payments/json")).json()
    assert [s["name"] for s in shown["services"]] == ["payment"]


async def test_demo_services_stay_as_changed_across_restarts_and_go_when_the_demo_is_off(
    make_settings: Any, clock: ManualClock
) -> None:
    from nightowl.health import topology_store

    async with running_demo(make_settings, clock, demo=True) as app:
        app.state.nightowl.overview.put_service(ServiceSpec(name="payment", group=None, critical=True))
    async with running_demo(make_settings, clock, demo=True) as app:
        services = topology_store.load(app.state.nightowl.engine).services
        assert services["payment"].critical and services["auth"].group == "demo"
    async with running_demo(make_settings, clock, demo=False) as app:
        topology = topology_store.load(app.state.nightowl.engine)
    assert set(topology.services) == {"payment"} and "demo" not in topology.groups
