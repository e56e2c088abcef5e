"""The log says what happened: alerts firing and resolving, reloads, demo incidents, failed logins, requests."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from nightowl.core.clock import ManualClock
from nightowl.core.logging import FailureLog
from nightowl.demo.simulation import Platform
from tests.support.apps import admin_client, http_client, running_app


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger]


def test_repeated_failures_from_one_client_make_one_line_a_minute_with_a_count(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    failures = FailureLog(clock, logging.getLogger("test.failures"))
    with caplog.at_level(logging.WARNING, "test.failures"):
        for _ in range(5):
            failures.record("10.0.0.5", "the credentials are invalid")
            clock.advance(10)
        failures.record("10.0.0.6", "the credentials are invalid")
        clock.advance(11)
        failures.record("10.0.0.5", "the credentials are invalid")
    assert lines(caplog, "test.failures") == [
        "authentication failed from 10.0.0.5: the credentials are invalid",
        "authentication failed from 10.0.0.6: the credentials are invalid",
        "authentication failed from 10.0.0.5: the credentials are invalid (5 failures in the last 61s)",
    ]


async def test_bad_credentials_are_logged_rate_limited_and_without_the_secret(
    make_settings: Any, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_app(make_settings, clock) as app:
        with caplog.at_level(logging.WARNING, "nightowl.auth"):
            async with http_client(app, ip="192.0.2.7", headers={"Authorization": "Bearer nok_guess123"}) as client:
                for _ in range(20):
                    assert (await client.get("/api/v1/workers")).status_code == 401
            async with http_client(app, ip="192.0.2.7") as client:
                answer = await client.post("/api/v1/auth/login", json={"username": "admin", "password": "hunter2"})
                assert answer.status_code == 401
    logged = lines(caplog, "nightowl.auth")
    assert logged == ["authentication failed from 192.0.2.7: the credentials are invalid, expired or revoked"]
    assert "nok_guess123" not in caplog.text and "hunter2" not in caplog.text


async def test_an_alert_firing_and_resolving_each_make_a_line_with_its_name_and_labels(
    make_settings: Any, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    alert = {"labels": {"alertname": "DiskFull", "instance": "db1", "severity": "critical"}}
    async with running_app(make_settings, clock) as app, admin_client(app) as client:
        with caplog.at_level(logging.INFO, "nightowl.runtime"):
            assert (await client.post("/api/v2/alerts", json=[alert])).status_code == 200
            clock.advance(60)
            ended = {**alert, "endsAt": "2023-11-14T22:14:20Z"}  # clock start + 60 s
            assert (await client.post("/api/v2/alerts", json=[ended])).status_code == 200
    assert [line for line in lines(caplog, "nightowl.runtime") if line.startswith("alert ")] == [
        'alert firing: DiskFull{instance="db1", severity="critical"}',
        'alert resolved: DiskFull{instance="db1", severity="critical"}',
    ]


async def test_a_reload_logs_success_or_the_file_that_failed_and_why(
    make_settings: Any, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rules = tmp_path / "broken.yml"
    rules.write_text("groups:\n  - name: ok\n    rules:\n      - record: x:sum\n        expr: sum(up)\n")
    async with running_app(make_settings, clock, rule_files=[str(rules)]) as app, admin_client(app) as client:
        with caplog.at_level(logging.INFO, "nightowl.runtime"):
            assert (await client.post("/-/reload")).status_code == 200
            rules.write_text("groups:\n  - name: ok\n    rules:\n      - record: x:sum\n        expr: sum(up\n")
            await client.post("/-/reload")
    reloads = [line for line in lines(caplog, "nightowl.runtime") if "reload" in line]
    assert reloads[0] == "configuration reloaded"
    assert reloads[1].startswith("configuration reload failed; the previous configuration stays: rule files:")
    assert "broken.yml" in reloads[1]


def test_a_demo_incident_makes_a_line(caplog: pytest.LogCaptureFixture) -> None:
    platform = Platform(1_700_000_000.0, seed=3)
    with caplog.at_level(logging.INFO, "nightowl.demo.simulation"):
        platform.start_incident("payment", "failure_burst", 1_700_000_010.0, 180)
    assert "demo incident started on request: failure_burst on payment for 180s" in lines(
        caplog, "nightowl.demo.simulation"
    )


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_access_log_is_one_line_per_request_without_the_query_string(
    make_settings: Any, clock: ManualClock, caplog: pytest.LogCaptureFixture, enabled: bool
) -> None:
    async with running_app(make_settings, clock, access_log=enabled) as app, admin_client(app) as client:
        with caplog.at_level(logging.INFO, "nightowl.access"):
            await client.get("/prometheus/api/v1/query", params={"query": "up", "token": "secret"})
    logged = lines(caplog, "nightowl.access")
    if not enabled:
        assert logged == []
        return
    [line] = logged
    assert line.startswith('127.0.0.1 "GET /prometheus/api/v1/query" 200 ')
    assert "secret" not in line
