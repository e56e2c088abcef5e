"""Meta-test: every route, including ones added later, answers 401 without credentials unless it is public."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI, WebSocket
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from starlette.routing import Mount, WebSocketRoute

from nightowl.api.authn import CHALLENGES
from nightowl.core.clock import ManualClock
from tests.conftest import credential_for
from tests.support.apps import http_client, running_app

PUBLIC = {
    "/health",
    "/ready",
    "/status",
    "/prometheus/-/healthy",
    "/prometheus/-/ready",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
}
PUBLIC_MOUNTS = {"/docs-assets", "/demo"}
PUBLIC_PREFIXES = ("/ping/", "/status-pages/")


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


async def websocket_is_refused(app: FastAPI, path: str, headers: dict[str, str] | None = None) -> bool:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "websocket", "path": path, "headers": raw_headers, "client": ("127.0.0.1", 1), "query_string": b""}
    await app(scope, receive, send)
    return bool(sent) and sent[0]["type"] == "websocket.close"


async def test_every_route_but_the_public_ones_answers_401_without_credentials(
    app: FastAPI, anon_client: httpx.AsyncClient
) -> None:
    checked = 0
    # iter_route_contexts flattens included routers, so routes other capabilities add are walked too.
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, Mount):
            assert path in PUBLIC_MOUNTS, f"mount {path} is not known to be public"
            continue
        if isinstance(route, WebSocketRoute | APIWebSocketRoute):
            assert await websocket_is_refused(app, concrete(path)), path
            checked += 1
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method == "HEAD":
                continue
            response = await anon_client.request(method, concrete(path))
            if path in PUBLIC or path.startswith(PUBLIC_PREFIXES):
                assert response.status_code != 401, f"{method} {path} should be public"
            else:
                assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
                assert response.headers.get_list("www-authenticate") == list(CHALLENGES)
                # the Alertmanager API answers as Alertmanager does, so amtool can read it
                problem = "application/json" if path.startswith("/api/v2/") else "application/problem+json"
                assert response.headers["content-type"] == problem
            checked += 1
    assert checked > 15


async def test_health_can_require_authentication(make_settings, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, public_health=False) as app, http_client(app) as anon:
        for path in ("/health", "/ready", "/status"):
            assert (await anon.get(path)).status_code == 401
        assert (await anon.get("/docs")).status_code == 200


async def test_unknown_paths_do_not_reveal_themselves_without_credentials(anon_client: httpx.AsyncClient) -> None:
    assert (await anon_client.get("/api/v1/no-such-thing")).status_code == 401


async def test_websockets_need_credentials_too(app: FastAPI) -> None:
    @app.websocket("/test-ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    assert await websocket_is_refused(app, "/test-ws")
    cookie = f"nightowl_session={credential_for(app, role='viewer')}"
    own = {"cookie": cookie, "host": "nightowl.test", "origin": "http://nightowl.test"}
    assert not await websocket_is_refused(app, "/test-ws", own)
    assert await websocket_is_refused(app, "/test-ws", {**own, "origin": "https://evil.example"})


async def test_openapi_declares_the_credentials(anon_client: httpx.AsyncClient) -> None:
    spec = (await anon_client.get("/openapi.json")).json()
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey", "basic"}
    assert spec["paths"]["/health"]["get"]["security"] == []
    assert "security" not in spec["paths"]["/api/v1/workers"]["get"]
