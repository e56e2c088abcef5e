"""No default password ever: the first admin comes from NIGHTOWL_ADMIN_PASSWORD or the CLI."""

from __future__ import annotations

import logging

import pytest

from nightowl.app import create_app
from nightowl.auth import audit, users
from nightowl.core.clock import ManualClock
from nightowl.core.errors import ConfigError
from tests.support.apps import http_client, running_app


async def test_without_an_admin_the_server_starts_and_says_how_to_create_one(
    make_settings, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        async with running_app(make_settings, clock) as app, http_client(app) as anon:
            assert (await anon.get("/health")).status_code == 200
            assert users.count_users(app.state.nightowl.engine) == 0
    assert "nightowl users create-admin" in caplog.text


async def test_admin_password_creates_the_first_admin_once(make_settings, clock: ManualClock) -> None:
    settings = make_settings(admin_user="boss", admin_password="bootstrap pass")
    async with running_app(make_settings, clock, admin_user="boss", admin_password="bootstrap pass") as app:
        async with http_client(app) as anon:
            login = await anon.post("/api/v1/auth/login", json={"username": "boss", "password": "bootstrap pass"})
        assert login.status_code == 200
        engine = app.state.nightowl.engine
        assert [(u.username, u.role) for u in users.list_users(engine)] == [("boss", "admin")]
        assert audit.query(engine, action="user.created")[0].actor == "system:bootstrap"
    async with running_app(make_settings, clock, admin_user="boss", admin_password="changed pass") as app:
        assert len(users.list_users(app.state.nightowl.engine)) == 1
    assert "bootstrap pass" not in repr(settings)


def test_a_weak_admin_password_is_a_config_error(make_settings, clock: ManualClock) -> None:
    app = create_app(make_settings(admin_password="short"), clock=clock)
    with pytest.raises(ConfigError, match="admin_password"):
        app.state.nightowl.prepare()
    app.state.nightowl.engine.dispose()
