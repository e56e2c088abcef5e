"""A small graph for e-mails: the last hour of the series an alert came from, with its threshold.

The alert's generator URL carries its expression (`g0.expr`, as Prometheus writes it, for Nightowl's
own rules and for alerts posted by Prometheus alike). A top-level comparison with a number is split
into the graphed side and a threshold line, so the graph shows the value approaching the limit rather
than only the points where it was already over.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import numpy as np
import promql_parser

from nightowl.core.clock import Clock
from nightowl.metrics.api import QueryEngine
from nightowl.metrics.model import Series
from nightowl.notify.message import Message
from nightowl.promql import extended
from nightowl.promql.errors import PromQLError
from nightowl.promql.parse import parse

if TYPE_CHECKING:
    from PIL import ImageDraw

log = logging.getLogger(__name__)

COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
WIDTH, HEIGHT = 560, 150
MAX_LINES = 5
MAX_GRAPHS = 5  # per message: a group of many alerts shows the first few
WINDOW_SECONDS = 3600.0
STEP_SECONDS = 60.0
QUERY_TIMEOUT_SECONDS = 5.0
COLOURS = (
    "#1a73e8",
    "#e37400",
    "#188038",
    "#9334e6",
    "#d01884",
    "#007b83",
    "#b06000",
    "#5f6368",
    "#3949ab",
    "#7cb342",
)
"""Line colours, in series order; also the legend colours of /prometheus/graph."""


@dataclass(frozen=True)
class GraphQuery:
    expr: str
    threshold: float | None = None


def graph_query(generator_url: str) -> GraphQuery | None:
    """The expression to graph, from a Prometheus-style generator URL; None when there is none to parse."""
    exprs = parse_qs(urlsplit(generator_url).query).get("g0.expr")
    if not exprs:
        return None
    try:  # through the engine's parse, which also takes Prometheus 3 syntax promql-parser lacks
        node = parse(exprs[0], len(exprs[0]))
    except PromQLError:
        return None
    if isinstance(node, promql_parser.BinaryExpr) and str(node.op) in COMPARISONS:
        returns_bool = node.modifier is not None and node.modifier.return_bool
        if not returns_bool and isinstance(node.rhs, promql_parser.NumberLiteral):
            return GraphQuery(extended.restore(node.lhs.prettify()), float(node.rhs.val))
        if not returns_bool and isinstance(node.lhs, promql_parser.NumberLiteral):
            return GraphQuery(extended.restore(node.rhs.prettify()), float(node.lhs.val))
    return GraphQuery(exprs[0])


def series_of_alert(series: Sequence[Series], labels: dict[str, str]) -> list[Series]:
    """The series whose labels the alert carries (an alert adds rule labels such as severity, never removes)."""
    return [s for s in series if all(labels.get(k) == v for k, v in s.labels if k != "__name__")][:MAX_LINES]


def render_png(
    series: Sequence[Series], threshold: float | None, start_s: float, end_s: float, span: str = "1h"
) -> bytes | None:
    """A line chart as PNG bytes (one line per series, in `COLOURS` order), or None when nothing finite is there."""
    from PIL import Image, ImageDraw  # imported here: only e-mails with a graph pay for Pillow

    lines = [(s.timestamps / 1000.0, s.values) for s in series]
    finite = [v[np.isfinite(v)] for _, v in lines]
    values = np.concatenate(finite) if finite else np.empty(0)
    if values.size == 0:
        return None
    low, high = float(values.min()), float(values.max())
    if threshold is not None and math.isfinite(threshold):
        low, high = min(low, threshold), max(high, threshold)
    if high == low:
        low, high = low - 1.0, high + 1.0
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad

    left, right, top, bottom = 56, WIDTH - 8, 8, HEIGHT - 18
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)

    def x_of(ts: float) -> float:
        return left + (ts - start_s) / (end_s - start_s) * (right - left)

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    draw.rectangle((left, top, right, bottom), outline="#dadce0")
    for value in (high - pad, low + pad):
        draw.text((4, y_of(value) - 6), _short(value), fill="#5f6368")
    draw.text((left, bottom + 4), f"-{span}", fill="#5f6368")
    draw.text((right - 24, bottom + 4), "now", fill="#5f6368")
    if threshold is not None and math.isfinite(threshold):
        y = y_of(threshold)
        for x in range(left, right, 8):
            draw.line((x, y, min(x + 4, right), y), fill="#d93025", width=1)
    for (times, vals), colour in zip(lines, COLOURS, strict=False):
        points: list[tuple[float, float]] = []
        for ts, value in zip(times.tolist(), vals.tolist(), strict=True):
            if math.isfinite(value) and start_s <= ts <= end_s:
                points.append((x_of(ts), y_of(value)))
            else:
                _flush(draw, points, colour)
                points = []
        _flush(draw, points, colour)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _flush(draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], colour: str) -> None:
    if len(points) > 1:
        draw.line(points, fill=colour, width=2, joint="curve")
    elif points:
        x, y = points[0]
        draw.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=colour)


def _short(value: float) -> str:
    magnitude = abs(value)
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


class AlertGraphs:
    """Renders a graph per alert of a message (by fingerprint) from the last hour, through PromQL.

    A graph is a courtesy: any failure (a query error, a timeout, nothing to draw) means no graph,
    never a failed delivery.
    """

    def __init__(self, engine: Callable[[], QueryEngine], clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def render(self, message: Message) -> dict[str, bytes]:
        end = self.clock.now()
        start = end - WINDOW_SECONDS
        results: dict[str, list[Series]] = {}
        graphs: dict[str, bytes] = {}
        for alert in message.alerts[:MAX_GRAPHS]:
            query = graph_query(alert.generator_url)
            if query is None:
                continue
            try:
                if query.expr not in results:
                    answer = self.engine().range(
                        query.expr,
                        int(start * 1000),
                        int(end * 1000),
                        int(STEP_SECONDS * 1000),
                        timeout_s=QUERY_TIMEOUT_SECONDS,
                    )
                    results[query.expr] = answer.series if answer.result_type == "matrix" else []
                png = render_png(series_of_alert(results[query.expr], alert.labels), query.threshold, start, end)
            except Exception as exc:
                log.info("no graph for alert", extra={"expr": query.expr, "error": str(exc)})
                results[query.expr] = []
                continue
            if png is not None:
                graphs[alert.fingerprint] = png
        return graphs
