"""The HTML of a public status page: one self-contained document, no scripts, no external assets."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

COLORS = {
    "up": "#2f9e44",
    "degraded": "#f08c00",
    "down": "#e03131",
    "maintenance": "#1971c2",
    "unknown": "#adb5bd",
}
MINOR_OUTAGE = 99.0
"""A day with some downtime but at least this much uptime shows amber, not red."""
BANNER_COLORS = {
    "operational": COLORS["up"],
    "degraded": COLORS["degraded"],
    "incident": COLORS["degraded"],
    "outage": COLORS["down"],
}
STYLE = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#212529}
h1{margin-bottom:.2rem}.banner{padding:1rem;border-radius:.4rem;color:#fff;font-weight:600;margin:1rem 0}
.service{border:1px solid #dee2e6;border-radius:.4rem;padding:.8rem 1rem;margin:.6rem 0}
.head{display:flex;justify-content:space-between}.state{font-weight:600}
.bars{display:flex;gap:1px;margin:.5rem 0 .2rem;height:1.8rem}.bars span{flex:1;border-radius:1px}
.muted{color:#868e96;font-size:.85rem}.incident{border-left:4px solid #868e96;padding:.2rem .8rem;margin:.8rem 0}
"""


MONTH, DAY = 30 * 86400.0, 86400.0


def _span(seconds: float) -> str:
    for size, unit in ((DAY, "day"), (3600.0, "hour"), (60.0, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{int(seconds)} seconds"


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _bar(bar: dict[str, Any]) -> str:
    uptime = bar["uptime"]
    state = bar["worst"]
    if state == "down" and uptime is not None and uptime >= MINOR_OUTAGE:
        state = "degraded"
    label = f"{_day(bar['day'])}: " + ("no data" if uptime is None else f"{uptime:.2f}% uptime")
    return f'<span style="background:{COLORS.get(state, COLORS["unknown"])}" title="{escape(label)}"></span>'


def _service(service: dict[str, Any]) -> str:
    state = service["state"]
    month = service["uptime"].get("30d")
    seen = service.get("uptime_observed", {}).get("30d", MONTH)
    over = "over 30 days" if seen >= MONTH - DAY else f"over the {_span(seen)} observed"
    uptime = "no data" if month is None else f"{month:.2f}% uptime {over}"
    description = f'<div class="muted">{escape(service["description"])}</div>' if service["description"] else ""
    return (
        f'<div class="service"><div class="head"><span>{escape(service["name"])}</span>'
        f'<span class="state" style="color:{COLORS.get(state, COLORS["unknown"])}">{escape(state)}</span></div>'
        f"{description}"
        f'<div class="bars">{"".join(_bar(b) for b in service["bars"])}</div>'
        f'<div class="muted">{escape(uptime)}</div></div>'
    )


def _incident(incident: dict[str, Any]) -> str:
    return (
        f'<div class="incident"><strong>{escape(incident["title"])}</strong> '
        f'<span class="muted">{escape(incident["status"])} · {_when(incident["created_at"])}</span>'
        f"<p>{escape(incident['body'])}</p></div>"
    )


def render(view: dict[str, Any]) -> str:
    banner = view["banner"]
    color = BANNER_COLORS.get(banner["level"], COLORS["down"])
    incidents = "".join(_incident(i) for i in view["incidents"]) or '<p class="muted">No incidents reported.</p>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(view['title'])}</title><style>{STYLE}</style></head><body>"
        f'<h1>{escape(view["title"])}</h1><div class="muted">{escape(view["description"])}</div>'
        f'<div class="banner" style="background:{color}">{escape(banner["text"])}</div>'
        f"{''.join(_service(s) for s in view['services'])}"
        f"<h2>Incidents</h2>{incidents}"
        f'<p class="muted">Updated {_when(view["generated_at"])}</p></body></html>'
    )
