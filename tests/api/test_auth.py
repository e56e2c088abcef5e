"""Login sessions over HTTP: JWT access tokens, rotating refresh tokens, cookies, logout, brute-force locks."""

from __future__ import annotations

import base64
import json

import httpx
import jwt
from fastapi import Depends, FastAPI

from nightowl.api.deps import requires
from nightowl.core.clock import ManualClock
from tests.support.apps import http_client, running_app

PASSWORD = "correct horse battery"


async def add_user(client: httpx.AsyncClient, username: str = "alice", role: str = "viewer") -> dict:
    response = await client.post("/api/v1/users", json={"username": username, "password": PASSWORD, "role": role})
    assert response.status_code == 201, response.text
    return response.json()


async def login(c: httpx.AsyncClient, username: str = "alice", password: str = PASSWORD) -> httpx.Response:
    return await c.post("/api/v1/auth/login", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_answers_tokens_and_sets_private_cookies(
    app: FastAPI, client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    await add_user(client, role="editor")
    response = await login(anon_client)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["refresh_token"]
    cookies = response.headers.get_list("set-cookie")
    assert all("httponly" in c.lower() for c in cookies) and len(cookies) == 2
    session, refresh = sorted(cookies, key=lambda c: not c.startswith("nightowl_session"))
    assert "samesite=lax" in session.lower() and "samesite=strict" in refresh.lower()
    async with http_client(app, headers=bearer(body["access_token"])) as c:
        me = (await c.get("/api/v1/auth/me")).json()
    assert me["kind"] == "user" and me["name"] == "alice" and me["role"] == "editor"
    assert me["permissions"] == ["read", "write"]
    async with http_client(app, headers={"Cookie": f"nightowl_session={body['access_token']}"}) as c:
        assert (await c.get("/api/v1/auth/me")).json()["name"] == "alice"


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    await add_user(client)
    wrong = await login(anon_client, password="not the password")
    unknown = await login(anon_client, username="mallory")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "wrong username or password"


async def test_tampered_or_foreign_jwt_is_401(app: FastAPI, client: httpx.AsyncClient, anon_client) -> None:
    await add_user(client)
    token = (await login(anon_client)).json()["access_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["name"], claims["sub"] = "root", "someone-else"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    forgeries = [
        f"{header}.{forged_payload}.{signature}",
        f"{header}.{payload}.{signature[:-2]}AA",
        jwt.encode(claims, "another-key-of-sufficient-length-32b", algorithm="HS256"),
        jwt.encode({**claims}, None, algorithm="none"),
    ]
    for forged in forgeries:
        async with http_client(app, headers=bearer(forged)) as c:
            assert (await c.get("/api/v1/auth/me")).status_code == 401, forged


async def test_access_token_expires_on_the_injected_clock(
    app: FastAPI, client: httpx.AsyncClient, anon_client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await add_user(client)
    token = (await login(anon_client)).json()["access_token"]
    async with http_client(app, headers=bearer(token)) as c:
        clock.advance(899)
        assert (await c.get("/api/v1/auth/me")).status_code == 200
        clock.advance(1)
        assert (await c.get("/api/v1/auth/me")).status_code == 401


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(
    app: FastAPI, client: httpx.AsyncClient, anon_client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await add_user(client)
    first = (await login(anon_client)).json()
    clock.advance(1000)
    second = (await anon_client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    async with http_client(app, headers=bearer(second["access_token"])) as c:
        assert (await c.get("/api/v1/auth/me")).status_code == 200
        replay = await anon_client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert replay.status_code == 401
        assert (await c.get("/api/v1/auth/me")).status_code == 401, "the stolen-token replay must end the session"
    again = await anon_client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert again.status_code == 401


async def test_refresh_from_the_cookie(client: httpx.AsyncClient, anon_client: httpx.AsyncClient) -> None:
    await add_user(client)
    refresh_token = (await login(anon_client)).json()["refresh_token"]
    anon_client.cookies.clear()
    response = await anon_client.post(
        "/api/v1/auth/refresh", json={}, headers={"Cookie": f"nightowl_refresh={refresh_token}"}
    )
    assert response.status_code == 200 and response.json()["access_token"]
    anon_client.cookies.clear()
    assert (await anon_client.post("/api/v1/auth/refresh", json={})).status_code == 401


async def test_bad_refresh_tokens_are_401_or_422(anon_client: httpx.AsyncClient) -> None:
    for token in ("", "garbage", "a.b", "x" * 500):
        response = await anon_client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert response.status_code == (422 if len(token) > 200 else 401), token


async def test_logout_revokes_the_session(app: FastAPI, client: httpx.AsyncClient, anon_client) -> None:
    await add_user(client)
    tokens = (await login(anon_client)).json()
    async with http_client(app, headers=bearer(tokens["access_token"])) as c:
        out = await c.post("/api/v1/auth/logout")
        assert out.status_code == 204 and "nightowl_session=" in out.headers["set-cookie"]
        assert (await c.get("/api/v1/auth/me")).status_code == 401
    refresh = await anon_client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


async def test_roles_map_to_permissions(app: FastAPI, client_for) -> None:
    @app.post("/test-write", dependencies=[Depends(requires("write"))])
    async def write() -> dict[str, bool]:
        return {"ok": True}

    viewer, editor, admin = client_for(role="viewer"), client_for(role="editor"), client_for(role="admin")
    assert (await viewer.get("/api/v1/workers")).status_code == 200
    assert (await viewer.post("/test-write")).status_code == 403
    assert (await editor.post("/test-write")).status_code == 200
    assert (await editor.get("/api/v1/users")).status_code == 403
    assert (await admin.get("/api/v1/users")).status_code == 200


async def test_role_change_and_disabling_apply_at_once(app: FastAPI, client: httpx.AsyncClient, anon_client) -> None:
    await add_user(client, username="root", role="admin")
    user = await add_user(client, role="admin")
    token = (await login(anon_client)).json()["access_token"]
    async with http_client(app, headers=bearer(token)) as c:
        assert (await c.get("/api/v1/users")).status_code == 200
        assert (await client.patch(f"/api/v1/users/{user['id']}", json={"role": "viewer"})).status_code == 200
        assert (await c.get("/api/v1/users")).status_code == 403
        assert (await client.patch(f"/api/v1/users/{user['id']}", json={"disabled": True})).status_code == 200
        assert (await c.get("/api/v1/auth/me")).status_code == 401
    assert (await login(anon_client)).status_code == 401


async def test_cookie_writes_from_another_origin_are_refused(app: FastAPI, client: httpx.AsyncClient, anon_client):
    await add_user(client)
    token = (await login(anon_client)).json()["access_token"]
    cookie = {"Cookie": f"nightowl_session={token}"}
    async with http_client(app, headers=cookie) as c:
        evil = await c.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403
        own = await c.post("/api/v1/auth/logout", headers={"Origin": "http://nightowl.test"})
        assert own.status_code == 204


async def test_changing_my_password_keeps_this_session_and_ends_the_others(
    app: FastAPI, client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    await add_user(client)
    mine = (await login(anon_client)).json()["access_token"]
    other = (await login(anon_client)).json()["access_token"]
    async with http_client(app, headers=bearer(mine)) as c:
        wrong = await c.post(
            "/api/v1/auth/password", json={"current_password": "nope-nope", "new_password": "brand new pass"}
        )
        assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
        short = await c.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
        assert short.status_code == 422
        ok = await c.post(
            "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "brand new pass"}
        )
        assert ok.status_code == 204
        assert (await c.get("/api/v1/auth/me")).status_code == 200
    async with http_client(app, headers=bearer(other)) as c:
        assert (await c.get("/api/v1/auth/me")).status_code == 401
    assert (await login(anon_client)).status_code == 401
    assert (await login(anon_client, password="brand new pass")).status_code == 200


async def test_api_keys_cannot_log_out_or_change_a_password(client_for) -> None:
    key_client = client_for(scopes=["read"])
    assert (await key_client.post("/api/v1/auth/logout")).status_code == 403
    body = {"current_password": "whatever1", "new_password": "whatever2"}
    assert (await key_client.post("/api/v1/auth/password", json=body)).status_code == 403


async def test_failed_logins_lock_the_user_then_the_lock_expires(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await add_user(client)
    for _ in range(5):
        assert (await login(anon_client, password="guess-guess")).status_code == 401
    locked = await login(anon_client)
    assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 900
    clock.advance(int(locked.headers["retry-after"]))
    assert (await login(anon_client)).status_code == 200


async def test_failed_logins_lock_the_client_ip(make_settings, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, login_max_failures=100, login_max_failures_per_ip=3) as app:
        async with http_client(app, ip="10.1.1.1") as attacker, http_client(app, ip="10.2.2.2") as other:
            for n in range(3):
                assert (await login(attacker, username=f"user{n}", password="guess-guess")).status_code == 401
            assert (await login(attacker, username="someone", password="guess-guess")).status_code == 429
            assert (await login(other, username="someone", password="guess-guess")).status_code == 401
