"""HTTP and TCP under the policy, against real servers on loopback: judged after DNS, pinned, on every redirect."""

from __future__ import annotations

import httpx
import pytest

from nightowl.outbound import CONNECTION_FAILED, OutboundDenied, OutboundPolicy, open_connection, public_error
from nightowl.outbound.http import PolicyBackend, policy_client
from tests.health.servers import closed_port, tcp_listener
from tests.notify.receiver import Reply, Request, receiver


def resolving(**names: str):  # type: ignore[no-untyped-def]
    """A resolver seam: these names (dots as `_`) resolve to these addresses, and it counts the lookups."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return [names[host.replace(".", "_")]]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


async def test_a_loopback_server_is_reached_only_with_the_allowance() -> None:
    async with receiver() as server:
        async with policy_client(OutboundPolicy()) as client:
            with pytest.raises(OutboundDenied, match="loopback address .*outbound_allow_loopback"):
                await client.get(f"{server.url}/hook")
        assert server.requests == []
        async with policy_client(OutboundPolicy(allow_loopback=True)) as client:
            assert (await client.get(f"{server.url}/hook")).status_code == 200
        assert [r.path for r in server.requests] == ["/hook"]


async def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    async with receiver() as server, policy_client(OutboundPolicy()) as client:
        with pytest.raises(OutboundDenied, match="localhost resolves to a loopback address"):
            await client.get(f"http://localhost:{server.port}/")
        assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
        "http://0xa9fea9fe/latest/meta-data/",
        "http://169.254.43518/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "http://[fe80::1]/",
    ],
)
async def test_metadata_and_link_local_urls_are_refused_before_connecting(url: str) -> None:
    async with policy_client(OutboundPolicy.allowing_all_local(), timeout=2.0) as client:
        with pytest.raises(OutboundDenied, match="never allowed"):
            await client.get(url)


async def test_the_connection_goes_to_the_judged_address_with_the_name_in_the_host_header() -> None:
    """Pinned: `pinned.test` exists only in the fake resolver, asked once; the socket uses its answer."""
    resolver = resolving(pinned_test="127.0.0.1")
    async with receiver() as server:
        policy = OutboundPolicy(allow_loopback=True, resolver=resolver)
        async with policy_client(policy) as client:
            response = await client.get(f"http://pinned.test:{server.port}/x")
    assert response.status_code == 200
    assert server.requests[0].headers["host"] == f"pinned.test:{server.port}"
    assert resolver.calls == ["pinned.test"]


async def test_a_name_resolving_to_a_denied_address_is_refused() -> None:
    """DNS answers loopback for a public-looking name (rebinding): refused, nothing is sent."""
    async with receiver() as server:
        policy = OutboundPolicy(resolver=resolving(hooks_example_com="127.0.0.1"))
        async with policy_client(policy) as client:
            with pytest.raises(OutboundDenied, match="hooks.example.com resolves to a loopback address"):
                await client.post(f"http://hooks.example.com:{server.port}/", json={})
        assert server.requests == []


async def test_a_redirect_from_an_allowed_host_to_a_denied_one_is_refused() -> None:
    def redirect(request: Request) -> Reply:
        if request.path == "/start":
            return 302, "", {"Location": f"http://127.0.0.1:{server.port}/inside"}
        if request.path == "/metadata":
            return 302, "", {"Location": "http://169.254.169.254/latest/meta-data/"}
        return 200, "secret", {}

    async with receiver(handler=redirect) as server:
        policy = OutboundPolicy(allow_hosts=frozenset({"allowed.test"}), resolver=resolving(allowed_test="127.0.0.1"))
        async with policy_client(policy, follow_redirects=True) as client:
            with pytest.raises(OutboundDenied, match="127.0.0.1 is a loopback address"):
                await client.get(f"http://allowed.test:{server.port}/start")
            with pytest.raises(OutboundDenied, match="never allowed"):
                await client.get(f"http://allowed.test:{server.port}/metadata")
            assert (await client.get(f"http://allowed.test:{server.port}/ok")).text == "secret"
        assert [r.path for r in server.requests] == ["/start", "/metadata", "/ok"]


async def test_unix_sockets_are_refused() -> None:
    with pytest.raises(OutboundDenied, match="Unix sockets"):
        await PolicyBackend(OutboundPolicy.allowing_all_local()).connect_unix_socket("/tmp/nothing.sock")


async def test_tcp_connections_follow_the_same_policy() -> None:
    with tcp_listener() as port:
        with pytest.raises(OutboundDenied, match="outbound_allow_loopback"):
            await open_connection(OutboundPolicy(), "127.0.0.1", port)
        _reader, writer = await open_connection(OutboundPolicy(allow_loopback=True), "localhost", port)
        writer.close()


async def test_refused_and_unresolvable_read_the_same_to_the_user() -> None:
    """No port scanner: a closed port says "connection failed", as would an unreachable host or a timeout."""
    policy = OutboundPolicy(allow_loopback=True)
    async with policy_client(policy) as client:
        with pytest.raises(httpx.ConnectError) as refused:
            await client.get(f"http://127.0.0.1:{closed_port()}/")
    assert public_error(refused.value) == CONNECTION_FAILED
    with pytest.raises(OSError) as tcp_refused:
        await open_connection(policy, "127.0.0.1", closed_port())
    assert public_error(tcp_refused.value) == CONNECTION_FAILED
    assert public_error(TimeoutError()) == CONNECTION_FAILED
