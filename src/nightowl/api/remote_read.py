"""`POST /prometheus/api/v1/read`: Prometheus remote read, so a Prometheus can `remote_read` from Nightowl.

Answers SAMPLES (a snappy-compressed ReadResponse) or STREAMED_XOR_CHUNKS (framed ChunkedReadResponse
messages, XOR chunks), whichever the client accepts first. Every series of the answer is selected and
counted against `remote_read_max_series` / `remote_read_max_samples` before the first byte is sent, so
a limit is a 413 problem naming it, never a broken stream.
"""

from __future__ import annotations

from collections.abc import Iterator

import cramjam
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from nightowl.api.deps import get_nightowl, requires
from nightowl.api.ingest_prometheus import raw_body
from nightowl.core.errors import LimitExceeded
from nightowl.federation import readproto
from nightowl.ingest.encoding import snappy_block
from nightowl.ingest.errors import MalformedPayload, UnsupportedMediaType
from nightowl.metrics.api import select_in_batches
from nightowl.metrics.model import Labels, Matcher, Series
from nightowl.promql.errors import QueryParseError
from nightowl.promql.regex import compile_anchored
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/prometheus/api/v1", tags=["prometheus"])
_BATCH_SERIES = 1000


def _limit(name: str, value: int, what: str) -> LimitExceeded:
    return LimitExceeded(
        f"the remote read answer would hold more than {name}={value} {what}; narrow the query's matchers or time range",
        field=name,
        extra={"limit": name, "limit_value": value},
    )


def _matchers(query: readproto.Query, external: dict[str, str], index: int) -> list[Matcher]:
    """The query's matchers less those an external label satisfies (Prometheus drops them too)."""
    kept = []
    for j, m in enumerate(query.matchers):
        if m.op == "=" and m.name in external and external[m.name] == m.value:
            continue
        if m.op in ("=~", "!~"):  # RE2, as Prometheus sends it and the querier matches it
            try:
                compile_anchored(m.value)
            except QueryParseError as exc:
                raise MalformedPayload(
                    f"queries[{index}].matchers[{j}]: {exc.message}", field=f"queries[{index}].matchers[{j}].value"
                ) from None
        kept.append(m)
    return kept


def _with_external(labels: Labels, external: dict[str, str]) -> Labels:
    """A series' own labels win over the external labels of the same name."""
    if not external:
        return labels
    merged = dict(external)
    merged.update(labels)
    return tuple(sorted(merged.items()))


def _select(nightowl: Nightowl, request: readproto.ReadRequest) -> list[list[Series]]:
    settings = nightowl.settings
    if len(request.queries) > settings.remote_read_max_queries:
        raise LimitExceeded(
            f"the request holds {len(request.queries)} queries, more than "
            f"remote_read_max_queries={settings.remote_read_max_queries}",
            field="remote_read_max_queries",
            extra={"limit": "remote_read_max_queries", "limit_value": settings.remote_read_max_queries},
        )
    external = dict(settings.global_config.external_labels)
    series_left, samples_left = settings.remote_read_max_series, settings.remote_read_max_samples
    results: list[list[Series]] = []
    for i, query in enumerate(request.queries):
        matchers = _matchers(query, external, i)
        found: list[Series] = []
        for batch in select_in_batches(nightowl.storage, matchers, query.start_ms, query.end_ms, None, _BATCH_SERIES):
            series_left -= len(batch)
            samples_left -= sum(len(s.timestamps) for s in batch)
            if series_left < 0:
                raise _limit("remote_read_max_series", settings.remote_read_max_series, "series")
            if samples_left < 0:
                raise _limit("remote_read_max_samples", settings.remote_read_max_samples, "samples")
            found.extend(Series(_with_external(s.labels, external), s.timestamps, s.values) for s in batch)
        found.sort(key=lambda s: s.labels)
        results.append(found)
    return results


def _frames(results: list[list[Series]], max_bytes: int) -> Iterator[bytes]:
    for index, series in enumerate(results):
        yield from readproto.chunked_frames(series, index, max_bytes)


@router.post(
    "/read",
    response_class=Response,
    summary="Prometheus remote read (snappy-compressed protobuf ReadRequest)",
    openapi_extra=raw_body("application/x-protobuf", binary=True),
    dependencies=[Depends(requires("read"))],
)
async def remote_read(request: Request, nightowl: Nightowl = Depends(get_nightowl)) -> Response:
    """What a Prometheus `remote_read:` sends. Answers `application/x-protobuf` (SAMPLES, snappy) or
    `application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse` (STREAMED_XOR_CHUNKS)."""
    encoding = (request.headers.get("content-encoding") or "snappy").strip().lower()
    if encoding != "snappy":
        raise UnsupportedMediaType(
            f"remote read bodies must be snappy-compressed, not {encoding!r}", field="Content-Encoding"
        )
    raw = await request.body()
    payload = await run_in_threadpool(snappy_block, raw, nightowl.settings.ingest_max_decompressed_bytes)
    read = readproto.decode_request(payload)
    kind = readproto.negotiate(read.accepted_response_types)
    results = await run_in_threadpool(_select, nightowl, read)
    if kind == readproto.STREAMED_XOR_CHUNKS:
        frames = _frames(results, nightowl.settings.remote_read_max_bytes_in_frame)
        return StreamingResponse(frames, media_type=readproto.STREAMED_CONTENT_TYPE)

    def encode() -> bytes:
        return bytes(cramjam.snappy.compress_raw(readproto.encode_read_response(results)))

    body = await run_in_threadpool(encode)
    return Response(body, media_type="application/x-protobuf", headers={"Content-Encoding": "snappy"})
