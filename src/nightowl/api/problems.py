"""Every error answer is RFC 9457 problem JSON: type, title, status, detail, and the offending field."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nightowl.core.errors import NightowlError

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://nightowl.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
ALERTMANAGER_PREFIX = "/api/v2/"


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def error_response(exc: NightowlError) -> JSONResponse:
    """The problem document a Nightowl error becomes."""
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        slug=exc.type_slug,
        field=exc.field,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _nightowl_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NightowlError)
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (first.get("ctx") or {}).get("error", "invalid JSON")
        return problem_response(400, "Malformed JSON", f"the request body is not valid JSON: {reason}", field="body")
    described = [
        {
            "field": _field_of(tuple(e.get("loc", ()))),
            "message": e.get("msg", "invalid"),
            "type": e.get("type"),
        }
        for e in errors
    ]
    first_field = described[0]["field"] if described else None
    detail = "; ".join(f"{d['field']}: {d['message']}" for d in described)
    return problem_response(
        422, "Invalid input", detail, slug="invalid-input", field=first_field, extra={"errors": described}
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}.get(
        exc.status_code, "HTTP error"
    )
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(exc.status_code, title, str(exc.detail), headers=headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "Internal server error", "an unexpected error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NightowlError, _nightowl_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def alertmanager_message(problem: bytes) -> str:
    """The one line an Alertmanager client shows: the problem's detail (which names the field), else its title."""
    try:
        body = json.loads(problem)
    except ValueError:
        return problem.decode("utf-8", "replace")
    if not isinstance(body, dict):
        return str(body)
    return str(body.get("detail") or body.get("title") or "error")


class AlertmanagerErrors:
    """Under /api/v2/, answer errors as Alertmanager does: a JSON string, `application/json`, bad input 400.

    amtool's go-openapi client picks a decoder by Content-Type and has none for
    `application/problem+json` ("no consumer"); Alertmanager's OpenAPI gives 400 (not 422) for bad input.
    Everything else (status, WWW-Authenticate, rate-limit headers) passes through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(ALERTMANAGER_PREFIX):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", ())).get(b"content-type", b"")
                if content_type.startswith(PROBLEM_MEDIA_TYPE.encode()):
                    start = message
                    return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = json.dumps(alertmanager_message(b"".join(chunks))).encode()
            headers = [(k, v) for k, v in start.get("headers", ()) if k not in (b"content-type", b"content-length")]
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            status = 400 if start["status"] == 422 else start["status"]
            await send({**start, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)
