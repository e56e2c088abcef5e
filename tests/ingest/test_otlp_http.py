from __future__ import annotations

import gzip
import json

import httpx
from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from nightowl.metrics.model import Matcher

OTLP_JSON = {
    "resourceMetrics": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "billing"}}]},
            "scopeMetrics": [
                {
                    "metrics": [
                        {
                            "name": "invoices.open",
                            "unit": "{invoice}",
                            "gauge": {"dataPoints": [{"asInt": "12", "timeUnixNano": "1700000000000000000"}]},
                        },
                        {
                            "name": "invoices.created",
                            "sum": {
                                "isMonotonic": True,
                                "aggregationTemporality": 1,
                                "dataPoints": [{"asInt": "3", "timeUnixNano": "1700000000000000000"}],
                            },
                        },
                    ]
                }
            ],
        }
    ]
}


def stored(app: FastAPI, name: str) -> dict[tuple[tuple[str, str], ...], list[float]]:
    series = app.state.nightowl.storage.select([Matcher("__name__", "=", name)], -(2**62), 2**62)
    return {s.labels: s.values.tolist() for s in series}


async def test_otlp_json_is_stored_and_answered_with_partial_success(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/metrics", json=OTLP_JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["partialSuccess"]["rejectedDataPoints"] == "1"
    assert "delta temporality" in body["partialSuccess"]["errorMessage"]
    assert stored(app, "invoices_open") == {(("__name__", "invoices_open"), ("job", "billing")): [12.0]}
    assert stored(app, "invoices_created_total") == {}
    metrics = (await client.get("/metrics")).text
    assert 'nightowl_ingest_rejected_samples_total{protocol="otlp",reason="delta_temporality"} 1.0' in metrics


async def test_otlp_rejects_bad_bodies_and_content_types(app: FastAPI, client: httpx.AsyncClient) -> None:
    protobuf = {"Content-Type": "application/x-protobuf"}
    assert (await client.post("/v1/metrics", content=b"\x0a\xff\xff", headers=protobuf)).status_code == 400
    assert (
        await client.post("/v1/metrics", content=b"{not json", headers={"Content-Type": "application/json"})
    ).status_code == 400
    assert (await client.post("/v1/metrics", content=b"x", headers={"Content-Type": "text/plain"})).status_code == 415
    gzipped = gzip.compress(json.dumps(OTLP_JSON).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert (await client.post("/v1/metrics", content=gzipped, headers=headers)).status_code == 200


def test_the_opentelemetry_sdk_exporter_round_trips_every_instrument(live_app: tuple[FastAPI, str]) -> None:
    app, url = live_app
    exporter = OTLPMetricExporter(endpoint=f"{url}/v1/metrics", compression=Compression.Gzip, timeout=10)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create(
        {"service.name": "checkout", "service.namespace": "shop", "service.instance.id": "pod-7", "region": "eu"}
    )
    provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter = provider.get_meter("nightowl.tests")
    meter.create_counter("orders.placed", unit="{order}").add(3, {"payment.method": "card"})
    meter.create_up_down_counter("cart.items").add(5)
    meter.create_histogram("checkout.duration", unit="s").record(0.3)
    meter.create_observable_gauge(
        "room.temperature", unit="Cel", callbacks=[lambda _options: [Observation(21.5, {"room": "server"})]]
    )
    provider.shutdown()  # collects and exports once more, synchronously

    job = (("instance", "pod-7"), ("job", "shop/checkout"))
    assert stored(app, "orders_placed_total") == {
        (("__name__", "orders_placed_total"), *job, ("payment_method", "card")): [3.0]
    }
    assert stored(app, "cart_items") == {(("__name__", "cart_items"), *job): [5.0]}
    assert stored(app, "room_temperature_celsius") == {
        (("__name__", "room_temperature_celsius"), *job, ("room", "server")): [21.5]
    }
    buckets = {dict(k)["le"]: v[0] for k, v in stored(app, "checkout_duration_seconds_bucket").items()}
    assert buckets["+Inf"] == 1.0 and buckets["0"] == 0.0 and buckets["5"] == 1.0
    assert list(stored(app, "checkout_duration_seconds_sum").values()) == [[0.3]]
    info = next(iter(stored(app, "target_info")))
    assert dict(info)["region"] == "eu" and dict(info)["telemetry_sdk_language"] == "python"
    assert dict(info)["job"] == "shop/checkout"
