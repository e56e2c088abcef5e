"""A lean HTTP/1.1 transport under the scrapers' httpx clients: asyncio streams, keep-alive, TLS.

A scrape reads one large body per request; httpcore's generic machinery (anyio cancel scopes and
h11 events on every read) cost several times the socket work for that (measured in
docs/performance.md). The httpx client on top still does headers, redirects, proxies from the
environment and gzip, so this handles only the wire: one GET on a pooled connection, the head
parsed once, the body handed on as read (64 KiB at most per piece, so decompression stays bounded).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from nightowl.outbound import OutboundDenied, OutboundPolicy, open_connection, public_error

_PIECE = 64 * 1024
_MAX_HEAD = 64 * 1024
_MAX_IDLE_PER_HOST = 4
_NO_BODY_STATUS = frozenset({204, 304})
_STALE = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True)
class _Head:
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    keep_alive: bool

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


def _timeout(request: httpx.Request, phase: str) -> float | None:
    timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeouts.get(phase)


def parse_head(raw: bytes) -> _Head:
    """The status line and headers of a response (without the final blank line)."""
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError(f"malformed status line {lines[0][:100]!r}")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError(f"malformed header line {line[:100]!r}")
        headers.append((name, value.strip()))
    connection = b",".join(v for k, v in headers if k.lower() == b"connection").lower()
    keep_alive = parts[0] == b"HTTP/1.1" and b"close" not in connection
    return _Head(int(parts[1]), parts[2] if len(parts) > 2 else b"", headers, keep_alive)


class _Body(httpx.AsyncByteStream):
    """The response body as it arrives; a connection read to the end goes back to the pool."""

    def __init__(
        self,
        transport: ScrapeTransport,
        key: tuple[str, str, int],
        conn: _Connection,
        head: _Head,
        request: httpx.Request,
    ) -> None:
        self.transport, self.key, self.conn, self.head = transport, key, conn, head
        self.read_timeout = _timeout(request, "read")
        self.no_body = request.method == "HEAD" or head.status in _NO_BODY_STATUS or head.status < 200
        self.done = self.closed = False

    async def _read(self, size: int) -> bytes:
        try:
            async with asyncio.timeout(self.read_timeout):
                return await self.conn.reader.read(size)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out reading the response body") from None
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from None

    async def _line(self) -> bytes:
        try:
            async with asyncio.timeout(self.read_timeout):
                return await self.conn.reader.readuntil(b"\r\n")
        except TimeoutError:
            raise httpx.ReadTimeout("timed out reading the response body") from None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            raise httpx.RemoteProtocolError("malformed chunked body") from None
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from None

    async def _sized(self, remaining: int) -> AsyncIterator[bytes]:
        while remaining > 0:
            piece = await self._read(min(remaining, _PIECE))
            if not piece:
                raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
            remaining -= len(piece)
            yield piece

    async def _chunked(self) -> AsyncIterator[bytes]:
        while True:
            size_line = await self._line()
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise httpx.RemoteProtocolError(f"malformed chunk size {size_line[:40]!r}") from None
            if size == 0:
                while await self._line() != b"\r\n":  # trailers, ignored
                    pass
                return
            async for piece in self._sized(size):
                yield piece
            if await self._line() != b"\r\n":
                raise httpx.RemoteProtocolError("chunk not followed by CRLF")

    async def _until_close(self) -> AsyncIterator[bytes]:
        while piece := await self._read(_PIECE):
            yield piece

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = self.head
        length = head.header(b"content-length")
        chunked = b"chunked" in (head.header(b"transfer-encoding") or b"").lower()
        if self.no_body:
            pieces = None
        elif chunked:
            pieces = self._chunked()
        elif length is not None:
            if not length.strip().isdigit():
                raise httpx.RemoteProtocolError(f"malformed Content-Length {length[:40]!r}")
            pieces = self._sized(int(length))
        else:
            self.head = _Head(head.status, head.reason, head.headers, keep_alive=False)
            pieces = self._until_close()
        if pieces is not None:
            async for piece in pieces:
                for start in range(0, len(piece), _PIECE):
                    yield piece[start : start + _PIECE]
        self.done = True

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.done and self.head.keep_alive:
            self.transport.release(self.key, self.conn)
        else:
            self.conn.close()


class ScrapeTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio streams with a small keep-alive pool per host."""

    def __init__(self, ssl_context: ssl.SSLContext, policy: OutboundPolicy | None = None) -> None:
        self.ssl_context = ssl_context
        self.policy = policy
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}

    def _checkout(self, key: tuple[str, str, int]) -> _Connection | None:
        """An idle connection to `key` the target has not closed meanwhile, if any."""
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.reader.at_eof():
                return conn
            conn.close()
        return None

    def release(self, key: tuple[str, str, int], conn: _Connection) -> None:
        idle = self._idle.setdefault(key, [])
        if len(idle) < _MAX_IDLE_PER_HOST and not conn.reader.at_eof():
            idle.append(conn)
        else:
            conn.close()

    async def _connect(self, request: httpx.Request, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        tls = self.ssl_context if scheme == "https" else None
        if self.policy is not None:
            return await self._connect_judged(request, self.policy, host, port, tls)
        try:
            async with asyncio.timeout(_timeout(request, "connect")):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None, limit=_MAX_HEAD
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from None
        return _Connection(reader, writer)

    async def _connect_judged(
        self, request: httpx.Request, policy: OutboundPolicy, host: str, port: int, tls: ssl.SSLContext | None
    ) -> _Connection:
        """Under the policy: a failure says no more than "connection failed" (the detail is logged)."""
        try:
            async with asyncio.timeout(_timeout(request, "connect")):
                reader, writer = await open_connection(policy, host, port, ssl_context=tls, limit=_MAX_HEAD)
        except OutboundDenied:
            raise
        except OSError as exc:
            raise httpx.ConnectError(public_error(exc, where=f"scrape {host}:{port}")) from None
        return _Connection(reader, writer)

    async def _exchange(self, request: httpx.Request, conn: _Connection) -> _Head:
        target = request.url.raw_path.decode("ascii")
        lines = [f"{request.method} {target} HTTP/1.1".encode("ascii")]
        lines += [name + b": " + value for name, value in request.headers.raw]
        body = await request.aread()
        try:
            conn.writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            async with asyncio.timeout(_timeout(request, "write")):
                await conn.writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("timed out sending the request") from None
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__) from None
        try:
            async with asyncio.timeout(_timeout(request, "read")):
                while True:
                    head = parse_head((await conn.reader.readuntil(b"\r\n\r\n"))[:-4])
                    if head.status != 100:
                        return head
        except TimeoutError:
            raise httpx.ReadTimeout("timed out waiting for the response") from None
        except asyncio.IncompleteReadError:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from None
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError(f"response head larger than {_MAX_HEAD} bytes") from None
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        conn = self._checkout(key)
        pooled = conn is not None
        if conn is None:
            conn = await self._connect(request, key)
        try:
            head = await self._exchange(request, conn)
        except BaseException as exc:
            conn.close()
            if pooled and isinstance(exc, _STALE):  # the target restarted or timed us out: so are the others
                for other in self._idle.pop(key, []):
                    other.close()
            raise
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=_Body(self, key, conn, head, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
