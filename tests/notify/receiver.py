"""A real HTTP server on 127.0.0.1 that records requests, for checking what channels send."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, str | bytes, dict[str, str]]


@dataclass
class Receiver:
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    status: int = 200
    body: str | bytes = "ok"
    delay: float = 0.0
    handler: Callable[[Request], Reply] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (header := (await reader.readline()).decode().rstrip("\r\n")) != "":
                    name, _, value = header.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Request(method, path, headers, body)
                self.requests.append(request)
                self.arrived.set()
                if self.delay:
                    await asyncio.sleep(self.delay)
                status, reply, extra = self.handler(request) if self.handler else (self.status, self.body, {})
                data = reply.encode() if isinstance(reply, str) else reply
                head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(data)}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in extra.items())
                writer.write(head.encode() + b"\r\n" + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            return
        finally:
            writer.close()


@asynccontextmanager
async def receiver(**options: Any) -> AsyncIterator[Receiver]:
    recv = Receiver(**options)
    server = await asyncio.start_server(recv._serve, "127.0.0.1", 0)
    recv.port = server.sockets[0].getsockname()[1]
    try:
        yield recv
    finally:
        server.close()
