"""Alertmanager's own CLI, amtool (Debian's prometheus-alertmanager), against a live Nightowl.

amtool's go-openapi client decodes a response by its Content-Type and knows no
`application/problem+json`, so every error used to read `no consumer: "application/problem+json"`.
Under /api/v2/ errors are now a JSON string, as Alertmanager answers them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.config import load_settings
from nightowl.routing.config import DEFAULT_ALERTMANAGER_YML
from tests.conftest import credential_for, requires
from tests.routing.test_prometheus_sends_alerts import free_port, wait_for

AMTOOL = shutil.which("amtool")


async def test_alertmanager_api_errors_are_json_strings_amtool_can_read(app: FastAPI) -> None:
    """401, 403, bad input (400, as Alertmanager answers it) and 404, all `application/json` strings."""
    transport = httpx.ASGITransport(app=app)
    reader = {"Authorization": f"Bearer {credential_for(app, scopes=['read'])}"}
    writer = {"Authorization": f"Bearer {credential_for(app, scopes=['write'])}"}
    silence = {"startsAt": "2023-11-14T22:13:20Z", "endsAt": "2023-11-14T23:13:20Z", "createdBy": "a", "comment": "c"}
    async with httpx.AsyncClient(transport=transport, base_url="http://nightowl.test") as client:
        anonymous = await client.get("/api/v2/alerts")
        forbidden = await client.post(
            "/api/v2/silences", json={**silence, "matchers": [{"name": "a", "value": "b"}]}, headers=reader
        )
        invalid = await client.post(
            "/api/v2/silences", json={**silence, "matchers": [{"name": "1a", "value": "b"}]}, headers=writer
        )
        missing_field = await client.post("/api/v2/silences", json={"matchers": []}, headers=writer)
        unknown = await client.get("/api/v2/silence/nope", headers=reader)
        native = await client.get("/api/v1/alerts")
    for response, status in ((anonymous, 401), (forbidden, 403), (invalid, 400), (missing_field, 400), (unknown, 404)):
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert isinstance(response.json(), str) and response.json(), response.text
    assert "authentication required" in anonymous.json() and "WWW-Authenticate" in anonymous.headers
    assert "'1a'" in invalid.json()
    assert "startsAt" in missing_field.json()
    assert native.status_code == 401 and native.headers["content-type"] == "application/problem+json"


async def test_status_shows_the_default_route_when_no_alertmanager_yml_is_given(client: httpx.AsyncClient) -> None:
    original = (await client.get("/api/v2/status")).json()["config"]["original"]
    config = yaml.safe_load(original)
    assert config["route"]["receiver"] == "default" and config["route"]["group_by"] == ["alertname"]
    assert config["receivers"] == [{"name": "default"}]


@dataclass
class Amtool:
    url: str
    http_config: Path

    async def __call__(self, *args: str, http_config: Path | None = None) -> tuple[int, str, str]:
        assert AMTOOL is not None
        process = await asyncio.create_subprocess_exec(
            AMTOOL,
            f"--alertmanager.url={self.url}",
            f"--http.config.file={http_config or self.http_config}",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()


def http_config(path: Path, secret: str) -> Path:
    path.write_text(yaml.safe_dump({"authorization": {"credentials": secret}}))
    return path


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, Amtool]]:
    port = free_port()
    app = create_app(load_settings(None, data_dir=tmp_path / "data"))  # SQLite and the system clock
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await wait_for(lambda: asyncio.sleep(0, result=server.started))
    admin = http_config(tmp_path / "admin.yml", credential_for(app, scopes=["admin"]))
    try:
        yield app, Amtool(f"http://127.0.0.1:{port}", admin)
    finally:
        server.should_exit = True
        await serving


def amtool_test(test: Any) -> Any:
    """A test that runs the real amtool: serial (a live server on a port), skipped (failing CI) without amtool."""
    marked = pytest.mark.serial(test)
    return (
        requires("amtool", "apt-get install prometheus-alertmanager (it ships amtool)")(marked)
        if AMTOOL is None
        else marked
    )


@amtool_test
async def test_amtool_adds_and_queries_alerts_and_adds_queries_and_expires_silences(
    live: tuple[FastAPI, Amtool],
) -> None:
    _app, amtool = live
    code, _, err = await amtool(
        "alert", "add", "DiskFull", "instance=db-1", "severity=warning", "--annotation=summary=full"
    )
    assert code == 0, err
    code, out, err = await amtool("alert", "query", "-o", "json")
    assert code == 0, err
    [alert] = json.loads(out)
    assert alert["labels"] == {"alertname": "DiskFull", "instance": "db-1", "severity": "warning"}
    assert alert["annotations"] == {"summary": "full"} and alert["receivers"] == [{"name": "default"}]

    code, out, err = await amtool("silence", "add", "alertname=DiskFull", "-a", "ops", "-c", "disk swap", "-d", "1h")
    assert code == 0, err
    silence_id = out.strip()
    code, out, err = await amtool("silence", "query", "-q")
    assert code == 0 and out.split() == [silence_id], err
    code, out, err = await amtool("alert", "query", "-o", "json", "--silenced")
    assert code == 0 and json.loads(out)[0]["status"]["silencedBy"] == [silence_id], err

    code, _, err = await amtool("silence", "expire", silence_id)
    assert code == 0, err
    code, out, err = await amtool("silence", "query", "-q")
    assert code == 0 and out.split() == [], err
    code, out, err = await amtool("silence", "query", "--expired", "-q")
    assert code == 0 and out.split() == [silence_id], err


@amtool_test
async def test_amtool_shows_the_default_route_and_checks_its_config(
    live: tuple[FastAPI, Amtool], tmp_path: Path
) -> None:
    _app, amtool = live
    code, out, err = await amtool("config", "routes")
    assert code == 0, err
    assert "default" in out
    code, out, err = await amtool("config", "routes", "test", "alertname=DiskFull")
    assert code == 0 and out.strip() == "default", (out, err)
    (tmp_path / "alertmanager.yml").write_text(DEFAULT_ALERTMANAGER_YML)
    code, out, err = await amtool("check-config", str(tmp_path / "alertmanager.yml"))
    assert code == 0 and "SUCCESS" in out, (out, err)


@amtool_test
async def test_amtool_reports_errors_it_can_read(live: tuple[FastAPI, Amtool], tmp_path: Path) -> None:
    app, amtool = live
    nobody = http_config(tmp_path / "nobody.yml", "nok_wrong")
    reader = http_config(tmp_path / "reader.yml", credential_for(app, scopes=["read"]))

    code, _, err = await amtool("alert", "query", http_config=nobody)
    assert code != 0 and "no consumer" not in err and "401" in err, err
    code, _, err = await amtool("silence", "add", "alertname=DiskFull", "-a", "ops", "-c", "x", http_config=reader)
    assert code != 0 and "no consumer" not in err and "403" in err, err
    code, _, err = await amtool("silence", "add", "alertname=~.*", "-a", "ops", "-c", "matches everything")
    assert code != 0 and "no consumer" not in err and "400" in err, err
