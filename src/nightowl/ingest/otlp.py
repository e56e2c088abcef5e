"""OTLP metrics (`ExportMetricsServiceRequest`) -> one `SampleBatch`, the way Prometheus's OTLP receiver maps them.

- gauge -> gauge; monotonic cumulative sum -> counter (`_total`); non-monotonic sum -> gauge;
- histogram -> classic `_bucket{le}` (cumulative), `_sum`, `_count`;
- exponential histogram -> the same classic series, one `le` per exponential bucket boundary;
- summary -> `{quantile}`, `_sum`, `_count`;
- delta temporality is refused per data point (OTLP partial success), as Prometheus does by default;
- resource: `service.namespace/service.name` -> `job`, `service.instance.id` -> `instance`, every other
  attribute -> one `target_info` series (value 1); data point attributes -> labels;
- a data point flagged "no recorded value" becomes a staleness marker.

A few bytes of OTLP can ask for many series (each histogram bucket is one), so buckets per data point
and series per request are bounded while translating, before the series exist (413 naming the limit).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from nightowl.core.errors import LimitExceeded
from nightowl.ingest.errors import MalformedPayload
from nightowl.ingest.otlp_names import MetricKind, Namer
from nightowl.metrics.model import METRIC_NAME, STALE_NAN, Labels, SampleBatch

DELTA = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
NO_RECORDED_VALUE = metrics_pb2.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
SERVICE_ATTRIBUTES = frozenset({"service.name", "service.namespace", "service.instance.id"})
MIN_SCALE, MAX_SCALE = -10, 20
"""The exponential histogram scales OpenTelemetry defines; outside them bucket bounds degenerate."""


@dataclass(frozen=True)
class OtlpLimits:
    """`otlp_max_histogram_buckets` and `otlp_max_series_per_request`."""

    max_histogram_buckets: int = 512
    max_series_per_request: int = 100_000


@dataclass
class Translated:
    batch: SampleBatch
    rejected: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def rejected_points(self) -> int:
        return sum(self.rejected.values())


def go_float(value: float) -> str:
    """A float as Go's strconv.FormatFloat(v, 'f', -1, 64) writes it (how `le` and `quantile` read)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return np.format_float_positional(value, trim="-")


def any_value(value: AnyValue) -> str:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return go_float(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if kind in ("array_value", "kvlist_value"):
        return json.dumps(_plain(value), separators=(",", ":"))
    return ""


def _plain(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_plain(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _plain(kv.value) for kv in value.kvlist_value.values}
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    return any_value(value)


class _Rows:
    """Samples as they are translated, deduplicating label sets."""

    def __init__(self, max_series: int) -> None:
        self.max_series = max_series
        self.index: dict[Labels, int] = {}
        self.ids: list[int] = []
        self.stamps: list[int] = []
        self.values: list[float] = []
        self.metadata: dict[str, tuple[str, str, str]] = {}

    def add(self, labels: Labels, stamp: int, value: float) -> None:
        series_id = self.index.setdefault(labels, len(self.index))
        if series_id == self.max_series:
            raise LimitExceeded(
                f"the request translates into more than otlp_max_series_per_request={self.max_series} series",
                field="resourceMetrics",
                extra={"limit": "otlp_max_series_per_request", "limit_value": self.max_series},
            )
        self.ids.append(series_id)
        self.stamps.append(stamp)
        self.values.append(value)

    def batch(self) -> SampleBatch:
        return SampleBatch(
            list(self.index),
            np.array(self.ids, np.int32),
            np.array(self.stamps, np.int64),
            np.array(self.values, np.float64),
            self.metadata,
        )


class _Translator:
    def __init__(self, namer: Namer, promote: frozenset[str], scope_labels: bool, limits: OtlpLimits) -> None:
        self.namer = namer
        self.promote = promote
        self.scope_labels = scope_labels
        self.limits = limits
        self.rows = _Rows(limits.max_series_per_request)
        self.rejected: dict[str, int] = {}
        self.errors: list[str] = []

    def refuse(self, reason: str, count: int, message: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + count
        if message not in self.errors:
            self.errors.append(message)

    def attributes(self, attributes: Iterable[KeyValue]) -> dict[str, str]:
        """Attributes as labels; keys that collide once normalized are joined with ';' as Prometheus does."""
        grouped: dict[str, list[tuple[str, str]]] = {}
        for kv in attributes:
            name = self.namer.label(kv.key)
            if name:
                grouped.setdefault(name, []).append((kv.key, any_value(kv.value)))
        return {name: ";".join(v for _, v in sorted(pairs)) for name, pairs in grouped.items()}

    def resource(self, resource_metrics: metrics_pb2.ResourceMetrics) -> None:
        attrs = {kv.key: any_value(kv.value) for kv in resource_metrics.resource.attributes}
        base: dict[str, str] = {}
        promoted = [kv for kv in resource_metrics.resource.attributes if kv.key in self.promote]
        base.update(self.attributes(promoted))
        if attrs.get("service.name"):
            namespace = attrs.get("service.namespace")
            base["job"] = f"{namespace}/{attrs['service.name']}" if namespace else attrs["service.name"]
        if attrs.get("service.instance.id"):
            base["instance"] = attrs["service.instance.id"]
        first = len(self.rows.stamps)
        for scope in resource_metrics.scope_metrics:
            labels = {**base, **self.scope(scope.scope)} if self.scope_labels else base
            for metric in scope.metrics:
                self.metric(metric, labels)
        others = [kv for kv in resource_metrics.resource.attributes if kv.key not in SERVICE_ATTRIBUTES]
        if others and len(self.rows.stamps) > first:
            info = self.attributes(others)
            info.update({k: v for k, v in base.items() if k in ("job", "instance")})
            latest = max(self.rows.stamps[first:])
            self.rows.add(_labels("target_info", info), latest, 1.0)
            self.rows.metadata["target_info"] = ("gauge", "Target metadata", "")

    def scope(self, scope: InstrumentationScope) -> dict[str, str]:
        """`otel_scope_name`, `otel_scope_version` and `otel_scope_<attribute>` labels."""
        labels = {self.namer.label(f"otel_scope_{k}"): v for k, v in self.attributes(scope.attributes).items()}
        labels.update(otel_scope_name=scope.name, otel_scope_version=scope.version)
        return labels

    def metric(self, metric: metrics_pb2.Metric, base: dict[str, str]) -> None:
        data = metric.WhichOneof("data")
        if data == "gauge":
            self.numbers(metric, metric.gauge.data_points, "gauge", False, base)
        elif data == "sum":
            total = metric.sum
            if total.aggregation_temporality == DELTA:
                self.delta(metric, len(total.data_points))
                return
            kind: MetricKind = "counter" if total.is_monotonic else "gauge"
            self.numbers(metric, total.data_points, kind, total.is_monotonic, base)
        elif data == "histogram":
            if metric.histogram.aggregation_temporality == DELTA:
                self.delta(metric, len(metric.histogram.data_points))
                return
            self.histograms(metric, base)
        elif data == "exponential_histogram":
            if metric.exponential_histogram.aggregation_temporality == DELTA:
                self.delta(metric, len(metric.exponential_histogram.data_points))
                return
            self.exponential_histograms(metric, base)
        elif data == "summary":
            self.summaries(metric, base)

    def delta(self, metric: metrics_pb2.Metric, count: int) -> None:
        self.refuse(
            "delta_temporality",
            count,
            f"metric {metric.name!r} has delta temporality; configure the exporter for cumulative temporality",
        )

    def name(self, metric: metrics_pb2.Metric, kind: MetricKind, monotonic: bool, points: int) -> str:
        name = self.namer.metric(metric.name, metric.unit, kind, monotonic)
        if not name:
            self.refuse("invalid_metric_name", points, f"metric name {metric.name!r} translates to no valid name")
            return ""
        self.rows.metadata[name] = (kind, metric.description, self.namer.unit(metric.unit))
        return name

    def numbers(
        self,
        metric: metrics_pb2.Metric,
        points: Sequence[metrics_pb2.NumberDataPoint],
        kind: MetricKind,
        monotonic: bool,
        base: dict[str, str],
    ) -> None:
        name = self.name(metric, kind, monotonic, len(points))
        if not name:
            return
        for point in points:
            labels = _labels(name, {**self.attributes(point.attributes), **base})
            if point.flags & NO_RECORDED_VALUE:
                value = STALE_NAN
            elif point.WhichOneof("value") == "as_int":
                value = float(point.as_int)
            else:
                value = point.as_double
            self.rows.add(labels, point.time_unix_nano // 1_000_000, value)

    def _classic(
        self,
        name: str,
        labels: dict[str, str],
        stamp: int,
        stale: bool,
        bounds: Sequence[float],
        cumulative: Sequence[float],
        count: float,
        total: float | None,
    ) -> None:
        add = self.rows.add
        for bound, running in zip(bounds, cumulative, strict=True):
            add(_labels(f"{name}_bucket", {**labels, "le": go_float(bound)}), stamp, STALE_NAN if stale else running)
        add(_labels(f"{name}_bucket", {**labels, "le": "+Inf"}), stamp, STALE_NAN if stale else count)
        if total is not None:
            add(_labels(f"{name}_sum", labels), stamp, STALE_NAN if stale else total)
        add(_labels(f"{name}_count", labels), stamp, STALE_NAN if stale else count)

    def histograms(self, metric: metrics_pb2.Metric, base: dict[str, str]) -> None:
        points = metric.histogram.data_points
        name = self.name(metric, "histogram", False, len(points))
        if not name:
            return
        for point in points:
            self.check_buckets(metric, len(point.explicit_bounds) + 1)
            labels = {**self.attributes(point.attributes), **base}
            bounds = list(point.explicit_bounds)
            counts = list(point.bucket_counts)
            cumulative = np.cumsum(np.array(counts[: len(bounds)], np.float64)).tolist() if counts else []
            bounds = bounds[: len(cumulative)]
            total = point.sum if point.HasField("sum") else None
            stamp = point.time_unix_nano // 1_000_000
            stale = bool(point.flags & NO_RECORDED_VALUE)
            self._classic(name, labels, stamp, stale, bounds, cumulative, float(point.count), total)

    def exponential_histograms(self, metric: metrics_pb2.Metric, base: dict[str, str]) -> None:
        points = metric.exponential_histogram.data_points
        name = self.name(metric, "histogram", False, len(points))
        if not name:
            return
        for point in points:
            self.check_buckets(metric, len(point.negative.bucket_counts) + len(point.positive.bucket_counts) + 2)
            bounds, cumulative = exponential_buckets(point, metric.name)
            labels = {**self.attributes(point.attributes), **base}
            total = point.sum if point.HasField("sum") else None
            stamp = point.time_unix_nano // 1_000_000
            stale = bool(point.flags & NO_RECORDED_VALUE)
            self._classic(name, labels, stamp, stale, bounds, cumulative, float(point.count), total)

    def check_buckets(self, metric: metrics_pb2.Metric, buckets: int) -> None:
        """Each bucket becomes a series: refuse a data point with more than the limit (+Inf counted)."""
        most = self.limits.max_histogram_buckets
        if buckets > most:
            raise LimitExceeded(
                f"a data point of histogram {metric.name[:200]!r} has {buckets} buckets, over "
                f"otlp_max_histogram_buckets={most}",
                field="dataPoints",
                extra={"limit": "otlp_max_histogram_buckets", "limit_value": most},
            )

    def summaries(self, metric: metrics_pb2.Metric, base: dict[str, str]) -> None:
        points = metric.summary.data_points
        name = self.name(metric, "summary", False, len(points))
        if not name:
            return
        for point in points:
            labels = {**self.attributes(point.attributes), **base}
            stamp = point.time_unix_nano // 1_000_000
            stale = bool(point.flags & NO_RECORDED_VALUE)
            for quantile in point.quantile_values:
                quantile_labels = _labels(name, {**labels, "quantile": go_float(quantile.quantile)})
                self.rows.add(quantile_labels, stamp, STALE_NAN if stale else quantile.value)
            self.rows.add(_labels(f"{name}_sum", labels), stamp, STALE_NAN if stale else point.sum)
            self.rows.add(_labels(f"{name}_count", labels), stamp, STALE_NAN if stale else float(point.count))


def exponential_buckets(
    point: metrics_pb2.ExponentialHistogramDataPoint, name: str = ""
) -> tuple[list[float], list[float]]:
    """Upper bounds and cumulative counts of an exponential histogram, ascending, zero bucket included.

    At scale s the base is 2^(2^-s); positive bucket k holds (base^k, base^(k+1)], negative bucket k
    holds [-base^(k+1), -base^k). Raise `MalformedPayload` when the scale or the offsets put bounds
    outside the float range (or make two of them equal), since each bound names a distinct series.
    """
    scale = point.scale
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise MalformedPayload(
            f"exponential histogram {name[:200]!r} has scale {scale}; OpenTelemetry allows {MIN_SCALE} to {MAX_SCALE}",
            field="scale",
        )
    step = 2.0**-scale
    bounds: list[float] = []
    counts: list[float] = []
    negative = point.negative
    for i in range(len(negative.bucket_counts) - 1, -1, -1):
        bounds.append(-_power_of_two((negative.offset + i) * step))
        counts.append(float(negative.bucket_counts[i]))
    bounds.append(point.zero_threshold)
    counts.append(float(point.zero_count))
    positive = point.positive
    for i, count in enumerate(positive.bucket_counts):
        bounds.append(_power_of_two((positive.offset + i + 1) * step))
        counts.append(float(count))
    if not all(math.isfinite(b) for b in bounds) or any(a >= b for a, b in zip(bounds, bounds[1:], strict=False)):
        raise MalformedPayload(
            f"exponential histogram {name[:200]!r}: offsets {negative.offset} (negative) and {positive.offset} "
            f"(positive) at scale {scale} put bucket bounds outside the float range",
            field="offset",
        )
    return bounds, np.cumsum(np.array(counts, np.float64)).tolist()


def _power_of_two(exponent: float) -> float:
    """2^exponent, infinite instead of an OverflowError (the caller refuses infinite bounds)."""
    return math.inf if exponent > 1024 else 2.0**exponent


def _labels(name: str, values: dict[str, str]) -> Labels:
    return tuple(sorted((k, v) for k, v in {**values, METRIC_NAME: name}.items() if v))


def translate(
    request: ExportMetricsServiceRequest,
    namer: Namer | None = None,
    promote: Iterable[str] = (),
    scope_labels: bool = False,
    limits: OtlpLimits | None = None,
) -> Translated:
    """`promote`: resource attributes copied onto every series; `scope_labels`: add `otel_scope_*` labels."""
    translator = _Translator(namer or Namer(), frozenset(promote), scope_labels, limits or OtlpLimits())
    for resource_metrics in request.resource_metrics:
        translator.resource(resource_metrics)
    return Translated(translator.rows.batch(), translator.rejected, translator.errors)
