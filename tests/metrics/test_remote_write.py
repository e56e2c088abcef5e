"""The remote write sender: batching, the bounded queue, retries and drops, driven one attempt at a time."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from nightowl.core.errors import LimitExceeded, Unavailable
from nightowl.metrics.model import STALE_NAN, SampleBatch, labels_from_dict
from nightowl.metrics.remote import RemoteConfig, RemoteStorage
from nightowl.metrics.remote.writeproto import compress, encode_write_request
from nightowl.metrics.remote.writer import backoff, split
from tests.support.remote_servers import free_port
from tests.support.write_receiver import WriteReceiver, decode_write_request


@pytest.fixture
def receiver() -> Iterator[WriteReceiver]:
    r = WriteReceiver()
    yield r
    r.stop()


def remote_for(url: str, **options: object) -> tuple[RemoteStorage, CollectorRegistry]:
    registry = CollectorRegistry()
    storage = RemoteStorage(RemoteConfig.for_url(url, **options), registry=registry)
    storage.writer.rng = random.Random(7)
    return storage, registry


def rows(name: str, n: int, t0: int = 1_700_000_000_000) -> SampleBatch:
    labels = labels_from_dict({"__name__": name, "job": "api"})
    return SampleBatch.from_rows([(labels, t0 + i * 1000, float(i)) for i in range(n)])


def counter(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def test_samples_go_out_as_snappy_protobuf_with_the_remote_write_headers(receiver: WriteReceiver) -> None:
    storage, registry = remote_for(receiver.start())
    up = labels_from_dict({"__name__": "up", "job": "api", "instance": "a:1"})
    batch = SampleBatch.from_rows([(up, 1000, 1.0), (up, 2000, STALE_NAN), (up, -5, -2.5)])
    batch.metadata["up"] = ("gauge", "Target is up.", "")
    storage.append(batch)
    assert storage.writer.send_once().sent == 3

    (request,) = receiver.accepted
    assert request[0].labels == dict(up)
    assert [t for t, _ in request[0].samples] == [1000, 2000, -5]
    stale_bits = struct.pack("<d", request[0].samples[1][1])
    assert stale_bits == struct.pack("<d", STALE_NAN)
    headers = receiver.headers[0]
    assert headers["Content-Encoding"] == "snappy"
    assert headers["Content-Type"] == "application/x-protobuf"
    assert headers["X-Prometheus-Remote-Write-Version"] == "0.1.0"
    assert counter(registry, "nightowl_remote_write_samples_total", result="sent") == 3
    assert counter(registry, "nightowl_remote_write_queue_samples") == 0


def test_small_appends_are_merged_and_large_ones_split_to_the_batch_size(receiver: WriteReceiver) -> None:
    storage, _ = remote_for(receiver.start(), batch_max_samples=4)
    for batch in (rows("a", 1), rows("b", 2), rows("c", 1), rows("d", 9)):
        storage.append(batch)
    sizes = []
    while storage.writer.queued:
        sizes.append(storage.writer.send_once().sent)
    assert sizes == [4, 4, 4, 1]
    assert receiver.samples() == 13
    assert [s.labels["__name__"] for s in receiver.accepted[0]] == ["a", "b", "c"]


def test_server_errors_are_retried_with_backoff_until_they_succeed(receiver: WriteReceiver) -> None:
    storage, registry = remote_for(receiver.start(), min_backoff_s=1.0, max_backoff_s=8.0)
    receiver.answers.extend([(500, {}), (503, {}), (404, {}), (429, {"Retry-After": "6"})])
    storage.append(rows("x", 3))
    waits = [storage.writer.send_once().retry_in for _ in range(4)]
    assert waits[0] is not None and 0.5 <= waits[0] <= 1.0
    assert waits[1] is not None and 1.0 <= waits[1] <= 2.0
    assert waits[2] is not None and 2.0 <= waits[2] <= 4.0
    assert waits[3] is not None and waits[3] >= 6.0
    assert storage.writer.queued == 3
    assert storage.writer.last_error is not None and "429" in storage.writer.last_error
    assert storage.writer.send_once().sent == 3
    assert counter(registry, "nightowl_remote_write_retries_total") == 4
    assert receiver.samples() == 3


def test_refused_batches_are_dropped_and_counted(receiver: WriteReceiver) -> None:
    storage, registry = remote_for(receiver.start(), batch_max_samples=2)
    receiver.answers.append((400, {}))
    storage.append(rows("x", 4))
    outcome = storage.writer.send_once()
    assert (outcome.dropped, outcome.retry_in) == (2, None)
    assert storage.writer.send_once().sent == 2
    assert counter(registry, "nightowl_remote_write_samples_total", result="dropped") == 2
    assert counter(registry, "nightowl_remote_write_dropped_batches_total") == 1


def test_a_batch_that_cannot_be_encoded_is_dropped_not_retried_forever(receiver: WriteReceiver) -> None:
    storage, _ = remote_for(receiver.start(), batch_max_samples=1)
    storage.append(SampleBatch.from_rows([(labels_from_dict({"__name__": "bad\udc80"}), 1, 1.0)]))
    storage.append(rows("good", 1))
    outcome = storage.writer.send_once()
    assert outcome.dropped == 1 and outcome.error is not None and "encode" in outcome.error
    assert storage.writer.send_once().sent == 1


def test_a_remote_that_is_down_is_retried_until_it_comes_back(receiver: WriteReceiver) -> None:
    port = free_port()
    storage, _ = remote_for(f"http://127.0.0.1:{port}")
    storage.append(rows("x", 5))
    down = storage.writer.send_once()
    assert down.retry_in is not None and down.error is not None and "ConnectError" in down.error
    receiver.start(port)
    assert storage.writer.send_once().sent == 5
    assert receiver.samples() == 5


def test_flush_gives_up_after_its_timeout_and_keeps_the_samples() -> None:
    storage, _ = remote_for(f"http://127.0.0.1:{free_port()}", min_backoff_s=0.01, max_backoff_s=0.02)
    storage.append(rows("x", 3))
    assert storage.writer.flush(timeout_s=0.1) is False
    assert storage.writer.queued == 3


def test_a_full_queue_refuses_appends_with_503_and_retry_after(receiver: WriteReceiver) -> None:
    storage, registry = remote_for(receiver.start(), queue_max_samples=10, batch_max_samples=10)
    storage.append(rows("x", 8))
    with pytest.raises(Unavailable) as full:
        storage.append(rows("y", 5))
    assert full.value.status == 503 and "Retry-After" in full.value.headers
    assert "8 of 10 samples" in full.value.detail
    assert counter(registry, "nightowl_remote_write_samples_total", result="queue_full") == 5
    with pytest.raises(LimitExceeded):
        storage.append(rows("z", 11))
    storage.writer.send_once()
    assert storage.append(rows("y", 5)).accepted == 5


def test_flush_drains_the_queue_through_the_background_sender(receiver: WriteReceiver) -> None:
    storage, _ = remote_for(receiver.start(), batch_max_samples=100)
    storage.start()
    for i in range(20):
        storage.append(rows(f"m{i}", 50))
    storage.flush()
    assert storage.writer.queued == 0
    storage.close()
    assert receiver.samples() == 1000


def test_backoff_doubles_with_jitter_up_to_the_ceiling() -> None:
    rng = random.Random(1)
    waits = [backoff(attempt, 0.1, 2.0, rng) for attempt in range(1, 10)]
    assert 0.05 <= waits[0] <= 0.1 and 0.1 <= waits[1] <= 0.2
    assert all(1.0 <= w <= 2.0 for w in waits[5:])


def test_the_encoding_round_trips_interleaved_series_and_every_timestamp_size() -> None:
    rng = np.random.default_rng(3)
    names = [labels_from_dict({"__name__": "m", "i": str(i), "ü": "ß" * i}) for i in range(7)]
    stamps = [0, 1, 127, 128, 2**35, 1_700_000_000_123, 2**62, -1, -(2**40)]
    rows_in = [
        (names[int(rng.integers(7))], stamps[int(rng.integers(len(stamps)))], float(rng.normal())) for _ in range(500)
    ]
    pieces = split(SampleBatch.from_rows(rows_in), 64)
    series, _ = decode_write_request(compress(encode_write_request(pieces)))
    got = {tuple(sorted(s.labels.items())): s.samples for s in series}
    want: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = {}
    for labels, ts, value in rows_in:
        want.setdefault(labels, []).append((ts, value))
    assert got == want


def test_secrets_never_reach_the_logs(receiver: WriteReceiver, caplog: pytest.LogCaptureFixture) -> None:
    url = receiver.start().replace("http://", "http://writer:url-secret@")
    storage, _ = remote_for(url, batch_max_samples=1)
    assert storage.config.username == "writer" and storage.config.password == "url-secret"
    receiver.answers.extend([(500, {}), (400, {})])
    storage.append(rows("x", 2))
    with caplog.at_level("DEBUG"):
        for _ in range(3):
            storage.writer.send_once()
    logged = " ".join(str(record.__dict__) for record in caplog.records)
    assert "remote write failed" in logged and "remote write batch dropped" in logged
    assert "url-secret" not in logged
    assert receiver.headers[0]["Authorization"] == "Basic d3JpdGVyOnVybC1zZWNyZXQ="


def test_health_shows_a_failing_remote_write_and_a_filling_queue(receiver: WriteReceiver) -> None:
    storage, _ = remote_for(receiver.start(), queue_max_samples=10, batch_max_samples=4)
    assert storage.health().status == "ok"
    receiver.answers.append((503, {}))
    storage.append(rows("x", 4))
    storage.writer.send_once()
    failing = storage.health()
    assert failing.status == "degraded" and "HTTP 503" in failing.detail
    storage.writer.send_once()
    assert storage.health().status == "ok"
    storage.append(rows("y", 6))
    assert storage.health().detail == "remote write queue 6 of 10 samples"
    receiver.stop()
    assert storage.health().status == "down"
