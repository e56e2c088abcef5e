"""Start an app with particular settings for one test, and talk to it as a given client IP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock


@asynccontextmanager
async def running_app(
    make_settings: Callable[..., Any], clock: ManualClock, **overrides: Any
) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(**overrides), clock=clock)
    async with app.router.lifespan_context(app):
        yield app


def http_client(app: FastAPI, *, ip: str = "127.0.0.1", headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://nightowl.test", headers=headers)


def admin_client(app: FastAPI, base_url: str = "http://nightowl.test") -> httpx.AsyncClient:
    """A client of a running app authenticated with a fresh admin API key (for tests that build their own app)."""
    from tests.conftest import credential_for

    headers = {"Authorization": f"Bearer {credential_for(app, scopes=['admin'])}"}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url, headers=headers)
