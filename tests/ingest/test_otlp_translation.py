from __future__ import annotations

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m

from nightowl.ingest.otlp import exponential_buckets, go_float, translate
from nightowl.ingest.otlp_names import Namer
from nightowl.metrics.model import is_stale

T_NS = 1_700_000_000_123_456_789
T_MS = 1_700_000_000_123
CUMULATIVE = m.AGGREGATION_TEMPORALITY_CUMULATIVE


def attrs(**values: object) -> list[KeyValue]:
    out = []
    for key, value in values.items():
        key = key.replace("__", ".")
        if isinstance(value, bool):
            out.append(KeyValue(key=key, value=AnyValue(bool_value=value)))
        elif isinstance(value, int):
            out.append(KeyValue(key=key, value=AnyValue(int_value=value)))
        else:
            out.append(KeyValue(key=key, value=AnyValue(string_value=str(value))))
    return out


def request(*metrics: m.Metric, resource: list[KeyValue] | None = None) -> ExportMetricsServiceRequest:
    rm = m.ResourceMetrics(scope_metrics=[m.ScopeMetrics(metrics=list(metrics))])
    rm.resource.attributes.extend(resource if resource is not None else attrs(service__name="api"))
    return ExportMetricsServiceRequest(resource_metrics=[rm])


def rows(req: ExportMetricsServiceRequest) -> dict[tuple[tuple[str, str], ...], float]:
    batch = translate(req).batch
    return {batch.series[int(i)]: float(v) for i, v in zip(batch.series_index, batch.values, strict=True)}


def named(found: dict[tuple[tuple[str, str], ...], float], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: v for labels, v in found.items() if dict(labels)["__name__"] == name}


@pytest.mark.parametrize(
    ("name", "unit", "kind", "monotonic", "expected"),
    [
        ("http.server.request.duration", "s", "histogram", False, "http_server_request_duration_seconds"),
        ("requests.count", "1", "counter", True, "requests_count_total"),
        ("memory.usage", "By", "gauge", False, "memory_usage_bytes"),
        ("cpu.utilization", "1", "gauge", False, "cpu_utilization_ratio"),
        ("network.io", "By/s", "counter", True, "network_io_bytes_per_second_total"),
        ("jobs_total", "", "counter", True, "jobs_total"),
        ("http.requests", "{request}", "counter", True, "http_requests_total"),
        ("queue.size", "{item}", "gauge", False, "queue_size"),
        ("2xx.responses", "", "gauge", False, "_2xx_responses"),
        ("latency_seconds", "s", "histogram", False, "latency_seconds"),
    ],
)
def test_metric_names_follow_prometheus_underscore_escaping_with_suffixes(
    name: str, unit: str, kind: str, monotonic: bool, expected: str
) -> None:
    assert Namer().metric(name, unit, kind, monotonic) == expected  # type: ignore[arg-type]


def test_label_names_and_other_strategies() -> None:
    namer = Namer()
    assert [namer.label(n) for n in ("http.method", "123abc", "__meta__", "a..b", "...")] == [
        "http_method",
        "key_123abc",
        "__meta__",
        "a_b",
        "",
    ]
    utf8 = Namer("NoUTF8EscapingWithSuffixes")
    assert utf8.metric("http.server.duration", "s", "histogram") == "http.server.duration_seconds"
    assert utf8.label("http.method") == "http.method"
    assert Namer("NoTranslation").metric("http.server.duration", "s", "histogram") == "http.server.duration"
    assert Namer("UnderscoreEscapingWithoutSuffixes").metric("req.count", "1", "counter", True) == "req_count"


def test_gauge_and_counter_get_job_instance_and_point_attributes() -> None:
    found = rows(
        request(
            m.Metric(
                name="temp",
                unit="Cel",
                gauge=m.Gauge(
                    data_points=[m.NumberDataPoint(as_double=21.5, time_unix_nano=T_NS, attributes=attrs(room="hall"))]
                ),
            ),
            m.Metric(
                name="requests",
                sum=m.Sum(
                    is_monotonic=True,
                    aggregation_temporality=CUMULATIVE,
                    data_points=[m.NumberDataPoint(as_int=7, time_unix_nano=T_NS)],
                ),
            ),
            resource=attrs(service__name="checkout", service__namespace="shop", service__instance__id="pod-1"),
        )
    )
    common = (("instance", "pod-1"), ("job", "shop/checkout"))
    assert found[(("__name__", "temp_celsius"), *common, ("room", "hall"))] == 21.5
    assert found[(("__name__", "requests_total"), *common)] == 7.0
    assert named(found, "target_info") == {}


def test_other_resource_attributes_make_one_target_info_series() -> None:
    req = request(
        m.Metric(name="up", gauge=m.Gauge(data_points=[m.NumberDataPoint(as_int=1, time_unix_nano=T_NS)])),
        resource=attrs(service__name="api", service__instance__id="i-1", host__name="web-1", k8s__pod__uid="u"),
    )
    batch = translate(req).batch
    info = [labels for labels in batch.series if dict(labels)["__name__"] == "target_info"]
    assert info == [
        (("__name__", "target_info"), ("host_name", "web-1"), ("instance", "i-1"), ("job", "api"), ("k8s_pod_uid", "u"))
    ]
    assert batch.timestamps.tolist() == [T_MS, T_MS]


def test_promoted_resource_attributes_label_every_series() -> None:
    req = request(
        m.Metric(name="up", gauge=m.Gauge(data_points=[m.NumberDataPoint(as_int=1, time_unix_nano=T_NS)])),
        resource=attrs(service__name="api", deployment__environment="prod"),
    )
    batch = translate(req, promote=["deployment.environment"]).batch
    assert dict(batch.series[0])["deployment_environment"] == "prod"


def test_colliding_attribute_names_are_joined_with_semicolons() -> None:
    point = m.NumberDataPoint(as_int=1, time_unix_nano=T_NS, attributes=attrs(**{"a.b": "1", "a_b": "2"}))
    found = rows(request(m.Metric(name="g", gauge=m.Gauge(data_points=[point]))))
    assert dict(next(iter(found)))["a_b"] == "1;2"


def test_histogram_becomes_classic_buckets_sum_and_count() -> None:
    point = m.HistogramDataPoint(
        time_unix_nano=T_NS, count=6, sum=3.5, explicit_bounds=[0.1, 1.0, 10.0], bucket_counts=[1, 2, 3, 0]
    )
    found = rows(
        request(
            m.Metric(
                name="rpc.duration",
                unit="s",
                histogram=m.Histogram(aggregation_temporality=CUMULATIVE, data_points=[point]),
            )
        )
    )
    buckets = {dict(k)["le"]: v for k, v in named(found, "rpc_duration_seconds_bucket").items()}
    assert buckets == {"0.1": 1.0, "1": 3.0, "10": 6.0, "+Inf": 6.0}
    assert list(named(found, "rpc_duration_seconds_sum").values()) == [3.5]
    assert list(named(found, "rpc_duration_seconds_count").values()) == [6.0]


def test_summary_becomes_quantiles_sum_and_count() -> None:
    point = m.SummaryDataPoint(
        time_unix_nano=T_NS,
        count=10,
        sum=5.0,
        quantile_values=[
            m.SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=0.4),
            m.SummaryDataPoint.ValueAtQuantile(quantile=0.99, value=0.9),
        ],
    )
    found = rows(request(m.Metric(name="latency", unit="ms", summary=m.Summary(data_points=[point]))))
    assert {dict(k)["quantile"]: v for k, v in named(found, "latency_milliseconds").items()} == {
        "0.5": 0.4,
        "0.99": 0.9,
    }
    assert list(named(found, "latency_milliseconds_count").values()) == [10.0]


def test_exponential_histogram_converts_to_cumulative_classic_buckets() -> None:
    point = m.ExponentialHistogramDataPoint(
        time_unix_nano=T_NS,
        scale=0,
        count=7,
        sum=10.0,
        zero_count=1,
        positive=m.ExponentialHistogramDataPoint.Buckets(offset=0, bucket_counts=[2, 3]),
        negative=m.ExponentialHistogramDataPoint.Buckets(offset=0, bucket_counts=[1]),
    )
    bounds, cumulative = exponential_buckets(point)
    assert bounds == [-1.0, 0.0, 2.0, 4.0]
    assert cumulative == [1.0, 2.0, 4.0, 7.0]
    found = rows(
        request(
            m.Metric(
                name="size",
                unit="By",
                exponential_histogram=m.ExponentialHistogram(aggregation_temporality=CUMULATIVE, data_points=[point]),
            )
        )
    )
    assert {dict(k)["le"]: v for k, v in named(found, "size_bytes_bucket").items()} == {
        "-1": 1.0,
        "0": 2.0,
        "2": 4.0,
        "4": 7.0,
        "+Inf": 7.0,
    }


def test_delta_temporality_is_refused_per_point() -> None:
    delta = m.Metric(
        name="requests",
        sum=m.Sum(
            is_monotonic=True,
            aggregation_temporality=m.AGGREGATION_TEMPORALITY_DELTA,
            data_points=[m.NumberDataPoint(as_int=1), m.NumberDataPoint(as_int=2)],
        ),
    )
    ok = m.Metric(name="g", gauge=m.Gauge(data_points=[m.NumberDataPoint(as_int=1, time_unix_nano=T_NS)]))
    translated = translate(request(delta, ok))
    assert translated.rejected == {"delta_temporality": 2}
    assert "delta temporality" in translated.errors[0]
    assert len(translated.batch) == 1


def test_no_recorded_value_flag_is_a_staleness_marker() -> None:
    point = m.NumberDataPoint(time_unix_nano=T_NS, flags=m.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK)
    batch = translate(request(m.Metric(name="g", gauge=m.Gauge(data_points=[point])))).batch
    assert is_stale(batch.values).tolist() == [True]


def test_float_formatting_matches_go() -> None:
    assert [go_float(v) for v in (0.005, 1.0, 2.5e-7, 1e21, float("inf"))] == [
        "0.005",
        "1",
        "0.00000025",
        "1000000000000000000000",
        "+Inf",
    ]


def test_scope_labels_are_added_only_when_asked() -> None:
    req = request(m.Metric(name="g", gauge=m.Gauge(data_points=[m.NumberDataPoint(as_int=1, time_unix_nano=T_NS)])))
    scope = req.resource_metrics[0].scope_metrics[0].scope
    scope.name, scope.version = "checkout.meter", "1.2"
    scope.attributes.extend(attrs(team="pay"))
    assert dict(translate(req).batch.series[0]).keys() == {"__name__", "job"}
    labeled = dict(translate(req, scope_labels=True).batch.series[0])
    assert labeled["otel_scope_name"] == "checkout.meter" and labeled["otel_scope_version"] == "1.2"
    assert labeled["otel_scope_team"] == "pay"
