"""ASGI middleware: the request-body bound, the request metrics, the access log and CORS.

Plain ASGI, so no body is buffered.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nightowl.api.problems import problem_response
from nightowl.core.telemetry import Telemetry

access_log = logging.getLogger("nightowl.access")


class _BodyTooLarge(Exception):
    pass


def _problem_413(limit: int) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(
        {
            "type": "https://nightowl.dev/problems/limit-exceeded",
            "title": "Request body too large",
            "status": 413,
            "detail": f"the request body exceeds max_body_bytes={limit}",
            "field": "body",
            "limit": limit,
        }
    ).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    return body, headers


class BodyLimit:
    """Answer 413 for bodies over `limit` bytes, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = 0
                if announced > self.limit:
                    await self._reject(send)
                    return
        received = 0
        exceeded = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The app may turn our exception into its own error answer; the client must see the 413.
            nonlocal replaced
            if exceeded:
                if not replaced:
                    replaced = True
                    await self._reject(send)
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not replaced:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body, headers = _problem_413(self.limit)
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class RequestMetrics:
    """Count and time every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app, self.telemetry = app, telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.telemetry.http_requests.labels(method, template, str(status)).inc()
            self.telemetry.http_duration.labels(method, template).observe(time.perf_counter() - started)


class AccessLog:
    """One line per HTTP request (`access_log: true`): method, path, status, duration, client address.

    The query string is left out: PromQL there can be long, and a token in a URL must not reach the log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            client = scope.get("client")
            elapsed_ms = (time.perf_counter() - started) * 1000
            access_log.info(
                '%s "%s %s" %d %.1fms',
                client[0] if client else "-",
                scope.get("method", "GET"),
                scope.get("path", ""),
                status,
                elapsed_ms,
            )


class Cors(CORSMiddleware):
    """Starlette's CORS, answering an accepted preflight 204 (no body) and a refused one with problem JSON.

    It sits outside authentication: a browser sends preflights without credentials.
    """

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-length", "content-type")}
        if answer.status_code < 400:
            return Response(status_code=204, headers=headers)
        refused = bytes(answer.body).decode().removeprefix("Disallowed CORS ")
        return problem_response(
            400,
            "CORS preflight refused",
            f"this cross-origin request is not allowed ({refused}); allowed origins are set by cors_allowed_origins",
            field=refused.split(",")[0],
            headers=headers,
        )
