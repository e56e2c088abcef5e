"""The forwarders' disk buffer: bounded, oldest dropped and counted, survives a restart, keeps stale markers."""

from __future__ import annotations

import math
import struct
from pathlib import Path

from nightowl.integrations.forward.buffer import DiskBuffer, Sample
from nightowl.metrics.model import STALE_NAN

LABELS = (("__name__", "up"), ("job", "api"))


def samples(start: int, n: int) -> list[Sample]:
    return [(LABELS, start + i, float(start + i)) for i in range(n)]


def test_full_buffer_drops_the_oldest_segment_and_counts_its_samples(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, max_bytes=3000, segment_bytes=1000)
    dropped = sum(buffer.append(samples(i * 10, 10)) for i in range(10))
    assert buffer.bytes <= 3000 and dropped > 0
    kept = buffer.peek(1000)
    assert kept[0][1] == dropped  # what is left starts right after what was dropped
    total = 0
    while batch := buffer.peek(7):
        buffer.commit(len(batch))
        total += len(batch)
    assert total + dropped == 100 and buffer.bytes == 0


def test_unsent_samples_survive_a_restart_and_appends_never_grow_a_segment_being_read(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, max_bytes=1 << 20)
    buffer.append(samples(0, 5))
    assert len(buffer.peek(3)) == 3
    buffer.commit(3)
    buffer.append(samples(5, 5))  # goes to a new segment: the first one is sealed
    reopened = DiskBuffer(tmp_path, max_bytes=1 << 20)
    seen = []
    while batch := reopened.peek(100):
        reopened.commit(len(batch))
        seen += [ts for _, ts, _ in batch]
    assert seen == list(range(10))  # at least once: the partly sent segment is sent again whole


def test_nan_and_staleness_markers_round_trip(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, max_bytes=1 << 20)
    buffer.append([(LABELS, 1, math.nan), (LABELS, 2, STALE_NAN), (LABELS, 3, math.inf)])
    [(_, _, nan), (_, _, stale), (_, _, inf)] = buffer.peek(10)
    assert math.isnan(nan) and struct.pack("<d", nan) != struct.pack("<d", STALE_NAN)
    assert struct.pack("<d", stale) == struct.pack("<d", STALE_NAN) and inf == math.inf
