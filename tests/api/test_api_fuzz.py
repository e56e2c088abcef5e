"""Schemathesis over the whole OpenAPI document, as an admin: no input makes the server answer 5xx, and
every status code and content type the server answers is documented.

The schema is taken from the app at collection time, so each operation is its own test and the work
spreads over the xdist workers; the requests go to a real `nightowl serve` (one per worker).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance

from nightowl.app import create_app
from nightowl.config import load_settings
from tests.support.served import LiveServer, live_server


def _openapi() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return create_app(load_settings(None, data_dir=Path(tmp) / "data")).openapi()


@schemathesis.serializer(
    "application/x-protobuf", "application/x-ndjson", "application/openmetrics-text", "text/plain", "application/yaml"
)
def _raw_body(_ctx: Any, value: Any) -> bytes:
    """Bodies that are data (remote write, imports, rule files): the generated value as bytes, so the
    parsers meet garbage too."""
    return value if isinstance(value, bytes) else str(value).encode()


schema = schemathesis.openapi.from_dict(_openapi())
# Destructive operations on the caller's own credentials would end the run early, not find a defect.
schema = schema.exclude(path_regex=r"^/api/v1/auth/logout$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    with live_server(data_dir) as live:
        yield live


@schema.parametrize()
@settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case: schemathesis.Case, server: LiveServer) -> None:
    case.call_and_validate(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.admin_key}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance],
        timeout=30,
    )
