"""The audit log over HTTP: every user, key and login action, filtered and paginated, for admins only."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from nightowl.auth import audit
from nightowl.core.clock import ManualClock


async def test_user_key_and_login_actions_are_audited(client: httpx.AsyncClient, anon_client) -> None:
    user = (
        await client.post("/api/v1/users", json={"username": "bob", "password": "long enough", "role": "viewer"})
    ).json()
    key = (await client.post("/api/v1/keys", json={"name": "ci", "scopes": ["read"]})).json()
    await client.post(f"/api/v1/keys/{key['id']}/rotate")
    await client.delete(f"/api/v1/keys/{key['id']}")
    await client.patch(f"/api/v1/users/{user['id']}", json={"role": "editor"})
    await anon_client.post("/api/v1/auth/login", json={"username": "bob", "password": "wrong password"})
    await anon_client.post("/api/v1/auth/login", json={"username": "bob", "password": "long enough"})
    items = (await client.get("/api/v1/audit")).json()["items"]
    actions = [i["action"] for i in reversed(items)]
    assert actions[-7:] == [
        "user.created",
        "key.created",
        "key.rotated",
        "key.revoked",
        "user.updated",
        "login.failed",
        "login.succeeded",
    ]
    created = next(i for i in items if i["action"] == "key.created" and i["object_id"] == key["id"])
    assert created["actor"].startswith("key:") and created["detail"]["scopes"] == ["read"]
    assert next(i for i in items if i["action"] == "user.updated")["detail"]["role"] == "editor"


async def test_audit_filters_and_pages(app: FastAPI, client: httpx.AsyncClient, clock: ManualClock) -> None:
    engine = app.state.nightowl.engine
    start = clock.now()
    for n in range(5):
        clock.advance(10)
        audit.record(engine, "user:alice", "dashboard.updated", "dashboard", f"d{n}", {"n": n}, clock=clock)
    audit.record(engine, "user:bob", "dashboard.deleted", "dashboard", "d9", clock=clock)
    by_alice = (await client.get("/api/v1/audit", params={"actor": "user:alice"})).json()["items"]
    assert [i["object_id"] for i in by_alice] == ["d4", "d3", "d2", "d1", "d0"]
    deleted = (await client.get("/api/v1/audit", params={"action": "dashboard.deleted"})).json()["items"]
    assert [i["actor"] for i in deleted] == ["user:bob"]
    window = await client.get("/api/v1/audit", params={"since": start + 15, "until": start + 35, "actor": "user:alice"})
    assert [i["object_id"] for i in window.json()["items"]] == ["d2", "d1"]
    page1 = (await client.get("/api/v1/audit", params={"actor": "user:alice", "limit": 2})).json()
    page2 = (
        await client.get("/api/v1/audit", params={"actor": "user:alice", "limit": 2, "cursor": page1["next_cursor"]})
    ).json()
    assert [i["object_id"] for i in page1["items"] + page2["items"]] == ["d4", "d3", "d2", "d1"]
    assert (await client.get("/api/v1/audit", params={"limit": 0})).status_code == 422


async def test_audit_is_for_admins_only(client_for) -> None:
    assert (await client_for(role="editor").get("/api/v1/audit")).status_code == 403
    assert (await client_for(scopes=["read", "write", "ingest"]).get("/api/v1/audit")).status_code == 403
