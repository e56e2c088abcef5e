"""API keys over HTTP: created once, accepted as Bearer / X-API-Key / Basic, scoped, expiring, revocable."""

from __future__ import annotations

import base64

import httpx
import pytest
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from tests.support.apps import http_client


async def create(client: httpx.AsyncClient, **body: object) -> dict:
    response = await client.post("/api/v1/keys", json={"name": "prometheus", "scopes": ["read"], **body})
    assert response.status_code == 201, response.text
    return response.json()


async def test_key_is_shown_once_and_never_again(client: httpx.AsyncClient) -> None:
    created = await create(client, scopes=["read", "ingest"], rate_limit=500)
    assert created["key"].startswith("nok_") and created["key"].startswith(created["prefix"])
    assert created["scopes"] == ["read", "ingest"] and created["rate_limit"] == 500 and created["state"] == "active"
    listed = (await client.get("/api/v1/keys")).json()["items"]
    one = (await client.get(f"/api/v1/keys/{created['id']}")).json()
    for answer in (listed, one):
        assert created["key"] not in str(answer)
    assert one["prefix"] == created["prefix"] and "key" not in one


@pytest.mark.parametrize("scheme", ["bearer", "x-api-key", "basic"])
async def test_key_is_accepted_in_each_header(app: FastAPI, client: httpx.AsyncClient, scheme: str) -> None:
    key = (await create(client))["key"]
    headers = {
        "bearer": {"Authorization": f"Bearer {key}"},
        "x-api-key": {"X-API-Key": key},
        "basic": {"Authorization": "Basic " + base64.b64encode(f"prometheus:{key}".encode()).decode()},
    }[scheme]
    async with http_client(app, headers=headers) as c:
        me = await c.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["kind"] == "key" and me.json()["permissions"] == ["read"]


async def test_wrong_scope_is_403_and_admin_scope_implies_all(client_for) -> None:
    reader = client_for(scopes=["read"])
    assert (await reader.get("/api/v1/workers")).status_code == 200
    forbidden = await reader.post("/api/v1/keys", json={"name": "x", "scopes": ["admin"]})
    assert forbidden.status_code == 403 and "'admin' permission" in forbidden.json()["detail"]
    ingester = client_for(scopes=["ingest"])
    assert (await ingester.get("/api/v1/workers")).status_code == 403
    admin = client_for(scopes=["admin"])
    assert (await admin.get("/api/v1/workers")).status_code == 200


async def test_revoked_key_is_401_at_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    created = await create(client)
    async with http_client(app, headers={"X-API-Key": created["key"]}) as c:
        assert (await c.get("/api/v1/workers")).status_code == 200
        revoked = await client.delete(f"/api/v1/keys/{created['id']}")
        assert revoked.json()["state"] == "revoked"
        denied = await c.get("/api/v1/workers")
    assert denied.status_code == 401 and "invalid, expired or revoked" in denied.json()["detail"]


async def test_expired_key_is_401(app: FastAPI, client: httpx.AsyncClient, clock: ManualClock) -> None:
    created = await create(client, expires_at=clock.now() + 60)
    async with http_client(app, headers={"X-API-Key": created["key"]}) as c:
        assert (await c.get("/api/v1/workers")).status_code == 200
        clock.advance(61)
        assert (await c.get("/api/v1/workers")).status_code == 401
    assert (await client.get(f"/api/v1/keys/{created['id']}")).json()["state"] == "expired"


async def test_rotation_replaces_the_secret(app: FastAPI, client: httpx.AsyncClient) -> None:
    created = await create(client)
    rotated = (await client.post(f"/api/v1/keys/{created['id']}/rotate")).json()
    assert rotated["id"] == created["id"] and rotated["key"] != created["key"]
    async with http_client(app, headers={"X-API-Key": created["key"]}) as old:
        assert (await old.get("/api/v1/workers")).status_code == 401
    async with http_client(app, headers={"X-API-Key": rotated["key"]}) as new:
        assert (await new.get("/api/v1/workers")).status_code == 200


async def test_last_used_is_recorded(app: FastAPI, client: httpx.AsyncClient, clock: ManualClock) -> None:
    created = await create(client)
    assert created["last_used_at"] is None
    async with http_client(app, headers={"X-API-Key": created["key"]}) as c:
        await c.get("/api/v1/workers")
    assert (await client.get(f"/api/v1/keys/{created['id']}")).json()["last_used_at"] == clock.now()


BAD_KEY_REQUESTS = [
    ({"name": "x", "scopes": ["root"]}, "scopes"),
    ({"name": "x", "scopes": []}, "scopes"),
    ({"name": "", "scopes": ["read"]}, "name"),
    ({"name": "x", "scopes": ["read"], "rate_limit": 0}, "rate_limit"),
    ({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ({"name": "x", "scopes": ["read"], "expires_at": "soon"}, "expires_at"),
]


async def test_bad_key_requests_are_422_naming_the_field(client: httpx.AsyncClient) -> None:
    for body, field in BAD_KEY_REQUESTS:
        response = await client.post("/api/v1/keys", json=body)
        assert response.status_code == 422 and response.json()["field"] == field, body


async def test_unknown_key_id_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.delete("/api/v1/keys/nope")).status_code == 404


BAD_CREDENTIALS = [
    {"Authorization": "Bearer nok_not-a-real-key"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic !!!"},
    {"Authorization": "Digest abc"},
    {"X-API-Key": "nok_wrong"},
    {"Cookie": "nightowl_session=garbage"},
    {"Cookie": 'nightowl_session="unterminated; x'},
]


async def test_bad_credentials_are_401(app: FastAPI) -> None:
    for headers in BAD_CREDENTIALS:
        async with http_client(app, headers=headers) as c:
            response = await c.get("/api/v1/workers")
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
