"""Ping URLs of heartbeats, as Healthchecks has them: `/ping/{uuid}` and its `/start`, `/fail` and
`/{exit_code}` forms, by GET, POST or HEAD. No authentication: the uuid is the secret."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import PlainTextResponse

from nightowl.api.deps import get_nightowl
from nightowl.core.errors import NotFound
from nightowl.health.heartbeat import PingKind
from nightowl.health.store import Ping
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/ping", tags=["heartbeats"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
BODY_KEPT = 10_000
"""Characters of a ping's request body kept (e.g. the tail of a cron job's output)."""


async def _ping(nightowl: Nightowl, request: Request, ping_uuid: str, kind: PingKind, exit_code: int | None) -> str:
    try:
        wanted = str(uuid.UUID(ping_uuid))
    except ValueError:
        raise NotFound("not found", field="uuid") from None
    check = next((c for c in nightowl.checks.checks.values() if c.ping_uuid == wanted), None)
    if check is None:
        raise NotFound("not found", field="uuid")
    body = (await request.body())[: BODY_KEPT * 4].decode("utf-8", errors="replace")[:BODY_KEPT] or None
    ping = Ping(
        check_id=check.id,
        at=nightowl.clock.now(),
        kind=kind,
        exit_code=exit_code,
        body=body,
        remote_addr=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    nightowl.checks.ping(check, ping)
    await nightowl.checks.flush()
    return "OK"


async def ping_success(ping_uuid: str, request: Request, nightowl: NightowlDep) -> str:
    return await _ping(nightowl, request, ping_uuid, "success", None)


async def ping_start(ping_uuid: str, request: Request, nightowl: NightowlDep) -> str:
    return await _ping(nightowl, request, ping_uuid, "start", None)


async def ping_fail(ping_uuid: str, request: Request, nightowl: NightowlDep) -> str:
    return await _ping(nightowl, request, ping_uuid, "fail", None)


async def ping_exit_code(
    ping_uuid: str, exit_code: Annotated[int, Path(ge=0, le=255)], request: Request, nightowl: NightowlDep
) -> str:
    return await _ping(nightowl, request, ping_uuid, "success" if exit_code == 0 else "fail", exit_code)


def _route(path: str, endpoint: Callable[..., Awaitable[str]], summary: str) -> None:
    """The same endpoint for GET, POST and HEAD, each with its own OpenAPI operation id."""
    for method in ("GET", "POST", "HEAD"):
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            response_class=PlainTextResponse,
            summary=summary,
            operation_id=f"{endpoint.__name__}_{method.lower()}",
            include_in_schema=method != "HEAD",
        )


# /start and /fail before /{exit_code}, which would otherwise answer them with a 422.
_route("/{ping_uuid}", ping_success, "Success ping")
_route("/{ping_uuid}/start", ping_start, "A run started")
_route("/{ping_uuid}/fail", ping_fail, "A run failed")
_route("/{ping_uuid}/{exit_code}", ping_exit_code, "A run finished with this exit code (0 success, else failure)")
