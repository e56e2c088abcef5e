"""A hand-written protobuf + snappy encoder for remote write payloads, independent of the server's
decoder (which uses the protobuf library and cramjam): tests build requests with this one."""

from __future__ import annotations

import struct
from collections.abc import Sequence


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value) if value else b""


def field_double(number: int, value: float) -> bytes:
    return varint(number << 3 | 1) + struct.pack("<d", value) if value != 0.0 else b""


def sample(value: float, timestamp_ms: int) -> bytes:
    return field_double(1, value) + field_varint(2, timestamp_ms)


def write_request(
    series: Sequence[tuple[dict[str, str], Sequence[tuple[float, int]]]],
    metadata: Sequence[tuple[int, str, str, str]] = (),
    histograms_per_series: int = 0,
) -> bytes:
    """prometheus.WriteRequest: series as (labels, [(value, ts_ms)]), metadata as (type, name, help, unit)."""
    out = bytearray()
    for labels, points in series:
        body = b"".join(
            field_bytes(1, field_bytes(1, k.encode()) + field_bytes(2, v.encode())) for k, v in labels.items()
        )
        body += b"".join(field_bytes(2, sample(v, t)) for v, t in points)
        body += b"".join(field_bytes(4, field_varint(2, 1)) for _ in range(histograms_per_series))
        out += field_bytes(1, body)
    for kind, name, help_text, unit in metadata:
        out += field_bytes(
            3,
            field_varint(1, kind)
            + field_bytes(2, name.encode())
            + field_bytes(4, help_text.encode())
            + field_bytes(5, unit.encode()),
        )
    return bytes(out)


def write_request_v2(
    series: Sequence[tuple[dict[str, str], Sequence[tuple[float, int]], tuple[int, str, str] | None]],
    exemplars_per_series: int = 0,
) -> bytes:
    """io.prometheus.write.v2.Request: series as (labels, [(value, ts_ms)], (type, help, unit) or None)."""
    symbols: dict[str, int] = {"": 0}

    def ref(text: str) -> int:
        return symbols.setdefault(text, len(symbols))

    bodies = []
    for labels, points, meta in series:
        refs = [r for k, v in sorted(labels.items()) for r in (ref(k), ref(v))]
        body = field_bytes(1, b"".join(varint(r) for r in refs))
        body += b"".join(field_bytes(2, sample(v, t)) for v, t in points)
        body += b"".join(field_bytes(4, field_double(2, 1.5)) for _ in range(exemplars_per_series))
        if meta is not None:
            kind, help_text, unit = meta
            body += field_bytes(5, field_varint(1, kind) + field_varint(3, ref(help_text)) + field_varint(4, ref(unit)))
        bodies.append(body)
    out = b"".join(field_bytes(4, s.encode()) for s in symbols)
    return out + b"".join(field_bytes(5, body) for body in bodies)


def snappy_literal(data: bytes) -> bytes:
    """Snappy block format using literals only: valid for any decoder, no compression library involved."""
    out = bytearray(varint(len(data)))
    for start in range(0, len(data), 60 * 1024):
        chunk = data[start : start + 60 * 1024]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += chunk
    return bytes(out)
