"""Outbound HTTP for checks: shared httpx clients with explicit timeouts, one per TLS trust setting,
all under the outbound policy (`nightowl.outbound`).

Clients are kept because 1,000 checks every 30 s cannot afford a new client (and TLS context) per run.
Connections are not: every run opens its own, so the latency includes connect and TLS handshake as a
visitor's would, and the pool never holds idle connections (httpcore scans all of them per request).
"""

from __future__ import annotations

import logging
import ssl

import httpx

from nightowl import __version__
from nightowl.outbound.http import PolicyTransport
from nightowl.outbound.policy import OutboundPolicy

USER_AGENT = f"Nightowl/{__version__} (health check)"

# httpx logs every request at INFO: 1,000 checks every 30 s would write 33 lines a second.
logging.getLogger("httpx").setLevel(logging.WARNING)


class HttpClients:
    """One `httpx.AsyncClient` per (verify, ca_file); closed together on stop."""

    def __init__(self, policy: OutboundPolicy | None = None, max_connections: int = 1000) -> None:
        self.policy = policy or OutboundPolicy()
        self._clients: dict[tuple[bool, str | None], httpx.AsyncClient] = {}
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=0)

    def get(self, verify: bool, ca_file: str | None) -> httpx.AsyncClient:
        key = (verify, ca_file if verify else None)
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(
                transport=PolicyTransport(self.policy, self._ssl_context(verify, ca_file), self._limits),
                timeout=httpx.Timeout(10.0),
                headers={"User-Agent": USER_AGENT},
            )
            self._clients[key] = client
        return client

    @staticmethod
    def _ssl_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
        if not verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        context = ssl.create_default_context()
        if ca_file:
            context.load_verify_locations(cafile=ca_file)
        return context

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
