"""Prometheus remote read messages (prompb remote.proto / types.proto): the request in, both answers out.

    ReadRequest   { repeated Query queries = 1; repeated ResponseType accepted_response_types = 2; }
    Query         { int64 start_timestamp_ms = 1; int64 end_timestamp_ms = 2;
                    repeated LabelMatcher matchers = 3; ReadHints hints = 4; }
    LabelMatcher  { Type type = 1 (EQ, NEQ, RE, NRE); string name = 2; string value = 3; }
    ReadResponse  { repeated QueryResult results = 1; }       QueryResult { repeated TimeSeries timeseries = 1; }
    ChunkedReadResponse { repeated ChunkedSeries chunked_series = 1; int64 query_index = 2; }
    ChunkedSeries { repeated Label labels = 1; repeated Chunk chunks = 2; }
    Chunk         { int64 min_time_ms = 1; int64 max_time_ms = 2; Encoding type = 3 (XOR = 1); bytes data = 4; }

The request is small and parsed with the protobuf runtime (from a field table, as remote write is);
the answers are large and written by hand, samples vectorised as remote write out does. A streamed
answer is a sequence of frames: uvarint length, CRC-32C (Castagnoli) of the message big-endian, message.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import google_crc32c
from google.protobuf.message import DecodeError

from nightowl.federation import xorchunk
from nightowl.ingest.errors import MalformedPayload
from nightowl.ingest.protos import MANY, ONE, F, build
from nightowl.metrics.model import Labels, Matcher, MatchOp, Series
from nightowl.metrics.remote.writeproto import _sample_records, varint

SAMPLES = 0
STREAMED_XOR_CHUNKS = 1
RESPONSE_TYPES = {SAMPLES: "SAMPLES", STREAMED_XOR_CHUNKS: "STREAMED_XOR_CHUNKS"}
STREAMED_CONTENT_TYPE = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse"
_OPS: dict[int, MatchOp] = {0: "=", 1: "!=", 2: "=~", 3: "!~"}
_XOR = 1

_MESSAGES = build(
    "nightowl.remoteread",
    {
        "LabelMatcher": [
            ("type", 1, F.TYPE_INT32, ONE, ""),
            ("name", 2, F.TYPE_STRING, ONE, ""),
            ("value", 3, F.TYPE_STRING, ONE, ""),
        ],
        "ReadHints": [
            ("step_ms", 1, F.TYPE_INT64, ONE, ""),
            ("func", 2, F.TYPE_STRING, ONE, ""),
            ("start_ms", 3, F.TYPE_INT64, ONE, ""),
            ("end_ms", 4, F.TYPE_INT64, ONE, ""),
            ("grouping", 5, F.TYPE_STRING, MANY, ""),
            ("by", 6, F.TYPE_BOOL, ONE, ""),
            ("range_ms", 7, F.TYPE_INT64, ONE, ""),
        ],
        "Query": [
            ("start_timestamp_ms", 1, F.TYPE_INT64, ONE, ""),
            ("end_timestamp_ms", 2, F.TYPE_INT64, ONE, ""),
            ("matchers", 3, F.TYPE_MESSAGE, MANY, "LabelMatcher"),
            ("hints", 4, F.TYPE_MESSAGE, ONE, "ReadHints"),
        ],
        "ReadRequest": [
            ("queries", 1, F.TYPE_MESSAGE, MANY, "Query"),
            ("accepted_response_types", 2, F.TYPE_INT32, MANY, ""),
        ],
    },
)
ReadRequestMessage: Any = _MESSAGES["ReadRequest"]


@dataclass(frozen=True)
class Query:
    start_ms: int
    end_ms: int
    matchers: tuple[Matcher, ...]


@dataclass(frozen=True)
class ReadRequest:
    queries: tuple[Query, ...]
    accepted_response_types: tuple[int, ...]


def decode_request(payload: bytes) -> ReadRequest:
    """A snappy-decoded ReadRequest -> plain data; MalformedPayload (400) names what is wrong."""
    message = ReadRequestMessage()
    try:
        message.ParseFromString(payload)
    except DecodeError as exc:
        raise MalformedPayload(f"the body is not a valid remote read ReadRequest: {exc}", field="body") from None
    queries = []
    for i, q in enumerate(message.queries):
        matchers = []
        for j, m in enumerate(q.matchers):
            op = _OPS.get(m.type)
            if op is None:
                raise MalformedPayload(
                    f"queries[{i}].matchers[{j}]: unknown matcher type {m.type} (0-3: EQ, NEQ, RE, NRE)",
                    field=f"queries[{i}].matchers[{j}].type",
                )
            matchers.append(Matcher(m.name, op, m.value))
        queries.append(Query(q.start_timestamp_ms, q.end_timestamp_ms, tuple(matchers)))
    return ReadRequest(tuple(queries), tuple(message.accepted_response_types))


def negotiate(accepted: Sequence[int]) -> int:
    """The first accepted response type this server speaks; SAMPLES when the client names none."""
    for kind in accepted or (SAMPLES,):
        if kind in RESPONSE_TYPES:
            return kind
    raise MalformedPayload(
        f"server does not support any of the requested response types: {list(accepted)}; "
        f"supported: {[name for name in RESPONSE_TYPES.values()]}",
        field="accepted_response_types",
    )


def _field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _labels(labels: Labels) -> bytes:
    return b"".join(_field(1, _field(1, n.encode()) + _field(2, v.encode())) for n, v in labels)


def _timeseries(series: Series) -> bytes:
    body = _labels(series.labels)
    if len(series.timestamps):
        records, _ = _sample_records(series.timestamps, series.values)
        body += records
    return _field(1, body)


def encode_read_response(results: Sequence[Sequence[Series]]) -> bytes:
    """The SAMPLES answer (before snappy): one QueryResult per query, in request order."""
    return b"".join(_field(1, b"".join(_timeseries(s) for s in result)) for result in results)


def _chunk(min_ms: int, max_ms: int, data: bytes) -> bytes:
    body = b""
    if min_ms:
        body += b"\x08" + varint(min_ms)
    if max_ms:
        body += b"\x10" + varint(max_ms)
    body += b"\x18" + varint(_XOR) + _field(4, data)
    return _field(2, body)


def frame(message: bytes) -> bytes:
    """One frame of a streamed answer: uvarint size, big-endian CRC-32C, the message."""
    checksum: int = google_crc32c.value(message)
    return varint(len(message)) + checksum.to_bytes(4, "big") + message


def chunked_frames(series: Sequence[Series], query_index: int, max_bytes_in_frame: int) -> Iterator[bytes]:
    """The STREAMED_XOR_CHUNKS frames of one query: one series per frame, its chunks split across frames
    once a frame passes `max_bytes_in_frame` (by at most one chunk, as Prometheus allows)."""
    index = b"\x10" + varint(query_index) if query_index else b""
    for s in series:
        labels = _labels(s.labels)
        pending: list[bytes] = []
        room = max_bytes_in_frame - len(labels)
        for min_ms, max_ms, data in xorchunk.chunks(s.timestamps, s.values):
            chunk = _chunk(min_ms, max_ms, data)
            pending.append(chunk)
            room -= len(chunk)
            if room <= 0:
                yield frame(_field(1, labels + b"".join(pending)) + index)
                pending, room = [], max_bytes_in_frame - len(labels)
        if pending:
            yield frame(_field(1, labels + b"".join(pending)) + index)


def read_frames(stream: bytes) -> Iterator[bytes]:
    """The messages of a streamed answer, checksums verified (for clients and tests)."""
    pos = 0
    while pos < len(stream):
        size = shift = 0
        while True:
            byte = stream[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
        checksum = int.from_bytes(stream[pos : pos + 4], "big")
        message = stream[pos + 4 : pos + 4 + size]
        if len(message) != size or google_crc32c.value(message) != checksum:
            raise ValueError(f"frame at byte {pos}: truncated or bad checksum")
        pos += 4 + size
        yield message
