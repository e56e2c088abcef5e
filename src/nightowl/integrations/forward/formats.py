"""Wire formats of the forwarders: samples -> (body, headers) for one HTTP POST.

- Prometheus remote write 1.0 (snappy protobuf), with Nightowl's own encoder from `metrics.remote`.
- Datadog series API v2: `{"series": [{metric, type: 3 (gauge), points: [{timestamp (s), value}],
  tags: ["k:v"]}]}` with the `DD-API-KEY` header.
- New Relic Metric API: `[{"metrics": [{name, type: "gauge", value, timestamp (ms), attributes}]}]`
  with the `Api-Key` header.
JSON has no NaN, so Datadog and New Relic skip NaN samples (staleness markers included); remote write
carries them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from nightowl.integrations.forward.buffer import Sample
from nightowl.metrics.model import Labels, SampleBatch
from nightowl.metrics.remote.writeproto import HEADERS, compress, encode_write_request

DATADOG_GAUGE = 3


@dataclass(frozen=True)
class Payload:
    body: bytes
    headers: dict[str, str]


def _split(labels: Labels) -> tuple[str, list[tuple[str, str]]]:
    name = next((v for n, v in labels if n == "__name__"), "")
    return name, [(n, v) for n, v in labels if n != "__name__"]


def remote_write(samples: list[Sample], api_key: str) -> Payload:
    body = compress(encode_write_request([SampleBatch.from_rows(samples)]))
    headers = dict(HEADERS)
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return Payload(body, headers)


def datadog(samples: list[Sample], api_key: str) -> Payload:
    series: dict[Labels, dict[str, object]] = {}
    for labels, ts, value in samples:
        if math.isnan(value):
            continue
        entry = series.get(labels)
        if entry is None:
            name, rest = _split(labels)
            entry = series[labels] = {
                "metric": name,
                "type": DATADOG_GAUGE,
                "points": [],
                "tags": [f"{n}:{v}" for n, v in rest],
            }
        points = entry["points"]
        assert isinstance(points, list)
        points.append({"timestamp": ts // 1000, "value": value})
    body = json.dumps({"series": list(series.values())}, separators=(",", ":")).encode()
    return Payload(body, {"Content-Type": "application/json", "DD-API-KEY": api_key})


def newrelic(samples: list[Sample], api_key: str) -> Payload:
    metrics = []
    for labels, ts, value in samples:
        if math.isnan(value):
            continue
        name, rest = _split(labels)
        metrics.append({"name": name, "type": "gauge", "value": value, "timestamp": ts, "attributes": dict(rest)})
    body = json.dumps([{"metrics": metrics}], separators=(",", ":")).encode()
    return Payload(body, {"Content-Type": "application/json", "Api-Key": api_key})


@dataclass(frozen=True)
class Kind:
    """One forwarder type: its encoder, the path it posts to under `url`, and its default `url`."""

    encode: Callable[[list[Sample], str], Payload]
    path: str
    default_url: str


KINDS: dict[str, Kind] = {
    "remote_write": Kind(remote_write, "", ""),
    "datadog": Kind(datadog, "/api/v2/series", "https://api.datadoghq.com"),
    "newrelic": Kind(newrelic, "/metric/v1", "https://metric-api.newrelic.com"),
}
