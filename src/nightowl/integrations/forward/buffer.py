"""A bounded on-disk buffer of samples: append-only segment files, oldest segment dropped when full.

One JSON line per sample (`[labels, timestamp_ms, value]`) in `<dir>/<seq>.seg`. The sender reads the
oldest segment from an in-memory cursor and deletes it once fully sent; after a restart a segment is sent
again from its start (at least once). Appends go to the newest segment, which is sealed as soon as the
sender starts reading it, so a segment being read never grows.
"""

from __future__ import annotations

import json
import math
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from nightowl.metrics.model import STALE_NAN, Labels

Sample = tuple[Labels, int, float]
STALE_BYTES = struct.pack("<d", STALE_NAN)


def _stale(value: float) -> bool:
    return struct.pack("<d", value) == STALE_BYTES


def encode_sample(sample: Sample) -> bytes:
    """JSON has no NaN: a staleness marker is written "stale", any other NaN null."""
    labels, ts, value = sample
    out: float | str | None = value
    if math.isnan(value):
        out = "stale" if _stale(value) else None
    return json.dumps([list(labels), ts, out], separators=(",", ":")).encode() + b"\n"


def decode_sample(line: bytes) -> Sample:
    labels, ts, value = json.loads(line)
    number = STALE_NAN if value == "stale" else math.nan if value is None else float(value)
    return tuple((str(n), str(v)) for n, v in labels), int(ts), number


@dataclass
class DiskBuffer:
    directory: Path
    max_bytes: int
    segment_bytes: int = 1 << 20

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._segments = sorted(self.directory.glob("*.seg"))
        self._sealed = len(self._segments)  # segments found on disk are complete
        self._cursor = 0
        self._head: list[bytes] | None = None  # lines of the sealed oldest segment, read once
        self._bytes = sum(p.stat().st_size for p in self._segments)

    @property
    def bytes(self) -> int:
        return self._bytes

    def _new_segment(self) -> Path:
        seq = int(self._segments[-1].stem) + 1 if self._segments else 1
        path = self.directory / f"{seq:020d}.seg"
        self._segments.append(path)
        return path

    def append(self, samples: list[Sample]) -> int:
        """Store samples; return how many older samples were dropped to stay under `max_bytes`."""
        if not samples:
            return 0
        lines = [encode_sample(s) for s in samples]
        with self._lock:
            pos = 0
            while pos < len(lines):
                path = self._writable()
                room = self.segment_bytes - (path.stat().st_size if path.exists() else 0)
                chunk: list[bytes] = []
                size = 0
                while pos < len(lines) and (not chunk or size + len(lines[pos]) <= room):
                    chunk.append(lines[pos])
                    size += len(lines[pos])
                    pos += 1
                with path.open("ab") as f:
                    f.write(b"".join(chunk))
                self._bytes += size
            dropped = 0
            while self._bytes > self.max_bytes and len(self._segments) > 1:
                dropped += self._drop_oldest()
            return dropped

    def _writable(self) -> Path:
        """The newest segment if it is open and has room, else a new one."""
        if self._segments and self._sealed < len(self._segments):
            path = self._segments[-1]
            if path.stat().st_size < self.segment_bytes:
                return path
            self._sealed = len(self._segments)
        return self._new_segment()

    def _drop_oldest(self) -> int:
        oldest = self._segments.pop(0)
        lines = (len(self._head) if self._head is not None else oldest.read_bytes().count(b"\n")) - self._cursor
        self._head = None
        self._bytes -= oldest.stat().st_size
        oldest.unlink()
        self._sealed = max(0, self._sealed - 1)
        self._cursor = 0
        return lines

    def peek(self, limit: int) -> list[Sample]:
        """Up to `limit` of the oldest samples not yet sent (from one segment)."""
        with self._lock:
            while self._segments:
                self._sealed = max(self._sealed, 1)
                if self._head is None:
                    self._head = self._segments[0].read_bytes().splitlines()
                lines = self._head
                if self._cursor < len(lines):
                    return [decode_sample(line) for line in lines[self._cursor : self._cursor + limit]]
                self._drop_oldest()
            return []

    def commit(self, count: int) -> None:
        """The first `count` peeked samples are done with (sent, or refused for good)."""
        with self._lock:
            self._cursor += count
            if self._segments and self._head is not None and self._cursor >= len(self._head):
                self._drop_oldest()
