from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.health.servers import Certificate, http_server, self_signed, start_redis


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("tls"), days=30)


@pytest.fixture(scope="session")
def web() -> Iterator[str]:
    with http_server() as url:
        yield url


@pytest.fixture(scope="session")
def secure_web(certificate: Certificate) -> Iterator[str]:
    with http_server(certificate) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    started = start_redis(tmp_path_factory.mktemp("redis"))
    if isinstance(started, str):
        pytest.skip(f"requires component: redis: {started}")
    process, port = started
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def tls_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def manual_runs(app: FastAPI) -> FastAPI:
    """Checks run only when the test says so (`POST /run`): no background `health-checks` job racing
    the test when it advances the manual clock."""
    app.state.nightowl.scheduler.remove("health-checks")
    return app
