"""/prometheus/graph: the page behind the "Source" links of alerts and notifications (Prometheus's path and
`g0.expr` parameter), with the expression's graph over a chosen range and its current values.

Server-rendered, no JavaScript: it has to work from a link in an e-mail. The graph is the PNG that
e-mails carry (notify/graph.py), served by /prometheus/graph.png.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse
from jinja2.sandbox import SandboxedEnvironment

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput, NotFound
from nightowl.notify.graph import COLOURS, render_png
from nightowl.promql.errors import PromQLError
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/prometheus", tags=["graph"], dependencies=[Depends(requires("read"))])
Runtime = Annotated[Nightowl, Depends(get_nightowl)]

RANGES = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "1d": 86400, "7d": 7 * 86400}
POINTS = 120
MAX_ROWS = 50
MAX_EXPR = 10_000
Expr = Annotated[str, Query(alias="g0.expr", max_length=MAX_EXPR, description="PromQL expression.")]
Range = Annotated[str, Query(alias="g0.range_input", description="15m, 1h, 6h, 1d or 7d.")]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nightowl - {{ expr or "graph" }}</title>
<style>
body { font-family: -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif; margin: 16px; color: #202124; }
form { display: flex; gap: 8px; flex-wrap: wrap; max-width: 900px; }
textarea { flex: 1 1 420px; font-family: ui-monospace, monospace; font-size: 14px; min-height: 2.4em; }
.error { color: #d93025; white-space: pre-wrap; }
table { border-collapse: collapse; font-size: 14px; margin-top: 12px; max-width: 900px; width: 100%; }
td, th { border-bottom: 1px solid #dadce0; padding: 4px 8px; text-align: left; vertical-align: top; }
td.v { font-family: ui-monospace, monospace; text-align: right; white-space: nowrap; }
img { max-width: 100%; height: auto; margin-top: 12px; }
.key { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
</style></head>
<body>
<form method="get" action="graph">
  <textarea name="g0.expr" aria-label="PromQL expression">{{ expr }}</textarea>
  <select name="g0.range_input" aria-label="range">
  {% for name in ranges %}<option{% if name == range_input %} selected{% endif %}>{{ name }}</option>{% endfor %}
  </select>
  <button type="submit">Run</button>
</form>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
{% if expr and not error %}
<img src="graph.png?{{ image_query }}" width="560" height="150" alt="{{ expr }} over the last {{ range_input }}">
<table>
<tr><th>series (the first {{ colours }} are drawn)</th><th>value now</th></tr>
{% for labels, value, colour in rows %}<tr>
<td>{% if colour %}<span class="key" style="background:{{ colour }}"></span>{% endif %}{{ labels }}</td>
<td class="v">{{ value }}</td></tr>
{% else %}<tr><td colspan="2">no data</td></tr>{% endfor %}
</table>
{% if more %}<p>{{ more }} more series not shown.</p>{% endif %}
{% endif %}
</body></html>
"""
_env = SandboxedEnvironment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_page = _env.from_string(PAGE)


def _range_seconds(range_input: str) -> float:
    if range_input not in RANGES:
        raise InvalidInput(f"g0.range_input must be one of {', '.join(RANGES)}", field="g0.range_input")
    return float(RANGES[range_input])


def _label_text(labels: tuple[tuple[str, str], ...]) -> str:
    name = next((v for k, v in labels if k == "__name__"), "")
    rest = ", ".join(f'{k}="{v}"' for k, v in labels if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


@router.get("/graph", response_class=HTMLResponse, summary="A graph and the current values of an expression")
async def graph_page(nightowl: Runtime, expr: Expr = "", range_input: Range = "1h") -> HTMLResponse:
    _range_seconds(range_input)
    context: dict[str, Any] = {
        "expr": expr,
        "range_input": range_input,
        "ranges": list(RANGES),
        "rows": [],
        "more": 0,
        "colours": len(COLOURS),
    }
    status = 200
    if expr:
        context["image_query"] = urlencode({"g0.expr": expr, "g0.range_input": range_input})
        now_ms = int(nightowl.clock.now() * 1000)
        try:
            result = await nightowl.query_gate.run(
                lambda remaining: nightowl.query_engine.instant(expr, now_ms, timeout_s=remaining),
                nightowl.settings.query_timeout,
            )
        except PromQLError as exc:
            context["error"], status = exc.message, 422
        else:
            if result.result_type == "scalar" and result.scalar is not None:
                context["rows"] = [("scalar", repr(result.scalar[1]), COLOURS[0])]
            elif result.result_type == "string" and result.string is not None:
                context["rows"] = [("string", result.string[1], "")]
            else:
                series = sorted((s for s in result.series if len(s.values)), key=lambda s: s.labels)
                context["rows"] = [
                    (_label_text(s.labels), repr(float(s.values[-1])), COLOURS[i] if i < len(COLOURS) else "")
                    for i, s in enumerate(series[:MAX_ROWS])
                ]
                context["more"] = max(0, len(series) - MAX_ROWS)
    return HTMLResponse(_page.render(**context), status_code=status)


@router.get(
    "/graph.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="The expression over the range as a PNG line chart",
)
async def graph_png(nightowl: Runtime, expr: Expr, range_input: Range = "1h") -> Response:
    seconds = _range_seconds(range_input)
    end = nightowl.clock.now()
    start = end - seconds
    step_ms = max(1000, int(seconds * 1000 / POINTS))
    try:
        result = await nightowl.query_gate.run(
            lambda remaining: nightowl.query_engine.range(
                expr, int(start * 1000), int(end * 1000), step_ms, timeout_s=remaining
            ),
            nightowl.settings.query_timeout,
        )
    except PromQLError as exc:
        raise InvalidInput(f"g0.expr: {exc.message}", field="g0.expr") from None
    lines = sorted(result.series, key=lambda s: s.labels)[: len(COLOURS)] if result.result_type == "matrix" else []
    png = render_png(lines, None, start, end, span=range_input)
    if png is None:
        raise NotFound("nothing to draw: the expression has no data points in the range", field="g0.expr")
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})
