"""/api/v1/auth: log in, refresh, log out, who am I, change my password.

Login answers the tokens in JSON (for API clients) and sets them as HttpOnly cookies (for the UI): the
access token for every path (SameSite=Lax, so links from notifications open logged in), the refresh
token only for /api/v1/auth (SameSite=Strict).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.api.authn import REFRESH_COOKIE, SESSION_COOKIE, cookies_of
from nightowl.api.deps import get_nightowl, requires
from nightowl.auth import audit, sessions, users
from nightowl.auth.passwords import MAX_LENGTH
from nightowl.auth.principal import Principal
from nightowl.core.errors import Forbidden, TooManyRequests, Unauthorized
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
Caller = Annotated[Principal, Depends(requires("read"))]
REFRESH_PATH = "/api/v1/auth"


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


class Refresh(BaseModel):
    refresh_token: str | None = Field(None, max_length=200, description="Unset: the refresh cookie is used.")


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=MAX_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_LENGTH)


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _answer_tokens(request: Request, response: Response, pair: sessions.TokenPair, refresh_ttl: int) -> dict[str, Any]:
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, pair.access_token, max_age=pair.expires_in, httponly=True, samesite="lax", secure=secure
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=refresh_ttl,
        path=REFRESH_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    response.headers["Cache-Control"] = "no-store"
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
    }


@router.post("/login", summary="Log in with a username and password; answers a JWT and a refresh token")
async def login(body: Login, request: Request, response: Response, nightowl: NightowlDep) -> dict[str, Any]:
    gate, ip = nightowl.gate, _client_ip(request)
    wait = gate.login_locked_for(body.username, ip)
    if wait > 0:
        raise TooManyRequests(
            "too many failed logins; try again later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
            extra={"retry_after": math.ceil(wait)},
        )
    user = await run_in_threadpool(users.check_credentials, nightowl.engine, body.username, body.password)
    if user is None:
        gate.login_failed(body.username, ip)
        nightowl.auth_failures.record(ip, "wrong username or password at login")
        await run_in_threadpool(
            audit.record,
            nightowl.engine,
            "anonymous",
            "login.failed",
            "user",
            body.username,
            {"ip": ip},
            clock=nightowl.clock,
        )
        raise Unauthorized("wrong username or password", headers={"WWW-Authenticate": 'Bearer realm="nightowl"'})
    gate.login_succeeded(body.username)
    pair = await run_in_threadpool(sessions.start_session, nightowl.engine, nightowl.clock, gate.signer, user)
    await run_in_threadpool(
        audit.record,
        nightowl.engine,
        f"user:{user.username}",
        "login.succeeded",
        "session",
        pair.session_id,
        {"ip": ip},
        clock=nightowl.clock,
    )
    return _answer_tokens(request, response, pair, nightowl.settings.refresh_token_ttl)


@router.post("/refresh", summary="Trade a refresh token (body or cookie) for a new token pair; the old one dies")
async def refresh(body: Refresh, request: Request, response: Response, nightowl: NightowlDep) -> dict[str, Any]:
    token = body.refresh_token or cookies_of({"cookie": request.headers.get("cookie", "")}).get(REFRESH_COOKIE)
    if not token:
        raise Unauthorized("send the refresh token in the body or the refresh cookie", field="refresh_token")
    pair = await run_in_threadpool(
        sessions.refresh_session, nightowl.engine, nightowl.clock, nightowl.gate.signer, token
    )
    return _answer_tokens(request, response, pair, nightowl.settings.refresh_token_ttl)


@router.post("/logout", status_code=204, summary="End this login session and clear its cookies")
async def logout(nightowl: NightowlDep, principal: Caller) -> Response:
    if principal.kind != "user" or not principal.session_id:
        raise Forbidden("only a login session can log out; revoke an API key with DELETE /api/v1/keys/{id}")
    await run_in_threadpool(sessions.revoke_session, nightowl.engine, nightowl.clock, principal.session_id)
    await run_in_threadpool(
        audit.record, nightowl.engine, principal, "logout", "session", principal.session_id, clock=nightowl.clock
    )
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, httponly=True, samesite="strict")
    return response


@router.get("/me", summary="Who the caller is and what they may do")
async def me(nightowl: NightowlDep, principal: Caller) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "kind": principal.kind,
        "id": principal.id,
        "name": principal.name,
        "permissions": sorted(principal.permissions),
    }
    if principal.kind == "user":
        answer["role"] = (await run_in_threadpool(users.get_user, nightowl.engine, principal.id)).role
    return answer


@router.post("/password", status_code=204, summary="Change my own password; my other sessions end")
async def change_password(body: PasswordChange, nightowl: NightowlDep, principal: Caller) -> Response:
    if principal.kind != "user":
        raise Forbidden("only a logged-in user can change their password")

    await run_in_threadpool(
        lambda: users.change_own_password(
            nightowl.engine, nightowl.clock, principal, body.current_password, body.new_password
        )
    )
    return Response(status_code=204)
