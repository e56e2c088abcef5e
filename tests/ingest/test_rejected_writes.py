"""Refused writes leave nothing behind, and what the decoders remember is bounded by bytes.

Ten remote writes, each a series with a unique 1 MiB label value and each answered 400, once kept
their label bytes in the decoder caches for good (RSS 112 MB -> 1.83 GB)."""

from __future__ import annotations

import gc
import tracemalloc

import httpx
import pytest
from fastapi import FastAPI

from nightowl.ingest import exposition, remote_write
from nightowl.ingest.caches import CacheBudget
from nightowl.ingest.limits import IngestLimits, Validator
from nightowl.metrics.model import Matcher, SampleBatch
from tests.support import wire

WRITE = "/prometheus/api/v1/write"
IMPORT = "/prometheus/api/v1/import/prometheus"
V1 = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
V2 = {"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request", "Content-Encoding": "snappy"}
NOW_MS = 1_700_000_000_000
MIB = 2**20


def huge(i: int) -> str:
    return f"{i:04d}" + "x" * MIB


async def refuse_each(client: httpx.AsyncClient, rounds: int) -> None:
    for i in range(rounds):
        v1 = wire.write_request([({"__name__": "big", "v": huge(i)}, [(1.0, NOW_MS)])])
        v2 = wire.write_request_v2([({"__name__": "big", "v": huge(100 + i)}, [(1.0, NOW_MS)], None)])
        text = f'big{{v="{huge(200 + i)}"}} 1 {NOW_MS}\n'
        multi = wire.write_request([({"__name__": "big", "v": huge(300 + i)}, [(1.0, NOW_MS), (2.0, NOW_MS + 1)])])
        for response in (
            await client.post(WRITE, content=wire.snappy_literal(v1), headers=V1),
            await client.post(WRITE, content=wire.snappy_literal(v2), headers=V2),
            await client.post(WRITE, content=wire.snappy_literal(multi), headers=V1),
            await client.post(IMPORT, content=text),
        ):
            assert response.status_code == 400, response.text
            assert response.json()["limit"] == "ingest_max_label_value_length"


def stored(app: FastAPI, name: str) -> list[list[float]]:
    return [s.values.tolist() for s in app.state.nightowl.storage.select([Matcher("__name__", "=", name)], 0, 2**62)]


async def test_refused_writes_leave_the_caches_and_the_index_as_they_were(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    kept = wire.write_request([({"__name__": "kept", "job": "api"}, [(1.0, NOW_MS)])])
    assert (await client.post(WRITE, content=wire.snappy_literal(kept), headers=V1)).status_code == 204
    assert (await client.post(IMPORT, content=f"kept_text 2 {NOW_MS}\n")).status_code == 204
    before = (remote_write.CACHES.used, exposition.CACHES.used, len(remote_write._PAIRS))
    validator = app.state.nightowl.ingestor.validator
    validated = validator.cached_bytes
    series = len(app.state.nightowl.storage.index)
    await refuse_each(client, 10)
    assert (remote_write.CACHES.used, exposition.CACHES.used, len(remote_write._PAIRS)) == before
    assert validator.cached_bytes == validated
    assert len(app.state.nightowl.storage.index) == series
    assert stored(app, "kept") == [[1.0]] and stored(app, "kept_text") == [[2.0]]


async def test_refused_writes_do_not_grow_python_memory(client: httpx.AsyncClient) -> None:
    await refuse_each(client, 1)  # warm up: first-use imports and allocations
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        await refuse_each(client, 3)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert grown < 4 * MIB, f"12 refused requests of 1 MiB each kept {grown / MIB:.1f} MiB"


async def test_decoder_caches_stay_within_their_byte_budget_and_the_data_stays_whole(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_write.CACHES, "max_bytes", 256 * 1024)
    monkeypatch.setattr(exposition.CACHES, "max_bytes", 256 * 1024)
    remote_write.CACHES.clear()
    exposition.CACHES.clear()
    for i in range(10):
        series = [({"__name__": "wide", "v": f"{i}-{j}-" + "y" * 4000}, [(float(j), NOW_MS + i)]) for j in range(20)]
        body = wire.snappy_literal(wire.write_request(series))
        assert (await client.post(WRITE, content=body, headers=V1)).status_code == 204
        text = "".join(f'wide_text{{v="{i}-{j}-{"z" * 4000}"}} {j} {NOW_MS + i}\n' for j in range(20))
        assert (await client.post(IMPORT, content=text)).status_code == 204
        assert remote_write.CACHES.used <= 256 * 1024
        assert exposition.CACHES.used <= 256 * 1024
    assert len(stored(app, "wide")) == len(stored(app, "wide_text")) == 200
    again = wire.snappy_literal(
        wire.write_request([({"__name__": "wide", "v": "0-0-" + "y" * 4000}, [(5.0, NOW_MS + 99)])])
    )
    assert (await client.post(WRITE, content=again, headers=V1)).status_code == 204
    assert [v for v in stored(app, "wide") if len(v) == 2] == [[0.0, 5.0]]


def test_a_cache_budget_empties_its_caches_together_when_full() -> None:
    first: dict[str, int] = {}
    second: dict[str, int] = {}
    budget = CacheBudget(1000, first, second)
    for i in range(50):
        budget.charge(100)
        first[str(i)] = second[str(i)] = i
        assert budget.used <= 1000
    assert 0 < len(first) == len(second) < 50


def test_the_validator_remembers_valid_series_within_its_byte_budget() -> None:
    validator = Validator(IngestLimits())
    validator.max_cached_bytes = 64 * 1024
    for i in range(100):
        rows = [((("__name__", "m"), ("v", f"{i}-{j}-" + "w" * 2000)), NOW_MS, 1.0) for j in range(5)]
        checked, _ = validator.check(SampleBatch.from_rows(rows))
        assert len(checked) == 5
        assert validator.cached_bytes <= 64 * 1024
