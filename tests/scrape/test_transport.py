"""The scrape transport against real sockets: keep-alive, the three body framings, gzip, a stale
pooled connection, TLS, timeouts, limits."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nightowl.scrape.config import TLSConfig
from nightowl.scrape.fetch import fetch, make_client
from nightowl.scrape.process import ScrapeFailure
from tests.health.servers import self_signed

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[bool]]
"""Writes the response to one request head; returns False to close the connection after it."""

EXPOSITION = b"".join(b'm{i="%d"} %d\n' % (i, i) for i in range(20_000))


@dataclass
class Server:
    url: str
    connections: int = 0
    heads: list[bytes] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)


@asynccontextmanager
async def serve(answer: Answer, tls: object = None) -> AsyncIterator[Server]:
    server_state = Server("")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_state.connections += 1
        server_state.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                server_state.heads.append(head)
                if not await answer(reader, writer, head):
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)  # type: ignore[arg-type]
    port = server.sockets[0].getsockname()[1]
    server_state.url = f"{'https' if tls else 'http'}://localhost:{port}/metrics"
    async with server:
        yield server_state


def sized(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n" % (len(body), extra) + body


async def test_keepalive_connections_are_reused_and_bodies_read_whole() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> bool:
        writer.write(sized(EXPOSITION))
        return True

    async with serve(answer) as server:
        client = make_client(None)
        for _ in range(3):
            fetched = await fetch(client, server.url, 5, {"Authorization": "Bearer x"}, 1 << 24)
            assert fetched.body == EXPOSITION and not fetched.openmetrics
        await client.aclose()
    assert server.connections == 1
    assert b"GET /metrics HTTP/1.1\r\n" in server.heads[0]
    assert b"Authorization: Bearer x" in server.heads[0] and b"Accept-Encoding: gzip" in server.heads[0]


async def test_chunked_gzip_bodies_are_decoded_and_the_size_cap_holds() -> None:
    compressed = gzip.compress(EXPOSITION)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/openmetrics-text; version=1.0.0\r\n\r\n"
        )
        for start in range(0, len(compressed), 7000):
            piece = compressed[start : start + 7000]
            writer.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
        writer.write(b"0\r\nTrailer: x\r\n\r\n")
        return True

    async with serve(answer) as server:
        client = make_client(None)
        fetched = await fetch(client, server.url, 5, {}, 1 << 24)
        assert fetched.body == EXPOSITION and fetched.openmetrics
        assert (await fetch(client, server.url, 5, {}, 1 << 24)).body == EXPOSITION
        with pytest.raises(ScrapeFailure, match="body size limit exceeded"):
            await fetch(client, server.url, 5, {}, 100_000)
        assert (await fetch(client, server.url, 5, {}, 1 << 24)).body == EXPOSITION
        await client.aclose()
    assert server.connections == 2  # the capped read could not finish its body, so that connection closed


async def test_a_body_delimited_by_closing_the_connection() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> bool:
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + EXPOSITION)
        return False

    async with serve(answer) as server:
        client = make_client(None)
        assert (await fetch(client, server.url, 5, {}, 1 << 24)).body == EXPOSITION
        assert (await fetch(client, server.url, 5, {}, 1 << 24)).body == EXPOSITION
        await client.aclose()
    assert server.connections == 2


async def test_a_pooled_connection_the_target_closed_is_retried_on_a_new_one() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> bool:
        writer.write(sized(b"m 1\n"))
        return True

    async with serve(answer) as server:
        client = make_client(None)
        for _ in range(3):
            assert (await fetch(client, server.url, 5, {}, 1024)).body == b"m 1\n"
            server.writers[-1].transport.abort()  # the client finds out only when it reuses the connection
        await client.aclose()
    assert server.connections == 3


async def test_status_redirect_and_protocol_errors_are_scrape_failures() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> bool:
        if head.startswith(b"GET /old "):
            writer.write(b"HTTP/1.1 301 Moved\r\nLocation: /metrics\r\nContent-Length: 0\r\n\r\n")
        elif head.startswith(b"GET /broken "):
            writer.write(b"garbage\r\n\r\n")
        elif head.startswith(b"GET /short "):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nm 1\n")
            return False
        else:
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nno")
        return True

    async with serve(answer) as server:
        client = make_client(None)
        base = server.url.removesuffix("/metrics")
        with pytest.raises(ScrapeFailure, match="server returned HTTP status 503 Service Unavailable"):
            await fetch(client, base + "/old", 5, {}, 1024)
        with pytest.raises(ScrapeFailure, match="RemoteProtocolError: malformed status line"):
            await fetch(client, base + "/broken", 5, {}, 1024)
        with pytest.raises(ScrapeFailure, match="RemoteProtocolError: peer closed connection"):
            await fetch(client, base + "/short", 5, {}, 1024)
        await client.aclose()


async def test_a_target_that_stalls_times_out() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nm 1\n")
        await writer.drain()
        await asyncio.sleep(5)
        return False

    async with serve(answer) as server:
        client = make_client(None)
        with pytest.raises(ScrapeFailure, match="context deadline exceeded"):
            await fetch(client, server.url, 0.2, {}, 1024)
        await client.aclose()


async def test_https_targets_are_verified_against_the_configured_ca(tmp_path: Path) -> None:
    import ssl

    certificate = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> bool:
        writer.write(sized(b"m 1\n"))
        return True

    async with serve(answer, tls=context) as server:
        trusted = make_client(TLSConfig(ca_file=str(certificate.cert_file)))
        assert (await fetch(trusted, server.url, 5, {}, 1024)).body == b"m 1\n"
        await trusted.aclose()
        skipping = make_client(TLSConfig(insecure_skip_verify=True))
        assert (await fetch(skipping, server.url, 5, {}, 1024)).body == b"m 1\n"
        await skipping.aclose()
        default = make_client(None)
        with pytest.raises(ScrapeFailure, match="ConnectError: .*CERTIFICATE_VERIFY_FAILED"):
            await fetch(default, server.url, 5, {}, 1024)
        await default.aclose()
