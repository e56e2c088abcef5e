"""Remote write 1.0 out: a `WriteRequest` protobuf, encoded by hand, snappy block-compressed.

The messages (prometheus/prompb) are small and fixed, so a direct encoder beats a protobuf runtime:

    WriteRequest   { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
    TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2; }
    Label          { string name = 1; string value = 2; }
    Sample         { double value = 1; int64 timestamp = 2; }
    MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import cramjam

from nightowl.metrics.model import Labels, SampleBatch

HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}

METRIC_TYPES = {
    "unknown": 0,
    "counter": 1,
    "gauge": 2,
    "histogram": 3,
    "gaugehistogram": 4,
    "summary": 5,
    "info": 6,
    "stateset": 7,
}

_DOUBLE = struct.Struct("<d")


def varint(n: int) -> bytes:
    """Unsigned LEB128; negative int64 values take their two's complement, as protobuf does."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _label(name: str, value: str) -> bytes:
    return _field(1, _field(1, name.encode()) + _field(2, value.encode()))


def _sample(timestamp: int, value: float) -> bytes:
    body = b"\x09" + _DOUBLE.pack(value) + b"\x10" + varint(timestamp)
    return b"\x12" + varint(len(body)) + body


def _metadata(name: str, kind: str, help_text: str, unit: str) -> bytes:
    body = b"\x08" + varint(METRIC_TYPES.get(kind.lower(), 0)) + _field(2, name.encode())
    if help_text:
        body += _field(4, help_text.encode())
    if unit:
        body += _field(5, unit.encode())
    return _field(3, body)


def encode_write_request(batches: Sequence[SampleBatch]) -> bytes:
    """One WriteRequest for the batches, samples grouped per series in the order they were appended."""
    points: dict[Labels, list[bytes]] = {}
    metadata: dict[str, tuple[str, str, str]] = {}
    for batch in batches:
        index = batch.series_index.tolist()
        for i, ts, value in zip(index, batch.timestamps.tolist(), batch.values.tolist(), strict=True):
            points.setdefault(batch.series[i], []).append(_sample(ts, value))
        metadata.update(batch.metadata)
    out = bytearray()
    for labels, samples in points.items():
        out += _field(1, b"".join(_label(n, v) for n, v in labels) + b"".join(samples))
    for name, (kind, help_text, unit) in metadata.items():
        out += _metadata(name, kind, help_text, unit)
    return bytes(out)


def compress(payload: bytes) -> bytes:
    """Snappy block format (not the framed stream format), as remote write requires."""
    return bytes(cramjam.snappy.compress_raw(payload))
