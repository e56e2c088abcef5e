"""Fixtures shared by every test: a settings factory, the app on both state databases, a manual clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.config import Settings, load_settings
from nightowl.core.clock import ManualClock
from tests.support.postgres import PostgresServer, start_postgres, stop_postgres

REQUIRES = "requires component:"


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


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str | None) -> Any:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_dir": tmp_path / "data", "database_url": database_url}
        values.update(overrides)
        return load_settings(None, **values)

    return factory


@pytest.fixture
async def app(make_settings: Any, clock: ManualClock) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nightowl.test") as c:
        yield c
