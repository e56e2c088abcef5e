"""OTLP/HTTP metrics: `POST /v1/metrics`, protobuf or JSON, answered in the encoding it came in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from nightowl.api.deps import get_nightowl, requires
from nightowl.api.ingest_prometheus import raw_body
from nightowl.ingest.encoding import decode_content_encoding
from nightowl.ingest.errors import MalformedPayload, UnsupportedMediaType
from nightowl.ingest.otlp import OtlpLimits, translate
from nightowl.ingest.otlp_names import Namer
from nightowl.runtime import Nightowl

router = APIRouter(tags=["otlp"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
PROTOCOL = "otlp"


def _decode(body: bytes, media: str) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    try:
        if media == JSON:
            json_format.Parse(body, request, ignore_unknown_fields=True)
        else:
            request.ParseFromString(body)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"the body is not a valid OTLP metrics request ({media}): {exc}", field="body") from None
    return request


def _export(nightowl: Nightowl, body: bytes, media: str) -> ExportMetricsServiceResponse:
    request = _decode(body, media)
    settings = nightowl.settings
    limits = OtlpLimits(settings.otlp_max_histogram_buckets, settings.otlp_max_series_per_request)
    translated = translate(
        request,
        Namer(settings.otlp_translation_strategy),
        settings.otlp_promote_resource_attributes,
        settings.otlp_promote_scope_metadata,
        limits,
    )
    for reason, count in translated.rejected.items():
        nightowl.ingestor.reject(PROTOCOL, reason, count)
    result = nightowl.ingestor.append(translated.batch, PROTOCOL, allow_partial=True)
    response = ExportMetricsServiceResponse()
    errors = list(translated.errors)
    if result.rejected_total:
        reasons = ", ".join(f"{reason}={count}" for reason, count in sorted(result.rejected.items()))
        errors.append(f"{result.rejected_total} samples were not stored ({reasons})")
    if translated.rejected_points or result.rejected_total:
        response.partial_success.rejected_data_points = translated.rejected_points + result.rejected_total
        response.partial_success.error_message = "; ".join(errors)
    return response


@router.post(
    "/v1/metrics",
    summary="OTLP/HTTP metrics export (protobuf or JSON)",
    openapi_extra=raw_body(PROTOBUF, JSON, binary=True),
    response_class=Response,
    dependencies=[Depends(requires("ingest"))],
)
async def export_metrics(request: Request, nightowl: NightowlDep) -> Response:
    """200 with an `ExportMetricsServiceResponse` (with `partial_success` when data points were refused,
    e.g. delta temporality); 400 for an unreadable body; 415 for other content types; 429/503 with
    Retry-After when overloaded."""
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    with nightowl.ingestor.admit(PROTOCOL):
        if media not in (PROTOBUF, JSON):
            raise UnsupportedMediaType(
                f"OTLP/HTTP takes {PROTOBUF} or {JSON}, not {media or 'no content type'!r}", field="Content-Type"
            )
        raw = await request.body()
        limit = nightowl.settings.ingest_max_decompressed_bytes
        body = await run_in_threadpool(decode_content_encoding, raw, request.headers.get("content-encoding"), limit)
        answer = await run_in_threadpool(_export, nightowl, body, media)
    if media == JSON:
        return Response(json_format.MessageToJson(answer, indent=None), media_type=JSON)
    return Response(answer.SerializeToString(), media_type=PROTOBUF)
