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
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
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
CHALLENGES = ('Basic realm="nightowl"', 'Bearer realm="nightowl"')
"""One WWW-Authenticate header per scheme, Basic first: Chromium acts on neither scheme of a combined
`Bearer ..., Basic ...` header, so a link with `http://user:key@host/...` credentials was answered 401."""
LOGIN_PATH = "/login"


def _may_prompt(scope: Scope) -> bool:
    """Whether a Basic challenge may go out: not to a script's fetch (the web UI's own calls, `X-Requested-With`
    or a non-navigation `Sec-Fetch-Mode`), where Chromium would hold the request open behind a password
    prompt instead of handing the 401 to the page; API clients and navigations keep it."""
    headers = dict(scope.get("headers", ()))
    if b"x-requested-with" in headers:
        return False
    mode = headers.get(b"sec-fetch-mode")
    return mode is None or mode == b"navigate"


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


def wants_page(scope: Scope, headers: dict[str, str]) -> bool:
    """A browser navigating (GET and an Accept naming text/html), not an API client (`*/*`, JSON)."""
    return scope.get("method") in ("GET", "HEAD") and "text/html" in headers.get("accept", "")


def serves_login(scope: Scope) -> bool:
    """Whether the app has a login page (the web UI's) to send a browser to."""
    routes = getattr(scope.get("app"), "routes", ())
    return any(getattr(route, "path", None) == LOGIN_PATH for route in routes)


def login_redirect(scope: Scope) -> RedirectResponse:
    """303 to the login page, which returns to `next` (a path on this server) once logged in."""
    target = scope.get("path", "/")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    login = scope.get("root_path", "") + LOGIN_PATH + "?" + urlencode({"next": target})
    return RedirectResponse(login, status_code=303)


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
        self._login_page: bool | None = None

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
            client = scope.get("client")
            self.nightowl.auth_failures.record(client[0] if client else None, admission.detail)
        if admission.status == 401 and self._to_login(scope):
            await login_redirect(scope)(scope, receive, send)
            return
        title = {401: "Unauthorized", 403: "Forbidden", 429: "Too many requests"}[admission.status]
        extra = {"limit": decision.limit} if decision is not None else None
        response = problem_response(admission.status, title, admission.detail, headers=headers, extra=extra)
        if admission.status == 401:
            challenges = CHALLENGES if _may_prompt(scope) else CHALLENGES[1:]
            response.raw_headers.extend((b"www-authenticate", challenge.encode()) for challenge in challenges)
        await response(scope, receive, send)

    def _to_login(self, scope: Scope) -> bool:
        """A browser without credentials (or with an expired session) goes to the login page, if there is one.

        A wrong Authorization header is challenged instead, so the browser asks again; without a login page
        the Basic challenge lets a browser prompt, or use the credentials of a `http://user:key@host/` link.
        """
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        credential = credential_from(headers)
        if credential is not None and credential.source != "cookie":
            return False
        if self._login_page is None:
            self._login_page = serves_login(scope)
        return self._login_page and wants_page(scope, headers)


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
