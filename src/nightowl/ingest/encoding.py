"""Request body codecs (gzip, deflate, snappy block), each bounded so a small body cannot inflate into gigabytes."""

from __future__ import annotations

import zlib

import cramjam

from nightowl.core.errors import LimitExceeded
from nightowl.ingest.errors import MalformedPayload, UnsupportedMediaType


def _too_large(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"the decompressed body exceeds ingest_max_decompressed_bytes={limit}",
        field="body",
        extra={"limit": "ingest_max_decompressed_bytes", "limit_value": limit},
    )


def inflate(body: bytes, limit: int, *, wbits: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(body, limit + 1)
    except zlib.error as exc:
        raise MalformedPayload(f"the body is not valid compressed data: {exc}", field="body") from None
    if len(out) > limit:
        raise _too_large(limit)
    if not decoder.eof:
        raise MalformedPayload("the compressed body is truncated", field="body")
    return out


def _snappy_length(body: bytes) -> int:
    """The uncompressed length a snappy block announces in its leading varint."""
    length = shift = 0
    for i, byte in enumerate(body[:10]):
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            return length
        shift += 7
        if i == 9:
            break
    raise MalformedPayload("the body is not snappy block data: bad length header", field="body")


def snappy_block(body: bytes, limit: int) -> bytes:
    """Snappy *block* format, as remote write uses (not the framed stream format)."""
    if _snappy_length(body) > limit:
        raise _too_large(limit)
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except Exception as exc:  # cramjam raises its own DecompressionError
        raise MalformedPayload(f"the body is not valid snappy block data: {exc}", field="body") from None


def decode_content_encoding(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo `Content-Encoding` (identity, gzip, deflate, snappy)."""
    name = (encoding or "identity").strip().lower()
    if name in ("", "identity"):
        if len(body) > limit:
            raise _too_large(limit)
        return body
    if name in ("gzip", "x-gzip"):
        return inflate(body, limit, wbits=zlib.MAX_WBITS | 16)
    if name == "deflate":
        return inflate(body, limit, wbits=zlib.MAX_WBITS)
    if name == "snappy":
        return snappy_block(body, limit)
    raise UnsupportedMediaType(
        f"Content-Encoding {encoding!r} is not supported; use identity, gzip, deflate or snappy",
        field="Content-Encoding",
    )
