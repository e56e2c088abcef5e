"""A secret (password, API key, token) never appears in an answer it was not created for, nor in any log line."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from nightowl.auth.tables import api_keys, audit_log, users
from tests.support.apps import http_client


async def test_secrets_stay_out_of_responses_logs_and_the_database(
    app: FastAPI, client: httpx.AsyncClient, anon_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password, new_password = "first secret pass", "second secret pass"
    secrets: list[str] = [password, new_password]
    answers: list[str] = []

    async def call(c: httpx.AsyncClient, method: str, url: str, **kwargs: object) -> httpx.Response:
        response = await c.request(method, url, **kwargs)  # type: ignore[arg-type]
        answers.append(response.text + str(response.headers.get_list("set-cookie")))
        return response

    new_user = {"username": "eve", "password": password, "role": "admin"}
    user = (await call(client, "POST", "/api/v1/users", json=new_user)).json()
    key = (await client.post("/api/v1/keys", json={"name": "ci", "scopes": ["read"]})).json()
    rotated = (await client.post(f"/api/v1/keys/{key['id']}/rotate")).json()
    secrets += [key["key"], rotated["key"]]
    tokens = (await anon_client.post("/api/v1/auth/login", json={"username": "eve", "password": password})).json()
    refreshed = (await anon_client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    secrets += [tokens["access_token"], tokens["refresh_token"], refreshed["access_token"], refreshed["refresh_token"]]
    await call(anon_client, "POST", "/api/v1/auth/login", json={"username": "eve", "password": "wrong " + password})
    await call(anon_client, "POST", "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    async with http_client(app, headers={"Authorization": f"Bearer {refreshed['access_token']}"}) as eve:
        await call(eve, "GET", "/api/v1/auth/me")
        body = {"current_password": password, "new_password": new_password}
        await call(eve, "POST", "/api/v1/auth/password", json=body)
    async with http_client(app, headers={"X-API-Key": rotated["key"]}) as ci:
        await call(ci, "GET", "/api/v1/workers")
    async with http_client(app, headers={"X-API-Key": key["key"]}) as old:
        await call(old, "GET", "/api/v1/workers")
    for url in ("/api/v1/keys", f"/api/v1/keys/{key['id']}", "/api/v1/users", f"/api/v1/users/{user['id']}"):
        await call(client, "GET", url)
    await call(client, "GET", "/api/v1/audit", params={"limit": 1000})
    await call(client, "DELETE", f"/api/v1/keys/{key['id']}")

    logs = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    with app.state.nightowl.engine.connect() as conn:
        stored = str([conn.execute(select(t)).all() for t in (users, api_keys, audit_log)])
    assert len(secrets) == 8
    for secret in secrets:
        for answer in answers:
            assert secret not in answer
        assert secret not in logs
        assert secret not in stored
