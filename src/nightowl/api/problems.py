"""Every error answer is RFC 9457 problem JSON: type, title, status, detail, and the offending field."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nightowl.core.errors import NightowlError

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://nightowl.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


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
