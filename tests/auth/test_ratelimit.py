"""Token buckets per API key and per client IP: 429 with Retry-After and X-RateLimit-* headers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from nightowl.auth.ratelimit import FailureWindow, TokenBuckets
from nightowl.core.clock import ManualClock
from tests.support.apps import http_client, running_app


def test_bucket_allows_a_burst_then_refills_evenly() -> None:
    clock = ManualClock()
    buckets = TokenBuckets(clock)
    decisions = [buckets.hit("k", 3600) for _ in range(3601)]
    assert all(d.allowed for d in decisions[:3600]) and not decisions[-1].allowed
    assert decisions[-1].retry_after == 1.0 and decisions[-1].headers()["Retry-After"] == "1"
    clock.advance(1)
    assert buckets.hit("k", 3600).allowed and not buckets.hit("k", 3600).allowed
    assert buckets.hit("other", 3600).allowed


def test_failure_window_locks_and_ages_out() -> None:
    clock = ManualClock()
    window = FailureWindow(clock, max_failures=3, window=60)
    for _ in range(3):
        assert window.locked_for("u") == 0
        window.fail("u")
        clock.advance(10)
    assert window.locked_for("u") == 30
    clock.advance(30)
    assert window.locked_for("u") == 0
    window.fail("u")
    window.reset("u")
    assert window.locked_for("u") == 0


async def test_key_rate_limit_answers_429_with_headers(app: FastAPI, client: httpx.AsyncClient, clock) -> None:
    key = (await client.post("/api/v1/keys", json={"name": "slow", "scopes": ["read"], "rate_limit": 3})).json()
    async with http_client(app, headers={"X-API-Key": key["key"]}) as c:
        answers = [await c.get("/api/v1/workers") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
        limited = answers[-1]
        assert limited.headers["x-ratelimit-limit"] == "3" and limited.headers["retry-after"] == "1200"
        assert limited.json()["limit"] == 3 and limited.headers["content-type"] == "application/problem+json"
        clock.advance(1200)
        assert (await c.get("/api/v1/workers")).status_code == 200


async def test_keys_have_separate_buckets_and_a_default(make_settings, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, rate_limit_per_key=2) as app:
        from tests.conftest import credential_for

        first, second = credential_for(app, scopes=["read"]), credential_for(app, scopes=["read"])
        async with (
            http_client(app, headers={"X-API-Key": first}) as a,
            http_client(app, headers={"X-API-Key": second}) as b,
        ):
            assert [(await a.get("/api/v1/workers")).status_code for _ in range(3)] == [200, 200, 429]
            assert (await b.get("/api/v1/workers")).status_code == 200


async def test_client_ip_rate_limit(make_settings, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, rate_limit_per_ip=2) as app:
        async with http_client(app, ip="10.0.0.1") as one, http_client(app, ip="10.0.0.2") as two:
            assert [(await one.get("/status")).status_code for _ in range(3)] == [200, 200, 429]
            assert (await one.get("/api/v1/workers")).status_code == 429, "guessing credentials counts too"
            assert (await two.get("/status")).status_code == 200
            assert (await one.get("/status")).headers["retry-after"] == "1800"
