"""HTTP under the policy: an httpx transport whose every new connection is resolved, judged and pinned.

The check sits in httpcore's network backend, where connections are opened, so it holds for redirects
(each new host is a new connection), for every address a name resolves to, and against DNS rebinding
(the socket goes to the address that was judged; TLS still names the URL's host for SNI and the
certificate). Environment proxies are not used: a proxy would resolve the name where the policy
cannot see it.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable

import anyio
import httpcore
import httpx

from nightowl.outbound.policy import OutboundDenied, OutboundPolicy

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class PolicyBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self.policy.resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out resolving {host}") from None
        except OutboundDenied:
            raise
        except OSError as exc:
            reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
            raise httpcore.ConnectError(f"cannot resolve {host}: {reason}") from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundDenied("destination not allowed by the outbound policy: Unix sockets are never allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PolicyTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` over `PolicyBackend`."""

    def __init__(
        self,
        policy: OutboundPolicy,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
    ) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify)
        super().__init__(verify=context, limits=limits, trust_env=False)
        # httpx has no argument for the network backend: the pool is rebuilt with the same limits around it
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PolicyBackend(policy),
        )


def policy_client(
    policy: OutboundPolicy,
    *,
    verify: ssl.SSLContext | bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
    **kwargs: object,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` under the policy; a given `transport` (tests' MockTransport) replaces the network."""
    return httpx.AsyncClient(transport=transport or PolicyTransport(policy, verify), **kwargs)  # type: ignore[arg-type]
