"""The outbound side of a scrape: one httpx client per job (its TLS and auth), content negotiation
between OpenMetrics and text 0.0.4 as Prometheus does it, gzip, a timeout and a body size cap."""

from __future__ import annotations

import base64
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx

from nightowl import __version__
from nightowl.outbound import OutboundPolicy
from nightowl.scrape.config import Authorization, BasicAuth, TLSConfig
from nightowl.scrape.process import ScrapeFailure
from nightowl.scrape.transport import ScrapeTransport

ACCEPT = (
    "application/openmetrics-text;version=1.0.0;q=0.5,"
    "application/openmetrics-text;version=0.0.1;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)
USER_AGENT = f"Nightowl/{__version__}"

# httpx logs every request at INFO; a scraper makes thousands a minute, so only its warnings show.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Fetched:
    body: bytes
    openmetrics: bool


def _read_secret(inline: str, path: str | None) -> str:
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ScrapeFailure(f"cannot read credentials file {path}: {exc.strerror or exc}") from None
    return inline


def auth_headers(basic_auth: BasicAuth | None, authorization: Authorization | None) -> dict[str, str]:
    """The Authorization header a job sends; files are read on every scrape so rotation needs no reload."""
    if basic_auth is not None:
        password = _read_secret(basic_auth.password, basic_auth.password_file)
        token = base64.b64encode(f"{basic_auth.username}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    if authorization is not None:
        credentials = _read_secret(authorization.credentials, authorization.credentials_file)
        return {"Authorization": f"{authorization.type} {credentials}"}
    return {}


def tls_verify(tls: TLSConfig | None) -> ssl.SSLContext | bool:
    if tls is None:
        return True
    if tls.insecure_skip_verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=tls.ca_file, cadata=tls.ca)
    if tls.cert_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


def make_client(
    tls: TLSConfig | None, transport: httpx.AsyncBaseTransport | None = None, policy: OutboundPolicy | None = None
) -> httpx.AsyncClient:
    """The job's client: httpx (redirects, gzip) over `ScrapeTransport`; with a `policy`, every connection
    (redirects too) goes only where it allows."""
    if transport is None:
        verify = tls_verify(tls)
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        transport = ScrapeTransport(context, policy)
    return httpx.AsyncClient(follow_redirects=True, headers={"User-Agent": USER_AGENT}, transport=transport)


# A pooled keep-alive connection the target has just closed fails on first use; Go's HTTP client
# (so Prometheus) retries such a GET once on a new connection, and so do we.
_STALE_CONNECTION = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


async def fetch(
    client: httpx.AsyncClient, url: str, timeout: float, headers: dict[str, str], max_bytes: int
) -> Fetched:
    """GET the exposition; any failure (network, status, size) is a `ScrapeFailure`."""
    try:
        return await _fetch_once(client, url, timeout, headers, max_bytes)
    except _STALE_CONNECTION:
        pass
    try:
        return await _fetch_once(client, url, timeout, headers, max_bytes)
    except httpx.HTTPError as exc:
        raise ScrapeFailure(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None


async def _fetch_once(
    client: httpx.AsyncClient, url: str, timeout: float, headers: dict[str, str], max_bytes: int
) -> Fetched:
    request_headers = {
        "Accept": ACCEPT,
        "Accept-Encoding": "gzip",
        "X-Prometheus-Scrape-Timeout-Seconds": f"{timeout:g}",
        **headers,
    }
    try:
        async with client.stream("GET", url, headers=request_headers, timeout=timeout) as response:
            if response.status_code != 200:
                raise ScrapeFailure(f"server returned HTTP status {response.status_code} {response.reason_phrase}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ScrapeFailure(f"body size limit exceeded: more than {max_bytes} bytes")
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "")
    except httpx.TimeoutException:
        raise ScrapeFailure(f"context deadline exceeded (timeout {timeout:g}s)") from None
    except _STALE_CONNECTION:
        raise
    except httpx.HTTPError as exc:
        raise ScrapeFailure(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
    return Fetched(b"".join(chunks), content_type.startswith("application/openmetrics-text"))
