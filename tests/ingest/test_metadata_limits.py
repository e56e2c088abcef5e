"""HELP and unit texts are cut to `ingest_max_metadata_length` on every way in, so a few huge HELP
lines cannot make a 94 MB /metadata answer and metadata file (they once did)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from nightowl.ingest.limits import IngestLimits, LimitViolation, Validator
from nightowl.metrics.model import SampleBatch
from tests.support import wire

IMPORT = "/prometheus/api/v1/import/prometheus"
WRITE = "/prometheus/api/v1/write"
V1 = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
NOW_MS = 1_700_000_000_000
MIB = 2**20


async def test_huge_help_texts_are_cut_to_the_limit_everywhere(app: FastAPI, client: httpx.AsyncClient) -> None:
    for i in range(5):
        text = f"# HELP huge_{i} {'h' * MIB}\n# TYPE huge_{i} gauge\nhuge_{i} 1 {NOW_MS}\n"
        assert (await client.post(IMPORT, content=text)).status_code == 204
    payload = wire.write_request([], metadata=[(2, "huge_rw", "r" * MIB, "u" * 5000)])
    assert (await client.post(WRITE, content=wire.snappy_literal(payload), headers=V1)).status_code == 204
    gauge = {"name": "huge.otlp", "description": "o" * MIB, "gauge": {"dataPoints": [{"asDouble": 1}]}}
    otlp = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [gauge]}]}]}
    assert (await client.post("/v1/metrics", json=otlp)).status_code == 200
    answer = await client.get("/prometheus/api/v1/metadata")
    found = answer.json()["data"]
    assert {name: len(entries[0]["help"]) for name, entries in found.items() if name.startswith("huge")} == {
        **{f"huge_{i}": 1024 for i in range(5)},
        "huge_rw": 1024,
        "huge_otlp": 1024,
    }
    assert len(found["huge_rw"][0]["unit"]) == 1024
    assert len(answer.content) < 64 * 1024
    files = list(app.state.nightowl.settings.data_dir.rglob("metadata.json"))
    assert files and all(path.stat().st_size < 64 * 1024 for path in files)


def test_the_limit_is_a_setting_and_metadata_of_impossible_names_is_dropped() -> None:
    batch = SampleBatch.empty()
    batch.metadata.update({"ok": ("gauge", "x" * 100, "seconds"), "n" * 5000: ("gauge", "help", "")})
    checked, _ = Validator(IngestLimits(max_metadata_length=40)).check(batch)
    assert checked.metadata == {"ok": ("gauge", "x" * 40, "seconds")}


def test_too_many_metadata_entries_in_one_request_are_refused() -> None:
    batch = SampleBatch.empty()
    batch.metadata.update({f"m{i}": ("gauge", "", "") for i in range(3)})
    with pytest.raises(LimitViolation) as caught:
        Validator(IngestLimits(max_series_per_request=2)).check(batch)
    assert caught.value.error.status == 413
    assert caught.value.error.extra["limit"] == "ingest_max_series_per_request"
