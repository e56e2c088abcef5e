"""ASGI middleware in front of every route: authenticate the caller, apply rate limits, or answer 401/429.

Authorisation (which permission a route needs) is `requires()` in `deps.py`; this layer makes sure no
route, including ones added later without a guard, is reachable without credentials.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nightowl.api.openapi_errors import document_error_answers
from nightowl.api.problems import problem_response
from nightowl.auth.gate import ALWAYS_PUBLIC, HEALTH_PATHS, METRICS_PATH, Credential
from nightowl.auth.principal import ANONYMOUS, Principal
from nightowl.auth.ratelimit import Decision
from nightowl.runtime import Nightowl

PRINCIPAL_SCOPE_KEY = "nightowl.principal"
SESSION_COOKIE = "nightowl_session"
REFRESH_COOKIE = "nightowl_refresh"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
METRICS_READER = Principal("anonymous", "metrics-allowlist", frozenset({"read"}))
WWW_AUTHENTICATE = 'Bearer realm="nightowl", Basic realm="nightowl"'
"""Basic too, so a browser following a link (an alert's graph) asks for a user name and an API key."""


def cookies_of(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is the client's problem, not a 500
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def credential_from(headers: dict[str, str]) -> Credential | None:
    """The first credential presented: Authorization (Bearer or Basic), then X-API-Key, then the cookie."""
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return Credential("bearer", value.strip())
    if scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return Credential("basic", "")
        return Credential("basic", decoded.partition(":")[2])
    if authorization:
        return Credential("bearer", "")
    if headers.get("x-api-key"):
        return Credential("api-key-header", headers["x-api-key"].strip())
    session = cookies_of(headers).get(SESSION_COOKIE)
    return Credential("cookie", session) if session else None


def _same_origin(headers: dict[str, str]) -> bool:
    """Browsers send Origin on cross-site writes and WebSocket upgrades; with a cookie they must be our own page's."""
    origin = headers.get("origin")
    if not origin:
        return True
    host = headers.get("host", "")
    return origin.partition("://")[2].rstrip("/") == host


@dataclass(frozen=True)
class Admission:
    """The gate's verdict on one request: who it is (or the error status and why) and its rate-limit bucket."""

    principal: Principal | None
    decision: Decision | None
    status: int = 200
    detail: str = ""


class Authentication:
    def __init__(self, app: ASGIApp, nightowl: Nightowl) -> None:
        self.app, self.nightowl = app, nightowl

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        admission = await self.admit(scope)
        if admission.principal is None:
            await self._reject(scope, receive, send, admission)
            return
        scope[PRINCIPAL_SCOPE_KEY] = admission.principal
        if admission.decision is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(k.lower().encode(), v.encode()) for k, v in admission.decision.headers().items()]

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_limits)

    async def admit(self, scope: Scope) -> Admission:
        gate = self.nightowl.gate
        path: str = scope.get("path", "")
        client = scope.get("client")
        client_ip: str | None = client[0] if client else None
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        credential = credential_from(headers)

        principal: Principal | None = None
        if credential is not None and credential.token:
            principal = await run_in_threadpool(gate.authenticate, credential)
        # Requests with an API key count against the key; all others (failed attempts too) against the IP.
        decision = gate.limit_key(principal) if principal and principal.kind == "key" else gate.limit_ip(client_ip)
        if decision is not None and not decision.allowed:
            return Admission(None, decision, 429, "rate limit exceeded")

        if principal is None:
            if path == METRICS_PATH and gate.metrics_open_to(client_ip):
                return Admission(METRICS_READER, decision)
            if gate.is_public(path):
                return Admission(ANONYMOUS, decision)
            anonymous = gate.anonymous
            if anonymous is not None and credential is None:
                if path != METRICS_PATH or "read" in anonymous.permissions:
                    return Admission(anonymous, decision)
            if credential is not None:
                return Admission(None, None, 401, "the credentials are invalid, expired or revoked")
            return Admission(None, None, 401, "authentication required: send an API key or log in")
        if path == METRICS_PATH and "read" not in principal.permissions:
            return Admission(None, None, 403, "/metrics needs the 'read' permission")
        writes = scope["type"] == "websocket" or scope.get("method") in UNSAFE_METHODS
        if credential is not None and credential.source == "cookie" and writes:
            if not _same_origin(headers):
                return Admission(None, None, 403, "cross-origin request with a session cookie refused")
        return Admission(principal, decision)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, admission: Admission) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": admission.detail})
            return
        decision = admission.decision
        headers: dict[str, Any] = decision.headers() if decision is not None else {}
        if admission.status == 401:
            headers["WWW-Authenticate"] = WWW_AUTHENTICATE
            client = scope.get("client")
            self.nightowl.auth_failures.record(client[0] if client else None, admission.detail)
        title = {401: "Unauthorized", 403: "Forbidden", 429: "Too many requests"}[admission.status]
        extra = {"limit": decision.limit} if decision is not None else None
        response = problem_response(admission.status, title, admission.detail, headers=headers, extra=extra)
        await response(scope, receive, send)


SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "An API key (`nok_...`) or a login access token."},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An API key."},
    "basic": {"type": "http", "scheme": "basic", "description": "Any user name and an API key as the password."},
}


def install_openapi_security(app: FastAPI, nightowl: Nightowl) -> None:
    """Declare the credentials in the OpenAPI document, so /docs offers "Authorize" and clients know."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        document_error_answers(schema)
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        schema["security"] = [{name: []} for name in SECURITY_SCHEMES]
        for path, operations in schema.get("paths", {}).items():
            if path in ALWAYS_PUBLIC or (nightowl.settings.public_health and path in HEALTH_PATHS):
                for operation in operations.values():
                    operation["security"] = []
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
