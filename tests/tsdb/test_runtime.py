from __future__ import annotations

from pathlib import Path
from typing import Any

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import Matcher, SampleBatch
from nightowl.tsdb.db import TSDB
from tests.support.apps import admin_client
from tests.tsdb.conftest import T0, lbl


async def test_the_default_storage_is_the_tsdb_in_the_data_dir_and_survives_restart(
    make_settings: Any, clock: ManualClock
) -> None:
    settings = make_settings()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        storage = app.state.nightowl.storage
        assert isinstance(storage, TSDB) and storage.directory == settings.data_dir / "tsdb"
        storage.append(SampleBatch.from_rows([(lbl("up", job="api"), T0, 1.0)]))
    again = create_app(settings, clock=clock)
    async with again.router.lifespan_context(again):
        [series] = again.state.nightowl.storage.select([Matcher("job", "=", "api")], T0, T0)
        assert series.values.tolist() == [1.0]
        async with admin_client(again) as client:
            text = (await client.get("/metrics")).text
            jobs = {j["name"] for j in (await client.get("/api/v1/workers")).json()["jobs"]}
    assert 'nightowl_tsdb_status{quantity="active_series"} 1.0' in text
    assert {"tsdb-head-flush", "tsdb-compaction", "tsdb-retention", "tsdb-wal-fsync"} <= jobs


async def test_memory_storage_on_request(make_settings: Any, clock: ManualClock) -> None:
    app = create_app(make_settings(metrics_storage="memory"), clock=clock)
    async with app.router.lifespan_context(app):
        assert isinstance(app.state.nightowl.storage, MemoryStorage)


def test_head_flush_job_writes_blocks_once_the_head_is_old(tmp_path: Path, clock: ManualClock) -> None:
    from nightowl.metrics.embedded import HEAD_FLUSH_AGE_S, _HeadFlush
    from nightowl.tsdb.options import TSDBOptions

    db = TSDB(tmp_path / "t", TSDBOptions(), clock)
    job = _HeadFlush(db, clock)
    db.append(SampleBatch.from_rows([(lbl("up"), T0, 1.0)]))
    job()
    assert not db.blocks
    clock.advance(HEAD_FLUSH_AGE_S)
    job()
    assert len(db.blocks) == 1 and db.head.samples == 0
    db.close()
