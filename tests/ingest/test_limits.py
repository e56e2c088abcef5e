from __future__ import annotations

import math

import httpx
import pytest

from nightowl.core.errors import LimitExceeded
from nightowl.ingest.errors import InvalidSeries
from nightowl.ingest.limits import IngestLimits, LimitViolation, Validator
from nightowl.metrics.model import STALE_NAN, Labels, Matcher, SampleBatch

IMPORT = "/prometheus/api/v1/import/prometheus"


def batch(*rows: tuple[Labels, float]) -> SampleBatch:
    return SampleBatch.from_rows([(labels, 1000 + i, value) for i, (labels, value) in enumerate(rows)])


def refused(limits: IngestLimits, data: SampleBatch) -> LimitViolation:
    with pytest.raises(LimitViolation) as caught:
        Validator(limits).check(data)
    return caught.value


UP: Labels = (("__name__", "up"), ("job", "api"))


def test_a_valid_batch_passes_unchanged() -> None:
    data = batch((UP, 1.0))
    checked, dropped = Validator(IngestLimits()).check(data)
    assert checked is data and dropped == {}


def test_per_request_limits_name_the_setting() -> None:
    violation = refused(IngestLimits(max_samples_per_request=1), batch((UP, 1.0), (UP, 2.0)))
    assert violation.reason == "too_many_samples"
    assert isinstance(violation.error, LimitExceeded)
    assert "ingest_max_samples_per_request=1" in violation.error.detail
    other = (("__name__", "up"), ("job", "web"))
    assert refused(IngestLimits(max_series_per_request=1), batch((UP, 1.0), (other, 1.0))).reason == "too_many_series"


@pytest.mark.parametrize(
    ("limits", "labels", "reason"),
    [
        (IngestLimits(max_labels_per_series=1), UP, "too_many_labels"),
        (IngestLimits(max_label_name_length=3), UP, "label_name_too_long"),
        (IngestLimits(max_label_value_length=2), UP, "label_value_too_long"),
        (IngestLimits(names="legacy"), (("__name__", "my.metric"),), "invalid_metric_name"),
        (IngestLimits(names="legacy"), (("__name__", "m"), ("host.name", "a")), "invalid_label_name"),
        (IngestLimits(), (("job", "api"),), "missing_metric_name"),
        (IngestLimits(), (("__name__", "m"), ("a", "1"), ("a", "2")), "duplicate_label"),
    ],
)
def test_series_rules_refuse_the_whole_batch(limits: IngestLimits, labels: Labels, reason: str) -> None:
    violation = refused(limits, batch((UP, 1.0), (labels, 1.0)))
    assert violation.reason == reason
    assert isinstance(violation.error, InvalidSeries) and violation.error.status == 400


def test_utf8_names_are_accepted_by_default() -> None:
    Validator(IngestLimits()).check(batch(((("__name__", "my.metric"), ("host.name", "a")), 1.0)))


def test_empty_label_values_are_dropped_and_labels_sorted() -> None:
    checked, _ = Validator(IngestLimits()).check(batch(((("job", "api"), ("__name__", "up"), ("x", "")), 1.0)))
    assert checked.series == [UP]


def test_non_finite_policy_accept_drop_reject_and_stale_markers_always_pass() -> None:
    data = batch((UP, math.nan), (UP, math.inf), (UP, STALE_NAN), (UP, 1.0))
    assert len(Validator(IngestLimits()).check(data)[0]) == 4
    kept, dropped = Validator(IngestLimits(non_finite="drop")).check(data)
    assert len(kept) == 2 and dropped == {"non_finite": 2}
    assert refused(IngestLimits(non_finite="reject"), data).reason == "non_finite"


async def test_a_limit_answers_4xx_naming_it_stores_nothing_and_counts(make_settings, clock) -> None:
    from nightowl.app import create_app

    app = create_app(make_settings(ingest_max_label_value_length=8), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(IMPORT, content='ok{a="short"} 1 1\nok{a="far too long"} 1 1\n')
            assert response.status_code == 400
            problem = response.json()
            assert problem["limit"] == "ingest_max_label_value_length" and problem["limit_value"] == 8
            assert "ingest_max_label_value_length=8" in problem["detail"]
            assert app.state.nightowl.storage.select([Matcher("__name__", "=", "ok")], 0, 10) == []
            assert (await client.post(IMPORT, content="fine 1 1\n")).status_code == 204
            metrics = (await client.get("/metrics")).text
    assert 'nightowl_ingest_rejected_samples_total{protocol="import_prometheus",reason="label_value_too_long"} 2.0' in (
        metrics
    )
    assert 'nightowl_ingest_samples_total{protocol="import_prometheus"} 1.0' in metrics


async def test_decompressed_size_is_bounded(make_settings, clock) -> None:
    import gzip

    from nightowl.app import create_app

    app = create_app(make_settings(ingest_max_decompressed_bytes=1024), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            bomb = gzip.compress(b"m 1 1\n" * 10_000)
            response = await client.post(IMPORT, content=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json()["limit"] == "ingest_max_decompressed_bytes"


def test_in_flight_bound_answers_429_with_retry_after() -> None:
    from prometheus_client import CollectorRegistry

    from nightowl.core.errors import TooManyRequests
    from nightowl.ingest.pipeline import Ingestor
    from nightowl.metrics.memory import MemoryStorage

    storage = MemoryStorage()
    ingestor = Ingestor(lambda: storage, IngestLimits(), CollectorRegistry(), max_in_flight=1)
    with ingestor.admit("remote_write"):
        with pytest.raises(TooManyRequests) as caught:
            with ingestor.admit("remote_write"):
                pass
    assert caught.value.headers["Retry-After"] == "5"
    with ingestor.admit("remote_write"):
        pass
