"""RemoteStorage and RemoteQueryEngine against real Prometheus and VictoriaMetrics: what goes in comes back."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from nightowl.core.errors import InvalidInput
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import Labels, Matcher, SampleBatch, labels_from_dict
from nightowl.metrics.remote import RemoteConfig, RemoteQueryEngine, RemoteStorage
from tests.conftest import requires
from tests.support import remote_servers
from tests.support.remote_servers import MetricsServer

KINDS = [
    pytest.param(
        kind,
        marks=[]
        if remote_servers.available(kind)
        else [requires(kind, f"apt-get install {kind} (the remote backend is tested against it)")],
    )
    for kind in ("prometheus", "victoria-metrics")
]


@pytest.fixture(scope="module", params=KINDS)
def server(request: pytest.FixtureRequest) -> Iterator[MetricsServer]:
    started = remote_servers.start(request.param)
    yield started
    started.stop()


@pytest.fixture
def storage(server: MetricsServer) -> Iterator[RemoteStorage]:
    remote = RemoteStorage(RemoteConfig.for_url(server.url))
    yield remote
    remote.close()


def now_ms() -> int:
    """The real servers refuse samples far from their own clock, so test data sits near real now."""
    return int(time.time()) * 1000


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def write(storage: RemoteStorage, server: MetricsServer, rows: list[tuple[Labels, int, float]]) -> MemoryStorage:
    """Append through remote write, wait until it is readable, and return the same data in the reference."""
    reference = MemoryStorage()
    batch = SampleBatch.from_rows(rows)
    reference.append(batch)
    storage.append(batch)
    storage.flush()
    assert storage.writer.queued == 0
    server.refresh()
    return reference


def series_rows(name: str, t0: int) -> list[tuple[Labels, int, float]]:
    rows = []
    for job, instance in (("api", "a:1"), ("api", "b:1"), ("web", 'c"1\\x')):
        labels = labels_from_dict({"__name__": name, "job": job, "instance": instance})
        rows += [(labels, t0 + i * 15_000, float(i * 10 + len(instance))) for i in range(8)]
    return rows


def test_appended_samples_come_back_raw_and_equal(storage: RemoteStorage, server: MetricsServer) -> None:
    name, t0 = unique("requests_total"), now_ms() - 300_000
    reference = write(storage, server, series_rows(name, t0))
    for matchers, lo, hi in [
        ([Matcher("__name__", "=", name)], t0, t0 + 200_000),
        ([Matcher("__name__", "=", name), Matcher("job", "=", "api")], t0 + 15_000, t0 + 45_000),
        ([Matcher("__name__", "=", name), Matcher("instance", "=~", "a.*|c.*")], t0 - 1, t0 + 30_000),
        ([Matcher("__name__", "=", name), Matcher("instance", "!~", "a.*")], t0 + 30_000, t0 + 30_000),
        ([Matcher("__name__", "=", name), Matcher("instance", "=", 'c"1\\x')], t0, t0 + 200_000),
    ]:
        got, want = storage.select(matchers, lo, hi), reference.select(matchers, lo, hi)
        assert [s.labels for s in got] == [s.labels for s in want], matchers
        for g, w in zip(got, want, strict=True):
            assert g.timestamps.tolist() == w.timestamps.tolist()
            assert g.values.tolist() == w.values.tolist()


def test_series_and_labels_are_listed_in_the_window(storage: RemoteStorage, server: MetricsServer) -> None:
    name, t0 = unique("up"), now_ms() - 120_000
    reference = write(storage, server, series_rows(name, t0))
    by_name = [[Matcher("__name__", "=", name)]]
    api_only = [[Matcher("__name__", "=", name), Matcher("job", "=", "api")]]
    lo, hi = t0, t0 + 200_000
    assert storage.series(by_name, lo, hi) == reference.series(by_name, lo, hi)
    assert storage.series(api_only, lo, hi, limit=1) == reference.series(api_only, lo, hi, limit=1)
    assert storage.label_names(by_name, lo, hi) == ["__name__", "instance", "job"]
    assert storage.label_values("instance", api_only, lo, hi) == ["a:1", "b:1"]
    assert name in storage.label_values("__name__", [], lo, hi)
    assert {"__name__", "instance", "job"} <= set(storage.label_names([], lo, hi))


def test_all_of_time_reaches_everything(storage: RemoteStorage, server: MetricsServer) -> None:
    name, t0 = unique("forever"), now_ms() - 120_000
    reference = write(storage, server, series_rows(name, t0))
    by_name = [Matcher("__name__", "=", name)]
    for lo, hi in [(0, t0 + 200_000), (-(2**63), 2**63 - 1), (0, 2**62)]:
        assert len(storage.select(by_name, lo, hi)) == 3
        assert storage.series([by_name], lo, hi) == reference.series([by_name], lo, hi)
        assert storage.label_values("job", [by_name], lo, hi) == ["api", "web"]


def test_special_values_survive_the_round_trip(storage: RemoteStorage, server: MetricsServer) -> None:
    name, t = unique("temperature"), now_ms() - 60_000
    # One series per value: VictoriaMetrics keeps 12 significant digits relative to the largest value of a block.
    values = {"huge": -1.5e300, "inf": math.inf, "small": 0.1, "ü-1": 42.0}
    write(storage, server, [(labels_from_dict({"__name__": name, "room": k}), t, v) for k, v in values.items()])
    found = storage.select([Matcher("__name__", "=", name)], t, t)
    assert {dict(s.labels)["room"]: s.values.tolist() for s in found} == {k: [v] for k, v in values.items()}


def test_delete_series_removes_them(storage: RemoteStorage, server: MetricsServer) -> None:
    name, t0 = unique("doomed"), now_ms() - 120_000
    write(storage, server, series_rows(name, t0))
    assert storage.delete_series([Matcher("__name__", "=", name), Matcher("job", "=", "web")]) == 1
    server.refresh()
    left = storage.select([Matcher("__name__", "=", name)], t0, t0 + 200_000)
    assert sorted(dict(s.labels)["job"] for s in left) == ["api", "api"]


def test_metadata_of_appended_batches_is_kept(storage: RemoteStorage) -> None:
    name = unique("jobs_total")
    batch = SampleBatch.empty()
    batch.metadata[name] = ("counter", "Jobs run.", "")
    storage.append(batch)
    assert storage.metadata(name)[name][0].type == "counter"
    assert name in storage.metadata()


def test_remote_query_engine_answers_each_result_type(storage: RemoteStorage, server: MetricsServer) -> None:
    name, t0 = unique("http_requests_total"), (now_ms() // 60_000) * 60_000 - 600_000
    rows = []
    for job, per_step in (("api", 1.0), ("web", 3.0)):
        labels = labels_from_dict({"__name__": name, "job": job})
        rows += [(labels, t0 + i * 15_000, per_step * i) for i in range(25)]
    write(storage, server, rows)
    engine = RemoteQueryEngine(storage.api)
    at = t0 + 300_000

    vector = engine.instant(f"sum by (job) ({name})", at)
    assert vector.result_type == "vector"
    assert {dict(s.labels)["job"]: s.values.tolist() for s in vector.series} == {"api": [20.0], "web": [60.0]}
    assert all(s.timestamps.tolist() == [at] for s in vector.series)

    matrix = engine.range(f"{name}{{job='web'}} / 3", t0, t0 + 60_000, 30_000, timeout_s=5)
    assert matrix.result_type == "matrix"
    (web,) = matrix.series
    assert web.timestamps.tolist() == [t0, t0 + 30_000, t0 + 60_000]
    np.testing.assert_allclose(web.values, [0.0, 2.0, 4.0])

    scalar = engine.instant("1 + 2", at)
    if server.kind == "prometheus":
        assert (scalar.result_type, scalar.scalar) == ("scalar", (at, 3.0))
    else:  # VictoriaMetrics answers scalars as a one-element vector without labels
        assert (scalar.result_type, scalar.series[0].labels, scalar.series[0].values.tolist()) == ("vector", (), [3.0])

    rate = engine.instant(f"rate({name}{{job='api'}}[2m])", at, timeout_s=5.5)
    np.testing.assert_allclose(rate.series[0].values, [1.0 / 15])


def test_remote_query_errors_are_the_callers(storage: RemoteStorage) -> None:
    engine = RemoteQueryEngine(storage.api)
    with pytest.raises(InvalidInput) as bad:
        engine.instant("sum(", now_ms())
    assert bad.value.field == "query"
    with pytest.raises(InvalidInput):
        engine.range("up", now_ms(), now_ms(), 0)


def test_a_window_deletes_only_its_samples_where_the_remote_can(storage: RemoteStorage, server: MetricsServer) -> None:
    name, t0 = unique("trimmed"), now_ms() - 120_000
    write(storage, server, series_rows(name, t0))
    web = [Matcher("__name__", "=", name), Matcher("job", "=", "web")]
    if server.kind == "victoria-metrics":
        with pytest.raises(InvalidInput, match="start"):
            storage.delete_series(web, t0, t0 + 30_000)
        return
    assert storage.delete_series(web, t0, t0 + 30_000) == 1
    (left,) = storage.select(web, t0, t0 + 200_000)
    assert left.timestamps.tolist() == [t0 + i * 15_000 for i in range(3, 8)]


def test_old_samples_are_dropped_by_prometheus_and_kept_by_victoria_metrics(
    storage: RemoteStorage, server: MetricsServer
) -> None:
    labels = labels_from_dict({"__name__": unique("ancient")})
    write(storage, server, [(labels, now_ms(), 1.0)])  # an empty Prometheus head would take any time
    storage.append(SampleBatch.from_rows([(labels, now_ms() - 7 * 86_400_000, 1.0)]))
    outcome = storage.writer.send_once()
    if server.kind == "prometheus":  # older than its head block: "out of bounds"
        assert outcome.dropped == 1 and outcome.error is not None and "HTTP 400" in outcome.error
    else:
        assert outcome.sent == 1
