"""User administration over HTTP (admin only)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.support.apps import http_client


async def test_create_list_and_get_users(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/users", json={"username": "bob", "password": "long enough", "role": "editor"})
    assert created.status_code == 201
    user = created.json()
    assert user["username"] == "bob" and user["role"] == "editor" and user["disabled"] is False
    assert "password" not in str(user) and "long enough" not in str(user)
    assert [u["username"] for u in (await client.get("/api/v1/users")).json()["items"]] == ["bob"]
    assert (await client.get(f"/api/v1/users/{user['id']}")).json() == user


BAD_USERS = [
    ({"username": "bob", "password": "short", "role": "viewer"}, 422, "password"),
    ({"username": "bob", "password": "long enough", "role": "root"}, 422, "role"),
    ({"username": "bad name!", "password": "long enough", "role": "viewer"}, 422, "username"),
    ({"username": "bob", "password": "x" * 2000, "role": "viewer"}, 422, "password"),
]


async def test_bad_user_requests_name_the_field(client: httpx.AsyncClient) -> None:
    for body, status, field in BAD_USERS:
        response = await client.post("/api/v1/users", json=body)
        assert response.status_code == status and response.json()["field"] == field, body


async def test_duplicate_username_is_409(client: httpx.AsyncClient) -> None:
    body = {"username": "bob", "password": "long enough", "role": "viewer"}
    assert (await client.post("/api/v1/users", json=body)).status_code == 201
    assert (await client.post("/api/v1/users", json=body)).status_code == 409


async def test_the_last_admin_cannot_be_demoted_or_disabled(client: httpx.AsyncClient) -> None:
    admin = (
        await client.post("/api/v1/users", json={"username": "root", "password": "long enough", "role": "admin"})
    ).json()
    for change in ({"role": "viewer"}, {"disabled": True}):
        response = await client.patch(f"/api/v1/users/{admin['id']}", json=change)
        assert response.status_code == 409 and "last enabled admin" in response.json()["detail"]


async def test_admin_password_reset_ends_sessions(app: FastAPI, client: httpx.AsyncClient, anon_client) -> None:
    user = (
        await client.post("/api/v1/users", json={"username": "bob", "password": "long enough", "role": "viewer"})
    ).json()
    token = (await anon_client.post("/api/v1/auth/login", json={"username": "bob", "password": "long enough"})).json()[
        "access_token"
    ]
    reset = await client.post(f"/api/v1/users/{user['id']}/password", json={"password": "new and long"})
    assert reset.status_code == 204
    async with http_client(app, headers={"Authorization": f"Bearer {token}"}) as c:
        assert (await c.get("/api/v1/auth/me")).status_code == 401
    login = await anon_client.post("/api/v1/auth/login", json={"username": "bob", "password": "new and long"})
    assert login.status_code == 200


async def test_unknown_user_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.patch("/api/v1/users/nope", json={"role": "viewer"})).status_code == 404
    assert (await client.post("/api/v1/users/nope/password", json={"password": "long enough"})).status_code == 404
