"""Fixtures shared by every test: a settings factory, the app on both state databases, a manual clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings

from nightowl.app import create_app
from nightowl.config import Settings, load_settings
from nightowl.core.clock import ManualClock
from nightowl.core.ids import new_id
from tests.support.postgres import PostgresServer, start_postgres, stop_postgres

REQUIRES = "requires component:"

# The property tests explore the same examples on every run: `make test` stays deterministic (a new
# finding comes from raising the examples by hand, not from a CI run that fails by chance).
hypothesis_settings.register_profile("nightowl", derandomize=True, database=None)
hypothesis_settings.load_profile("nightowl")
pytest_plugins = ["tests.support.smtp"]  # the `inbox` fixture: a real SMTP server


def requires(component: str, reason: str) -> pytest.MarkDecorator:
    """Skip because a component is missing; under CI=true such a skip fails the run (see below)."""
    return pytest.mark.skip(reason=f"{REQUIRES} {component}: {reason}")


_ci_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and REQUIRES in str(report.longrepr):
        _ci_skips.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") == "true" and _ci_skips and not hasattr(session.config, "workerinput"):
        print(f"\nCI=true but {len(_ci_skips)} tests were skipped for a missing component, e.g. {_ci_skips[0]}")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | str]:
    server = start_postgres()
    yield server
    if isinstance(server, PostgresServer):
        stop_postgres(server)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None means the default (SQLite in the data dir); otherwise a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    server = request.getfixturevalue("postgres_server")
    if isinstance(server, str):
        pytest.skip(f"{REQUIRES} postgresql: {server}")
    with server.throwaway_database() as url:
        yield url


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters in tests (the hash format records them, so verification is unchanged)."""
    from argon2 import PasswordHasher

    from nightowl.auth import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str | None) -> Any:
    def factory(**overrides: Any) -> Settings:
        # the servers tests talk to (receivers, SMTP, PostgreSQL, Redis) listen on loopback
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "outbound_allow_loopback": True,
        }
        values.update(overrides)
        return load_settings(None, **values)

    return factory


@pytest.fixture
async def app(make_settings: Any, clock: ManualClock) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


BASE_URL = "http://nightowl.test"


def credential_for(app: FastAPI, *, role: str | None = None, scopes: list[str] | None = None) -> str:
    """A bearer credential for the running app: an access token of a new user with `role`, or an API key."""
    from nightowl.auth import keys, sessions, users

    nightowl = app.state.nightowl
    if role is not None:
        user = users.create_user(
            nightowl.engine,
            nightowl.clock,
            username=f"{role}-{new_id()[:8]}",
            password="test-password",
            role=role,
            actor="test",
        )
        return sessions.start_session(nightowl.engine, nightowl.clock, nightowl.gate.signer, user).access_token
    _key, secret = keys.create_key(
        nightowl.engine, nightowl.clock, name=f"test-{new_id()[:8]}", scopes=scopes or ["admin"], actor="test"
    )
    return secret


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client authenticated as an admin (an admin-scoped API key), so every route is reachable."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {credential_for(app, scopes=['admin'])}"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as c:
        yield c


@pytest.fixture
async def anon_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client without credentials."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


@pytest.fixture
async def client_for(app: FastAPI) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Factory: `client_for(role="viewer")` (a logged-in user) or `client_for(scopes=["ingest"])` (an API key)."""
    opened: list[httpx.AsyncClient] = []

    def factory(*, role: str | None = None, scopes: list[str] | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {credential_for(app, role=role, scopes=scopes)}"}
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers)
        opened.append(c)
        return c

    yield factory
    for c in opened:
        await c.aclose()
