"""The OpenAPI document can feed client generators: every operation has its own operationId."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def test_operation_ids_are_unique(app: FastAPI) -> None:
    spec: dict[str, Any] = app.openapi()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values() if "operationId" in op]
    assert len(ids) > 100
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert duplicates == []
