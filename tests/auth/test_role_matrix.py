"""Meta-test: every operation x every kind of caller. Refusals (401/403) follow each route's declared
`requires(...)` permission, and no answer to anyone carries a secret that configuration holds."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from nightowl.auth.principal import ROLE_PERMISSIONS, scope_permissions
from nightowl.core.clock import ManualClock
from tests.auth.seeds import leaked, seed, write_alertmanager_yml
from tests.auth.test_every_route_requires_auth import PUBLIC, PUBLIC_PREFIXES
from tests.conftest import credential_for
from tests.support.apps import admin_client, http_client, running_app

SESSION_ONLY = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/password")}
"""Operations on one's own login session: an API key is refused (403), or its empty body first (422)."""


@dataclass(frozen=True)
class Caller:
    name: str
    permissions: frozenset[str] | None  # None: anonymous
    credential: str | None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    permission: str | None


def declared_permissions(dependant: Dependant) -> list[str]:
    """The permissions named by `requires(...)` anywhere in a route's dependencies."""
    found = []
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and getattr(call, "__qualname__", "").startswith("requires."):
            found.append(str(inspect.getclosurevars(call).nonlocals["permission"]))
        found += declared_permissions(sub)
    return found


def operations(app: FastAPI) -> list[Operation]:
    ops = []
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if not isinstance(route, APIRoute):
            continue
        public = path in PUBLIC or path.startswith(PUBLIC_PREFIXES)
        needed = declared_permissions(route.dependant)
        if path == "/metrics":
            needed = ["read"]  # checked by the authentication middleware (metrics_allow, metrics_public)
        assert public or len(needed) == 1, f"{path} declares {needed}: every private route names one permission"
        for method in sorted(route.methods - {"HEAD"}):
            ops.append(Operation(method, path, None if public else needed[0]))
    # Logging out ends the caller's session: last, so it does not change the answers to the others.
    return sorted(ops, key=lambda op: op.path.endswith("/logout"))


def concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), "x"), path)


@pytest.fixture
async def seeded(
    make_settings: Any, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[FastAPI]:
    caplog.set_level(logging.DEBUG)
    config = write_alertmanager_yml(tmp_path)
    async with running_app(make_settings, clock, alertmanager_config=config, rate_limit_per_ip=0) as app:
        async with admin_client(app) as admin:
            app.state.seed_ids = await seed(admin)
        yield app


def callers(app: FastAPI) -> list[Caller]:
    out = [Caller("anonymous", None, None)]
    out += [Caller(role, ROLE_PERMISSIONS[role], credential_for(app, role=role)) for role in ROLE_PERMISSIONS]
    for scope in ("read", "write", "ingest", "admin"):
        out.append(Caller(f"key:{scope}", scope_permissions([scope]), credential_for(app, scopes=[scope])))
    return out


async def test_every_operation_refuses_exactly_the_callers_its_permission_excludes(
    seeded: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    seeds = seeded.state.seed_ids
    read_ids = {
        "channel_id": seeds["channel"],
        "check_id": seeds["http_check"],
        "webhook_id": seeds["integration"],
        "kind": "remote_write",
    }
    wrong: list[str] = []
    leaks: list[str] = []
    checked = 0
    ops = operations(seeded)
    for caller in callers(seeded):
        headers = {"Authorization": f"Bearer {caller.credential}"} if caller.credential else {}
        async with http_client(seeded, headers=headers) as c:
            for op in ops:
                # Reads go to the seeded objects (to look for their secrets); writes to ids that do not exist.
                url = concrete(op.path, read_ids if op.method == "GET" else {})
                response = await c.request(op.method, url)
                checked += 1
                status = response.status_code
                if op.permission is None:
                    ok = status not in (401, 403)
                elif caller.permissions is None:
                    ok = status == 401
                elif caller.name.startswith("key:") and (op.method, op.path) in SESSION_ONLY:
                    ok = status in (403, 422)
                elif op.permission in caller.permissions:
                    ok = status not in (401, 403) and status < 500
                else:
                    ok = status == 403
                if not ok:
                    wrong.append(f"{caller.name} {op.method} {op.path} needs {op.permission}: {status}")
                found = leaked(response.text + str(dict(response.headers)))
                if found:
                    leaks.append(f"{caller.name} {op.method} {url}: {found}")
    assert (wrong, leaks) == ([], [])
    logged = [r.getMessage() + str(r.__dict__) for when in ("setup", "call") for r in caplog.get_records(when)]
    assert leaked("".join(logged)) == []
    assert checked > 8 * 150
