"""Prometheus remote write 1.0 (`prometheus.WriteRequest`) and 2.0 (`io.prometheus.write.v2.Request`)
payloads (already snappy-decoded) -> one `SampleBatch`.

Samples are decoded in bulk: a sample is almost always the 16-byte record `0x09 <f64> 0x10 <6-byte
varint ms>` (or 7 bytes when the value is 0.0 and omitted), so those are read by numpy as fixed
records; anything else falls back to the protobuf parser. Label sets are cached by their raw bytes,
within a memory budget, and only when their names and values are within the length limits: a
request the validator refuses leaves nothing behind. Native histograms are counted and not stored:
the storage holds float samples only.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress
from typing import Any

import numpy as np
import numpy.typing as npt
from google.protobuf.message import DecodeError

from nightowl.ingest import protos
from nightowl.ingest.caches import CacheBudget, labels_size, text_size
from nightowl.ingest.errors import MalformedPayload
from nightowl.ingest.limits import IngestLimits, within_lengths
from nightowl.metrics.model import METRIC_NAME, Labels, SampleBatch

_LABELS_CACHE: dict[bytes, Labels] = {}
_SERIES_CACHE: dict[bytes, Labels] = {}
_V2_CACHE: dict[tuple[str, ...], tuple[Labels, str]] = {}
_INTERNED: dict[Labels, Labels] = {}
"""One tuple object per distinct label set, so requests can deduplicate series by identity."""
_PAIRS: dict[tuple[str, str], tuple[str, str]] = {}
"""One (name, value) object per distinct pair: 10k series share a few hundred `job`, `le`, `mode`...
pairs instead of holding ~1 KiB of their own strings each (the TSDB index keeps these same tuples)."""
CACHE_MAX_BYTES = 256 * 2**20
CACHES = CacheBudget(CACHE_MAX_BYTES, _LABELS_CACHE, _SERIES_CACHE, _V2_CACHE, _INTERNED, _PAIRS)
"""Every remote-write decoder cache, charged and emptied together (about 1 KiB per series of 10 labels)."""
_DEFAULT_LIMITS = IngestLimits()
_VARINT_WEIGHTS = np.array([0, 7, 14, 21, 28, 35], np.int64)
_TAIL = 18
"""A series that ends with one 16-byte sample ends with these 18 bytes: `0x12 0x10` + the record."""


@dataclass
class RemoteWrite:
    """A decoded request: the float samples, plus what was sent but is not stored as samples."""

    batch: SampleBatch
    histograms: int = 0
    exemplars: int = 0


def _malformed(exc: Exception) -> MalformedPayload:
    return MalformedPayload(f"the body is not a valid remote write protobuf message: {exc}", field="body")


def _records(raw: bytes, count: int, size: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]] | None:
    """Decode `count` samples of exactly `size` bytes (16: value + 6-byte timestamp; 7: zero value)."""
    rec = np.frombuffer(raw, np.uint8).reshape(count, size)
    stamp_at = 10 if size == 16 else 1
    if size == 16 and not (rec[:, 0] == 0x09).all():
        return None
    if not (rec[:, stamp_at - 1] == 0x10).all():
        return None
    varint = rec[:, stamp_at : stamp_at + 6].astype(np.int64)
    if not ((varint[:, :5] >= 0x80).all() and (varint[:, 5] < 0x80).all()):
        return None
    stamps = ((varint & 0x7F) << _VARINT_WEIGHTS).sum(axis=1)
    if size == 16:
        values = np.ascontiguousarray(rec[:, 1:9]).view("<f8").reshape(count).astype(np.float64)
    else:
        values = np.zeros(count, np.float64)
    return values, stamps


def decode_samples(samples: list[bytes]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Encoded `Sample` messages -> (values, timestamps), in order."""
    n = len(samples)
    values = np.empty(n, np.float64)
    stamps = np.empty(n, np.int64)
    lengths = np.fromiter(map(len, samples), np.int64, n)
    done = np.zeros(n, np.bool_)
    for size in (16, 7):
        mask = lengths == size
        count = int(mask.sum())
        if count == 0:
            continue
        decoded = _records(b"".join(compress(samples, mask.tolist())), count, size)
        if decoded is not None:
            values[mask], stamps[mask] = decoded
            done |= mask
    for i in np.flatnonzero(~done).tolist():
        sample = protos.Sample.FromString(samples[i])
        values[i] = sample.value
        stamps[i] = sample.timestamp
    return values, stamps


def _labels_v1(raw: list[bytes], limits: IngestLimits) -> tuple[Labels, bool]:
    """The label set of raw `Label` messages, and whether it is cached (it is not when over a limit)."""
    key = b"".join(raw)
    cached = _LABELS_CACHE.get(key)
    if cached is not None:
        return cached, True
    pairs = []
    for item in raw:
        label = protos.Label.FromString(item)
        pairs.append((label.name, label.value))
    labels = tuple(sorted(pair for pair in pairs if pair[1]))
    if not _cacheable(pairs, limits):
        return labels, False
    CACHES.charge(2 * text_size(key) + 2 * labels_size(labels))  # the key, the labels, their interned twins
    labels = _intern(labels)
    _LABELS_CACHE[key] = labels
    return labels, True


def _cacheable(pairs: list[tuple[str, str]], limits: IngestLimits) -> bool:
    """Only label sets the validator can accept are worth remembering; the others must leave no trace."""
    return len(pairs) <= limits.max_labels_per_series and within_lengths(pairs, limits)


def _intern(labels: Labels) -> Labels:
    found = _INTERNED.get(labels)
    if found is not None:
        return found
    shared = tuple([_PAIRS.setdefault(pair, pair) for pair in labels])
    return _INTERNED.setdefault(shared, shared)


def _varint_size(value: int) -> int:
    return max(1, (value.bit_length() + 6) // 7)


def _labels_only(head: bytes, limits: IngestLimits) -> Labels | None:
    """Labels of a series' bytes that should hold nothing but labels; None if they hold anything else."""
    found = _SERIES_CACHE.get(head)
    if found is not None:
        return found
    try:
        series = protos.TimeSeries.FromString(head)
    except DecodeError:
        return None
    raw = list(series.labels)
    if sum(1 + _varint_size(len(item)) + len(item) for item in raw) != len(head):
        return None
    labels, cached = _labels_v1(raw, limits)
    if cached:
        CACHES.charge(text_size(head))
        _SERIES_CACHE[head] = labels
    return labels


def _fast_v1(request: Any, limits: IngestLimits) -> SampleBatch | None:
    """The common shape, every series = labels + one 16-byte sample, decoded mostly in numpy; None otherwise.

    A series' bytes are cut before their last 18 bytes; the head is accepted only if it parses as
    labels alone and the tail as a sample, so a cut can only fall on a field boundary.
    """
    raw: list[bytes] = list(request.timeseries)
    n = len(raw)
    if n == 0:
        return SampleBatch.empty()
    lengths = np.fromiter(map(len, raw), np.int64, n)
    if int(lengths.min()) <= _TAIL:
        return None
    buffer = np.frombuffer(b"".join(raw), np.uint8)
    tails = buffer[(np.cumsum(lengths) - _TAIL)[:, None] + np.arange(_TAIL)]
    if not ((tails[:, 0] == 0x12).all() and (tails[:, 1] == 0x10).all()):
        return None
    decoded = _records(tails[:, 2:].tobytes(), n, 16)
    if decoded is None:
        return None
    index: dict[bytes, int] = {}
    local = np.array([index.setdefault(item[:-_TAIL], len(index)) for item in raw], np.int32)
    series: list[Labels] = []
    by_identity: dict[int, int] = {}
    remap = np.empty(len(index), np.int32)
    for head, position in index.items():
        labels = _labels_only(head, limits)
        if labels is None:
            return None
        found = by_identity.setdefault(id(labels), len(series))
        if found == len(series):
            series.append(labels)
        remap[position] = found
    values, stamps = decoded
    return SampleBatch(series, remap[local], stamps, values)


def _assemble(series: list[Labels], ids: list[int], counts: list[int], samples: list[bytes]) -> SampleBatch:
    values, stamps = decode_samples(samples)
    series_index = np.repeat(np.array(ids, np.int32), np.array(counts, np.int64))
    return SampleBatch(series, series_index, stamps, values)


def decode_v1(payload: bytes, limits: IngestLimits = _DEFAULT_LIMITS) -> RemoteWrite:
    """`limits` decide which label sets are worth caching; the validator enforces them afterwards."""
    try:
        fast_request: Any = protos.WriteRequestRaw.FromString(payload)
        fast = _fast_v1(fast_request, limits)
    except DecodeError as exc:
        raise _malformed(exc) from None
    if fast is not None:
        _metadata_v1(fast_request, fast)
        return RemoteWrite(fast)
    try:
        request: Any = protos.WriteRequest.FromString(payload)
        index: dict[Labels, int] = {}
        ids: list[int] = []
        counts: list[int] = []
        samples: list[bytes] = []
        histograms = 0
        for series in request.timeseries:
            histograms += len(series.histograms)
            series_samples = series.samples
            if not series_samples:
                continue
            ids.append(index.setdefault(_labels_v1(series.labels, limits)[0], len(index)))
            counts.append(len(series_samples))
            samples.extend(series_samples)
        batch = _assemble(list(index), ids, counts, samples)
    except DecodeError as exc:
        raise _malformed(exc) from None
    _metadata_v1(request, batch)
    return RemoteWrite(batch, histograms=histograms)


def _metadata_v1(request: Any, batch: SampleBatch) -> None:
    for meta in request.metadata:
        kind = protos.METRIC_TYPES[meta.type] if 0 <= meta.type < len(protos.METRIC_TYPES) else "unknown"
        batch.metadata[meta.metric_family_name] = (kind, meta.help, meta.unit)


def decode_v2(payload: bytes, limits: IngestLimits = _DEFAULT_LIMITS) -> RemoteWrite:
    try:
        request: Any = protos.RequestV2.FromString(payload)
        symbols: list[str] = list(request.symbols)
        index: dict[int, int] = {}
        unique: list[Labels] = []
        ids: list[int] = []
        counts: list[int] = []
        samples: list[bytes] = []
        metadata: dict[str, tuple[str, str, str]] = {}
        histograms = exemplars = 0
        for series in request.timeseries:
            try:
                strings = tuple([symbols[ref] for ref in series.labels_refs])
            except IndexError:
                raise MalformedPayload(
                    f"a labels_refs entry is outside the symbols table ({len(symbols)} entries)", field="body"
                ) from None
            known = _V2_CACHE.get(strings)
            if known is None:
                known = _labels_v2(strings, limits)
            labels, name = known
            histograms += len(series.histograms)
            exemplars += len(series.exemplars)
            if name and name not in metadata and series.HasField("metadata"):
                _metadata_v2(series.metadata, name, symbols, metadata)
            series_samples = series.samples
            if not series_samples:
                continue
            position = index.setdefault(id(labels), len(unique))
            if position == len(unique):
                unique.append(labels)
            ids.append(position)
            counts.append(len(series_samples))
            samples.extend(series_samples)
        batch = _assemble(unique, ids, counts, samples)
    except DecodeError as exc:
        raise _malformed(exc) from None
    batch.metadata.update({name: entry for name, entry in metadata.items() if entry[0]})
    return RemoteWrite(batch, histograms=histograms, exemplars=exemplars)


def _symbol(symbols: list[str], ref: int) -> str:
    if ref >= len(symbols):
        raise MalformedPayload(
            f"symbol reference {ref} is outside the symbols table ({len(symbols)} entries)", field="body"
        )
    return symbols[ref]


def _labels_v2(strings: tuple[str, ...], limits: IngestLimits) -> tuple[Labels, str]:
    """Label set and metric name of resolved `labels_refs` strings, cached across requests."""
    if len(strings) % 2:
        raise MalformedPayload("labels_refs must hold name/value pairs (an even count)", field="body")
    pairs = [(strings[i], strings[i + 1]) for i in range(0, len(strings), 2)]
    labels = tuple(sorted(pair for pair in pairs if pair[1]))
    if not _cacheable(pairs, limits):
        return labels, dict(labels).get(METRIC_NAME, "")
    CACHES.charge(text_size(strings) + 2 * labels_size(labels))
    labels = _intern(labels)
    known = (labels, dict(labels).get(METRIC_NAME, ""))
    _V2_CACHE[strings] = known
    return known


def _metadata_v2(meta: Any, name: str, symbols: list[str], out: dict[str, tuple[str, str, str]]) -> None:
    """Metadata of the first series of each metric name; an empty entry marks "none given"."""
    if meta.type == 0 and not meta.help_ref and not meta.unit_ref:
        out[name] = ("", "", "")
        return
    kind = protos.METRIC_TYPES[meta.type] if 0 <= meta.type < len(protos.METRIC_TYPES) else "unknown"
    out[name] = (kind, _symbol(symbols, meta.help_ref), _symbol(symbols, meta.unit_ref))
