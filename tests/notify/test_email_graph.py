"""E-mails carry a small graph of each alert's expression over the last hour, inline as a PNG."""

from __future__ import annotations

import email
import io
from dataclasses import replace

import numpy as np
from PIL import Image

from nightowl.core.clock import ManualClock
from nightowl.metrics.api import QueryResult
from nightowl.metrics.model import Series, labels_from_dict
from nightowl.notify.channels.email import build_email
from nightowl.notify.graph import HEIGHT, WIDTH, AlertGraphs, GraphQuery, graph_query, render_png, series_of_alert
from tests.notify.factories import T0, alert_view, message


def url(expr: str) -> str:
    from urllib.parse import quote

    return f"http://nightowl.example/prometheus/graph?g0.expr={quote(expr)}&g0.tab=1"


def series(values: list[float], **labels: str) -> Series:
    stamps = np.array([int((T0 - 3600 + 60 * i) * 1000) for i in range(len(values))], dtype=np.int64)
    return Series(labels_from_dict({"__name__": "latency", **labels}), stamps, np.array(values, dtype=np.float64))


def test_a_comparison_with_a_number_becomes_the_graphed_side_and_a_threshold() -> None:
    assert graph_query(url('rate(x{job="a"}[5m]) > 0.2')) == GraphQuery('rate(x{job="a"}[5m])', 0.2)
    assert graph_query(url("10000 < sum(active_users)")) == GraphQuery("sum(active_users)", 10000.0)
    # `bool` keeps the comparison: the expression itself is what is graphed
    assert graph_query(url("x > bool 1")) == GraphQuery("x > bool 1")
    assert graph_query(url("up == 0")) == GraphQuery("up", 0.0)
    assert graph_query(url("absent(up)")) == GraphQuery("absent(up)")
    assert graph_query("http://prometheus.example/graph") is None
    assert graph_query(url("sum(")) is None
    # Prometheus 3 syntax promql-parser cannot read on its own is graphed as written
    assert graph_query(url("increase(x[10m] anchored) > 5")) == GraphQuery("increase(x[10m] anchored)", 5.0)


def test_only_the_series_the_alert_came_from_are_drawn() -> None:
    both = [series([1, 2], instance="api-1"), series([3, 4], instance="api-2")]
    alert_labels = {"alertname": "Slow", "instance": "api-1", "severity": "warning"}
    assert [dict(s.labels)["instance"] for s in series_of_alert(both, alert_labels)] == ["api-1"]


def test_the_graph_is_a_png_with_a_threshold_line() -> None:
    png = render_png([series([0.1, 0.15, 0.3, float("nan"), 0.35])], 0.2, T0 - 3600, T0)
    assert png is not None
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    colours = {image.getpixel((x, y)) for x in range(WIDTH) for y in range(HEIGHT)}
    assert (0xD9, 0x30, 0x25) in colours  # the dashed threshold
    assert (0x1A, 0x73, 0xE8) in colours  # the series
    assert render_png([series([float("nan")])], None, T0 - 3600, T0) is None


def test_the_email_shows_the_graph_inline_by_content_id() -> None:
    png = render_png([series([1.0, 2.0, 3.0])], None, T0 - 3600, T0)
    assert png is not None
    alert = alert_view()
    mail = email.message_from_bytes(
        bytes(build_email(message(), {"from": "a@x", "to": ["b@x"]}, T0, {alert.fingerprint: png}))
    )
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    [image] = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    cid = "".join(str(image["Content-ID"]).split()).strip("<>")  # the header may be folded
    assert f'src="cid:{cid}"' in html
    assert image.get_payload(decode=True) == png
    assert next(p for p in mail.walk() if p.get_content_type() == "text/plain")  # the text part is still there


class FakeEngine:
    """Answers range queries from fixed series, recording what was asked."""

    def __init__(self, answer: list[Series], fail: bool = False) -> None:
        self.answer = answer
        self.fail = fail
        self.asked: list[tuple[str, int, int, int]] = []

    def instant(self, query: str, time_ms: int, *, timeout_s: float | None = None) -> QueryResult:
        raise AssertionError("graphs use range queries")

    def range(
        self, query: str, start_ms: int, end_ms: int, step_ms: int, *, timeout_s: float | None = None
    ) -> QueryResult:
        self.asked.append((query, start_ms, end_ms, step_ms))
        if self.fail:
            raise TimeoutError("query timed out")
        return QueryResult("matrix", self.answer)


def test_alert_graphs_query_the_last_hour_once_per_expression_and_never_fail_the_mail() -> None:
    clock = ManualClock(T0)
    engine = FakeEngine([series([1.0, 5.0, 9.0], instance="api-1")])
    two = (
        replace(alert_view(instance="api-1"), generator_url=url("latency > 4")),
        replace(alert_view(instance="api-2"), generator_url=url("latency > 4"), fingerprint="ff"),
    )
    graphs = AlertGraphs(lambda: engine, clock).render(message("firing", "alert", *two))
    assert list(graphs) == [two[0].fingerprint]  # api-2 has no series: no graph rather than an empty one
    assert engine.asked == [("latency", int((T0 - 3600) * 1000), int(T0 * 1000), 60_000)]

    broken = FakeEngine([], fail=True)
    assert AlertGraphs(lambda: broken, clock).render(message("firing", "alert", *two)) == {}
