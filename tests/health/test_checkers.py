"""Each check type against a real local server; the runner's judge turns probes into up/degraded/down."""

from __future__ import annotations

from typing import Any

import pytest

from nightowl.core.clock import SystemClock
from nightowl.health.checkers import CHECKERS, ProbeContext
from nightowl.health.judge import classify
from nightowl.health.model import Outcome, Probe
from nightowl.health.spec import CheckSpec
from nightowl.outbound import OutboundDenied, OutboundPolicy
from tests.health.servers import Certificate, closed_port, self_signed, tcp_listener
from tests.support.postgres import PostgresServer


async def probe(policy: OutboundPolicy | None = None, **fields: Any) -> tuple[Outcome, str | None, Probe]:
    spec = CheckSpec(name="probe", **fields)
    context = ProbeContext(clock=SystemClock(), policy=policy or OutboundPolicy(allow_loopback=True))
    try:
        result = await CHECKERS[spec.type](spec, context)
    finally:
        await context.http.aclose()
    outcome, reason = classify(spec, result)
    return outcome, reason, result


async def test_http_up_with_status_and_latency(web: str) -> None:
    outcome, reason, result = await probe(type="http", target=f"{web}/ok")
    assert (outcome, reason) == ("up", None)
    assert result.detail["status_code"] == 200 and result.latency is not None and 0 < result.latency < 2


async def test_http_unexpected_status_is_down(web: str) -> None:
    outcome, reason, _ = await probe(type="http", target=f"{web}/status/503")
    assert outcome == "down" and reason == "status 503 (expected 2xx, 3xx)"
    assert (await probe(type="http", target=f"{web}/status/503", expected_status=[503]))[0] == "up"


async def test_http_redirects_are_followed_unless_told_not_to(web: str) -> None:
    _, _, followed = await probe(type="http", target=f"{web}/redirect")
    assert followed.detail["status_code"] == 200
    outcome, reason, _ = await probe(
        type="http", target=f"{web}/redirect", follow_redirects=False, expected_status=["2xx"]
    )
    assert outcome == "down" and reason == "status 302 (expected 2xx)"


async def test_http_sends_method_headers_and_body(web: str) -> None:
    outcome, reason, _ = await probe(
        type="http",
        target=f"{web}/echo",
        method="POST",
        headers={"X-Test": "yes"},
        body="hello",
        assertions=[
            {"type": "json_path", "path": "$.method", "equals": "POST"},
            {"type": "json_path", "path": "$.header", "equals": "yes"},
            {"type": "json_path", "path": "$.body", "equals": "hello"},
        ],
    )
    assert (outcome, reason) == ("up", None)


async def test_http_keyword_and_json_path_assertions(web: str) -> None:
    assert (await probe(type="http", target=f"{web}/ok", assertions=[{"type": "keyword", "value": "operational"}]))[
        0
    ] == "up"
    outcome, reason, _ = await probe(
        type="http", target=f"{web}/ok", assertions=[{"type": "keyword", "value": "broken"}]
    )
    assert outcome == "down" and reason == "keyword 'broken' not found"
    outcome, reason, _ = await probe(
        type="http", target=f"{web}/json", assertions=[{"type": "json_path", "path": "$.items[0].name", "equals": "b"}]
    )
    assert outcome == "down" and reason == "$.items[0].name is 'a', expected 'b'"


async def test_soft_assertion_or_slow_answer_is_degraded(web: str) -> None:
    outcome, reason, _ = await probe(
        type="http",
        target=f"{web}/json",
        assertions=[{"type": "json_path", "path": "$.db.lag", "equals": 0, "soft": True}],
    )
    assert outcome == "degraded" and reason == "$.db.lag is 3, expected 0"
    outcome, reason, _ = await probe(type="http", target=f"{web}/slow?150", degraded_latency=0.05)
    assert outcome == "degraded" and reason is not None and "above 50 ms" in reason


async def test_http_timeout_is_down(web: str) -> None:
    outcome, reason, _ = await probe(type="http", target=f"{web}/slow?1500", timeout=0.2, interval=5)
    assert outcome == "down" and reason == "timed out after 0.2s"


async def test_https_self_signed_is_down_unless_trusted(secure_web: str, certificate: Certificate) -> None:
    outcome, reason, _ = await probe(type="http", target=f"{secure_web}/ok")
    assert outcome == "down" and reason is not None and "certificate" in reason
    url = secure_web.replace("127.0.0.1", "localhost")
    outcome, _, result = await probe(type="http", target=f"{url}/ok", ca_file=str(certificate.cert_file))
    assert outcome == "up"
    assert result.tls_expiry == certificate.not_after.timestamp()
    assert (await probe(type="http", target=f"{secure_web}/ok", verify_tls=False))[0] == "up"


async def test_closed_port_is_down_for_http_and_tcp() -> None:
    port = closed_port()
    outcome, reason, _ = await probe(type="http", target=f"http://127.0.0.1:{port}/")
    assert (outcome, reason) == ("down", "connection failed")
    outcome, reason, _ = await probe(type="tcp", target=f"127.0.0.1:{port}")
    assert (outcome, reason) == ("down", "connection failed")


async def test_tcp_listener_is_up() -> None:
    with tcp_listener() as port:
        outcome, _, result = await probe(type="tcp", target=f"127.0.0.1:{port}")
    assert outcome == "up" and result.latency is not None


async def test_tls_expiry_counts_days_left(secure_web: str, certificate: Certificate, tls_dir) -> None:
    target = secure_web.removeprefix("https://")
    outcome, _, result = await probe(type="tls", target=target)
    assert outcome == "up" and result.tls_expiry == certificate.not_after.timestamp()
    assert 29 < float(result.detail["days_left"] or 0) <= 30
    outcome, reason, _ = await probe(type="tls", target=target, tls_warn_days=45)
    assert outcome == "degraded" and reason is not None and "warning below 45" in reason
    outcome, reason, _ = await probe(type="tls", target=target, tls_critical_days=31)
    assert outcome == "down" and reason is not None and "critical below 31" in reason


async def test_tls_against_a_plain_port_is_down(web: str) -> None:
    outcome, reason, _ = await probe(type="tls", target=web.removeprefix("http://"))
    assert outcome == "down" and reason is not None


async def test_dns_resolves_localhost_and_not_an_invalid_name() -> None:
    outcome, _, result = await probe(type="dns", target="localhost", record_type="A", expected_addresses=["127.0.0.1"])
    assert outcome == "up" and "127.0.0.1" in str(result.detail["addresses"])
    outcome, reason, _ = await probe(type="dns", target="nonexistent.invalid")
    assert outcome == "down" and reason is not None and reason.startswith("cannot resolve nonexistent.invalid")


async def test_postgres_select_one(postgres_server: PostgresServer | str) -> None:
    if isinstance(postgres_server, str):
        pytest.skip(f"requires component: postgresql: {postgres_server}")
    outcome, reason, _ = await probe(type="postgres", target=postgres_server.admin_url)
    assert (outcome, reason) == ("up", None)
    outcome, reason, _ = await probe(
        type="postgres", target=f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres"
    )
    assert outcome == "down" and reason is not None


async def test_redis_ping(redis_url: str) -> None:
    assert (await probe(type="redis", target=redis_url))[:2] == ("up", None)
    outcome, reason, _ = await probe(type="redis", target=f"redis://127.0.0.1:{closed_port()}/0")
    assert outcome == "down" and reason is not None


def test_an_expired_certificate_is_down(tmp_path) -> None:
    from nightowl.health.checkers.tls import judge_expiry

    cert = self_signed(tmp_path, days=1)
    result = judge_expiry(cert.not_after.timestamp(), cert.not_after.timestamp() + 10, 14, 0, 0.01)
    assert not result.ok and result.error == "certificate expired"


async def test_every_check_type_keeps_to_the_outbound_policy(
    web: str, secure_web: str, redis_url: str, postgres_server: PostgresServer | str
) -> None:
    """The default policy refuses loopback for each kind of check, naming the setting that would allow it."""
    strict = OutboundPolicy()
    host_port = web.removeprefix("http://")
    targets = [
        ("http", f"{web}/ok"),
        ("http", web.replace("127.0.0.1", "localhost") + "/ok"),
        ("tcp", host_port),
        ("tls", secure_web.removeprefix("https://")),
        ("redis", redis_url),
        ("redis", redis_url.replace("127.0.0.1", "localhost")),
        ("postgres", f"postgresql://postgres@{host_port}/postgres"),
        ("postgres", "postgresql:///postgres?host=/var/run/postgresql"),
        ("postgres", f"postgresql://db.example:{host_port.rsplit(':')[1]}/postgres?hostaddr=127.0.0.1"),
    ]
    for kind, target in targets:
        outcome, reason, _ = await probe(strict, type=kind, target=target)
        assert outcome == "down" and reason is not None, (kind, target)
        assert "not allowed by the outbound policy" in reason and "outbound_allow_loopback" in reason, (kind, reason)
    metadata = await probe(OutboundPolicy.allowing_all_local(), type="tcp", target="169.254.169.254:80")
    assert metadata[1] is not None and "never allowed" in metadata[1]


async def test_pinned_redis_and_postgres_still_connect(redis_url: str, postgres_server: PostgresServer | str) -> None:
    """They connect to the judged address; the host name is kept for TLS and the server's answers are shown."""
    assert (await probe(type="redis", target=redis_url.replace("127.0.0.1", "localhost")))[:2] == ("up", None)
    if isinstance(postgres_server, str):
        pytest.skip(f"requires component: postgresql: {postgres_server}")
    url = postgres_server.admin_url.replace("127.0.0.1", "localhost")
    assert (await probe(type="postgres", target=url))[:2] == ("up", None)
    outcome, reason, _ = await probe(type="postgres", target=url.replace("/postgres", "/no_such_database"))
    assert outcome == "down" and reason is not None
    assert reason.startswith("PostgreSQL: ") and "no_such_database" in reason


async def test_rediss_connects_to_the_judged_address_and_names_the_host_for_tls() -> None:
    from nightowl.health.checkers.redis import pinned_options

    async def cache(host: str, port: int) -> list[str]:
        return {"cache.internal": ["10.0.0.9"]}[host]

    policy = OutboundPolicy(allow_private=True, resolver=cache)
    options = await pinned_options(policy, "rediss://:pw@cache.internal:6380/2")
    assert (options["host"], options["port"], options["db"], options["password"]) == ("10.0.0.9", 6380, 2, "pw")
    connection = options["connection_class"](host=options["host"], port=6380)
    assert connection._connection_arguments()["server_hostname"] == "cache.internal"
    with pytest.raises(OutboundDenied, match="Unix socket"):
        await pinned_options(OutboundPolicy(), "unix:///run/redis.sock")


async def test_a_port_that_never_answers_reads_like_a_refused_one() -> None:
    """A full listen queue drops the SYN, as a firewall would: "connection failed", not "timed out"."""
    import socket

    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        try:
            for kind, target in (("tcp", f"127.0.0.1:{port}"), ("http", f"http://127.0.0.1:{port}/")):
                outcome, reason, _ = await probe(type=kind, target=target, timeout=0.5, interval=5)
                assert (outcome, reason) == ("down", "connection failed"), kind
        finally:
            for filler in fillers:
                filler.close()
