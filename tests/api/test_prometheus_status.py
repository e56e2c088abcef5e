"""The status, metadata and federation endpoints against Prometheus 2.42 scraping the same target:
both answer alike for /federate, /targets/metadata and /status/tsdb."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from nightowl.app import create_app
from nightowl.config import load_settings
from tests.conftest import credential_for, requires
from tests.support import remote_servers
from tests.support.live import serving
from tests.support.remote_servers import MetricsServer

pytestmark = [] if remote_servers.available("prometheus") else [requires("prometheus", "apt-get install prometheus")]

EXPOSITION = b"""# HELP fed_requests_total Requests served.
# TYPE fed_requests_total counter
fed_requests_total{code="200",path="/a"} 1027
fed_requests_total{code="500",path="/a"} 3
fed_requests_total{code="200",path="/b"} 12
# HELP fed_temperature_celsius Temperature "inside".
# TYPE fed_temperature_celsius gauge
fed_temperature_celsius{room="lab\\"1"} 21.5
fed_temperature_celsius{room="hall",region="us"} 1234567
fed_temperature_celsius{room="cellar"} 0.000012
# HELP fed_latency_seconds Latency.
# TYPE fed_latency_seconds histogram
fed_latency_seconds_bucket{le="0.1"} 5
fed_latency_seconds_bucket{le="+Inf"} 9
fed_latency_seconds_sum 1.5e-7
fed_latency_seconds_count 9
# HELP fed_mode Only help.
fed_mode{mode="a"} 1
fed_untyped 42
"""


class _Exporter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(EXPOSITION)

    def log_message(self, *args: Any) -> None:
        pass


class Pair:
    def __init__(self, url: str, key: str, prometheus: MetricsServer) -> None:
        self.url, self.prometheus = url, prometheus
        self.headers = {"Authorization": f"Bearer {key}"}

    def ours(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}/prometheus{path}", params=params, headers=self.headers, timeout=30)

    def theirs(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.prometheus.url}{path}", params=params, timeout=30)


def _scraped(get: Any) -> bool:
    body = get("/api/v1/query", query='fed_untyped{job="fed"}').json()
    return bool(body["data"]["result"])


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    exporter = ThreadingHTTPServer(("127.0.0.1", 0), _Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    target = f"127.0.0.1:{exporter.server_address[1]}"
    job = {"job_name": "fed", "scrape_interval": "1s", "static_configs": [{"targets": [target]}]}
    root: Path = tmp_path_factory.mktemp("status")
    settings = load_settings(
        None, data_dir=root / "data", scrape_configs=[job], **{"global": {"external_labels": {"region": "eu"}}}
    )
    app = create_app(settings)
    config = (
        "global:\n  scrape_interval: 1s\n  external_labels:\n    region: eu\n"
        f"scrape_configs:\n  - job_name: fed\n    static_configs:\n      - targets: ['{target}']\n"
    )
    prometheus = remote_servers.start("prometheus", config)
    try:
        with serving(app) as url:
            found = Pair(url, credential_for(app, scopes=["read"]), prometheus)
            deadline = time.monotonic() + 30
            while not (_scraped(found.ours) and _scraped(found.theirs)):
                assert time.monotonic() < deadline, "the target was not scraped by both"
                time.sleep(0.2)  # waiting for real scrapes by two servers, not for logic
            yield found
    finally:
        prometheus.stop()
        exporter.shutdown()


def _without_timestamps(text: str) -> list[str]:
    return [re.sub(r" \d+$", "", line) for line in text.splitlines()]


@pytest.mark.parametrize(
    "selectors",
    [['{__name__=~"fed_.*"}'], ["up", 'fed_requests_total{code="200"}', "fed_requests_total"], ['{job="none"}']],
)
def test_federate_writes_what_prometheus_writes(pair: Pair, selectors: list[str]) -> None:
    ours = pair.ours("/federate", **{"match[]": selectors})
    theirs = pair.theirs("/federate", **{"match[]": selectors})
    assert ours.status_code == theirs.status_code == 200
    assert ours.headers["content-type"] == theirs.headers["content-type"]
    assert _without_timestamps(ours.text) == _without_timestamps(theirs.text)


def test_federate_answers_bad_selectors_and_none_as_prometheus(pair: Pair) -> None:
    for params in ({"match[]": ["up{"]}, {"match[]": ["rate(up[5m])"]}):
        ours, theirs = pair.ours("/federate", **params), pair.theirs("/federate", **params)
        assert ours.status_code == theirs.status_code == 400
    ours, theirs = pair.ours("/federate"), pair.theirs("/federate")
    assert ours.status_code == theirs.status_code == 200 and ours.text == theirs.text == ""


def _key(entry: dict[str, Any]) -> str:
    return repr(sorted(entry.items()))


@pytest.mark.parametrize(
    "params", [{}, {"metric": "fed_temperature_celsius"}, {"match_target": '{job="fed"}'}, {"metric": "nope"}]
)
def test_targets_metadata_matches_prometheus(pair: Pair, params: dict[str, str]) -> None:
    ours = pair.ours("/api/v1/targets/metadata", **params).json()
    theirs = pair.theirs("/api/v1/targets/metadata", **params).json()
    assert ours["status"] == theirs["status"] == "success"
    assert sorted(ours["data"], key=_key) == sorted(theirs["data"], key=_key)


def test_status_tsdb_counts_as_prometheus(pair: Pair) -> None:
    ours = pair.ours("/api/v1/status/tsdb").json()["data"]
    theirs = pair.theirs("/api/v1/status/tsdb").json()["data"]
    assert set(ours) == set(theirs)
    for field in ("numSeries", "numLabelPairs"):
        assert ours["headStats"][field] == theirs["headStats"][field], field
    assert set(ours["headStats"]) == set(theirs["headStats"])
    for name, items in theirs.items():
        if name == "headStats":
            continue
        values = [item["value"] for item in items]
        assert [item["value"] for item in ours[name]] == values, name
        # entries whose count is unique in the list name the same thing (ties are in no particular order)
        unique = {item["name"] for item in items if values.count(item["value"]) == 1}
        assert unique <= {item["name"] for item in ours[name]}, name


def test_status_tsdb_limit(pair: Pair) -> None:
    data = pair.ours("/api/v1/status/tsdb", limit="2").json()["data"]
    assert [len(data[k]) for k in data if k != "headStats"] == [2, 2, 2, 2]
    assert pair.ours("/api/v1/status/tsdb", limit="x").status_code == 400


def test_probes_answer_as_prometheus(pair: Pair) -> None:
    for path in ("/-/healthy", "/-/ready"):
        ours = httpx.get(f"{pair.url}/prometheus{path}", timeout=10)  # no credentials: probes are public
        theirs = pair.theirs(path)
        assert (ours.status_code, ours.text, ours.headers["content-type"]) == (
            theirs.status_code,
            theirs.text,
            theirs.headers["content-type"],
        )


def test_config_and_flags_have_prometheus_shape(pair: Pair) -> None:
    ours = pair.ours("/api/v1/status/config").json()["data"]["yaml"]
    theirs = pair.theirs("/api/v1/status/config").json()["data"]["yaml"]

    ours_doc, theirs_doc = yaml.safe_load(ours), yaml.safe_load(theirs)
    assert ours_doc["global"]["external_labels"] == theirs_doc["global"]["external_labels"] == {"region": "eu"}
    (our_job,), (their_job,) = ours_doc["scrape_configs"], theirs_doc["scrape_configs"]
    for field in ("job_name", "honor_timestamps", "scrape_interval", "scrape_timeout", "metrics_path", "scheme"):
        assert our_job[field] == their_job[field], field
    assert our_job["static_configs"] == their_job["static_configs"]
    flags = pair.ours("/api/v1/status/flags").json()["data"]
    their_flags = pair.theirs("/api/v1/status/flags").json()["data"]
    assert set(flags) <= set(their_flags) | {"web.route-prefix"}
    assert flags["query.lookback-delta"] == their_flags["query.lookback-delta"] == "5m"
    assert all(isinstance(v, str) for v in flags.values())


def test_a_prometheus_federating_from_nightowl_gets_every_series(pair: Pair) -> None:
    """Hierarchical federation: `honor_labels: true`, `match[]` params, a `read` API key."""
    host = pair.url.removeprefix("http://")
    token = pair.headers["Authorization"].removeprefix("Bearer ")
    config = (
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: federate\n    honor_labels: true\n"
        "    metrics_path: /prometheus/federate\n"
        "    params:\n      'match[]': ['{job=\"fed\"}']\n"
        f"    authorization:\n      credentials: {token}\n"
        f"    static_configs:\n      - targets: ['{host}']\n"
    )
    federating = remote_servers.start("prometheus", config)
    try:
        query = '{__name__=~"fed_.*"}'
        deadline = time.monotonic() + 30
        while True:
            got = httpx.get(f"{federating.url}/api/v1/query", params={"query": query}, timeout=10).json()
            if got["data"]["result"]:
                break
            assert time.monotonic() < deadline, "the federating Prometheus got nothing"
            time.sleep(0.2)  # waiting for a real scrape, not for logic
    finally:
        federating.stop()
    source = pair.theirs("/api/v1/query", query=query).json()["data"]["result"]
    expected = {}
    for item in source:  # the external label as /federate adds it, where the series lacks one
        metric = dict(item["metric"])
        metric.setdefault("region", "eu")
        expected[repr(sorted(metric.items()))] = item["value"][1]
    assert {repr(sorted(i["metric"].items())): i["value"][1] for i in got["data"]["result"]} == expected
