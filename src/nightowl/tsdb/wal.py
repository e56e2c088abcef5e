"""The write-ahead log: every accepted batch is one `os.write` before the append returns.

A record is `type (1 byte) | length (4) | crc32 (4) | payload`. Samples records carry the raw column
bytes of a batch (series ids, timestamps, values), so writing and replaying cost one memcpy each.
Once `write` returns the bytes are in the kernel: they survive `kill -9` of the process. Surviving
power loss needs fsync, per the policy: `always` (each append), `interval` (at most every N seconds,
the window of loss), `never` (leave it to the OS). Segments rotate at a size; a checkpoint starts a
fresh segment (series records are written again, lazily, before a series' first samples in it) and
the older segments are deleted once the head they held is in blocks.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from nightowl.metrics.model import Labels

log = logging.getLogger(__name__)

FsyncPolicy = Literal["always", "interval", "never"]
SERIES, SAMPLES, DELETE = 1, 2, 3
_FRAME = struct.Struct("<BII")
_SEGMENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class SeriesRecord:
    sid: int
    labels: Labels


@dataclass(frozen=True)
class SamplesRecord:
    sids: npt.NDArray[np.int32]
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


@dataclass(frozen=True)
class DeleteRecord:
    sids: npt.NDArray[np.int64]
    start_ms: int
    end_ms: int


Record = SeriesRecord | SamplesRecord | DeleteRecord


def _frame(kind: int, payload: bytes) -> bytes:
    return _FRAME.pack(kind, len(payload), zlib.crc32(payload)) + payload


def series_frame(sid: int, labels: Labels) -> bytes:
    return _frame(SERIES, json.dumps([sid, [x for pair in labels for x in pair]], separators=(",", ":")).encode())


def samples_frame(
    sids: npt.NDArray[np.int32], timestamps: npt.NDArray[np.int64], values: npt.NDArray[np.float64]
) -> bytes:
    payload = b"".join([struct.pack("<I", len(sids)), sids.tobytes(), timestamps.tobytes(), values.tobytes()])
    return _frame(SAMPLES, payload)


def delete_frame(sids: npt.NDArray[np.int64], start_ms: int, end_ms: int) -> bytes:
    return _frame(DELETE, struct.pack("<qqI", start_ms, end_ms, len(sids)) + sids.astype(np.int64).tobytes())


def _decode(kind: int, payload: bytes) -> Record:
    if kind == SERIES:
        sid, flat = json.loads(payload)
        strings = [sys.intern(x) for x in flat]  # replayed series share their names and common values
        return SeriesRecord(sid, tuple(zip(strings[::2], strings[1::2], strict=True)))
    if kind == SAMPLES:
        (n,) = struct.unpack_from("<I", payload)
        sids = np.frombuffer(payload, np.int32, n, 4)
        timestamps = np.frombuffer(payload, np.int64, n, 4 + 4 * n)
        values = np.frombuffer(payload, np.float64, n, 4 + 12 * n)
        return SamplesRecord(sids, timestamps, values)
    start, end, n = struct.unpack_from("<qqI", payload)
    return DeleteRecord(np.frombuffer(payload, np.int64, n, 20), start, end)


def _segments(directory: Path) -> list[Path]:
    return sorted((p for p in directory.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))


def read_segment(path: Path) -> Iterator[Record]:
    """Records of one segment, read one at a time; stops quietly at a torn or corrupt tail (a crash mid-write)."""
    with open(path, "rb") as f:
        pos = 0
        while True:
            header = f.read(_FRAME.size)
            if len(header) < _FRAME.size:
                if header:
                    log.warning("WAL segment %s: torn record at byte %d ignored", path.name, pos)
                return
            kind, length, crc = _FRAME.unpack(header)
            payload = f.read(length) if kind in (SERIES, SAMPLES, DELETE) else b""
            if kind not in (SERIES, SAMPLES, DELETE) or len(payload) != length or zlib.crc32(payload) != crc:
                log.warning("WAL segment %s: torn record at byte %d ignored", path.name, pos)
                return
            yield _decode(kind, payload)
            pos += _FRAME.size + length


class WriteAheadLog:
    def __init__(self, directory: Path, fsync: FsyncPolicy = "interval", fsync_interval: float = 1.0) -> None:
        self.directory = directory
        self.fsync_policy = fsync
        self.fsync_interval = fsync_interval
        directory.mkdir(parents=True, exist_ok=True)
        existing = _segments(directory)
        self._seq = int(existing[-1].name) + 1 if existing else 1
        self._fd = -1
        self._size = 0
        self._last_sync = 0.0
        self._dirty = False
        self._fd_lock = threading.Lock()

    def replay(self) -> Iterator[Record]:
        """Every record of every segment, oldest first (call before the first write)."""
        segments = _segments(self.directory)
        for number, path in enumerate(segments, 1):
            log.info(
                "replaying WAL segment %s (%d of %d, %d bytes)", path.name, number, len(segments), path.stat().st_size
            )
            yield from read_segment(path)

    def _open_segment(self) -> None:
        path = self.directory / f"{self._seq:08d}"
        self._seq += 1
        with self._fd_lock:
            if self._fd >= 0:
                self._sync()
                os.close(self._fd)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = 0
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def write(self, data: bytes, now: float) -> None:
        """Append framed records in one write; fsync per the policy (`now` is a monotonic time)."""
        if self._fd < 0 or self._size > _SEGMENT_BYTES:
            self._open_segment()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(data)
        self._dirty = True
        if self.fsync_policy == "always":
            self._sync()

    def sync_due(self, now: float) -> bool:
        """Whether the `interval` policy wants an fsync now (`now` is a monotonic time)."""
        return self.fsync_policy == "interval" and self._dirty and now - self._last_sync >= self.fsync_interval

    def _sync(self) -> None:
        if self._fd >= 0 and self._dirty:
            os.fsync(self._fd)
            self._dirty = False

    def sync(self, now: float = 0.0) -> None:
        """fsync without holding up writers: on a duplicate of the descriptor, outside any lock."""
        with self._fd_lock:
            if self._fd < 0 or not self._dirty:
                return
            fd = os.dup(self._fd)
            self._dirty = False
            self._last_sync = now
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def begin_segment(self) -> int:
        """Start a fresh segment; returns its number. Writers record each series again before its samples."""
        self._open_segment()
        return self._seq - 1

    def drop_segments_before(self, number: int) -> None:
        """Delete segments older than `number` (their samples are in blocks now)."""
        for path in _segments(self.directory):
            if int(path.name) < number:
                path.unlink(missing_ok=True)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in _segments(self.directory))

    def close(self) -> None:
        with self._fd_lock:
            if self._fd >= 0:
                self._sync()
                os.close(self._fd)
                self._fd = -1
