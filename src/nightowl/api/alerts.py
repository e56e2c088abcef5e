"""`/api/v1/alerts`: alerts of the rule evaluator with their lifecycle, history, acknowledge/snooze/resolve."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.alerting.store import HistoryQuery, history
from nightowl.alerting.views import alert_view, rfc3339
from nightowl.api.deps import Principal, get_nightowl, requires
from nightowl.core.errors import InvalidInput
from nightowl.routing.durations import parse_duration
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

STATES = {"pending", "firing", "resolved"}


def _time(value: str | None, field: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is neither a unix time nor RFC 3339", field=field) from None


def _label_filters(values: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidInput(f"label filter {item!r} must be name=value", field="label")
        out.append((name, value))
    return tuple(out)


@router.get("", summary="Alerts of the alerting rules", dependencies=[Depends(requires("read"))])
def list_alerts(
    state: str | None = None,
    rule: str | None = None,
    alertname: str | None = None,
    severity: str | None = None,
    label: list[str] = Query([]),
    nightowl: Nightowl = Depends(get_nightowl),
) -> dict[str, Any]:
    if state is not None and state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(sorted(STATES))}", field="state")
    filters = _label_filters(label)
    now = nightowl.clock.now()
    items = []
    for rid, inst in nightowl.rules.evaluator.all_instances():
        if state and inst.state != state or rule and rid != rule:
            continue
        if alertname and inst.labels.get("alertname") != alertname:
            continue
        if severity and inst.labels.get("severity") != severity:
            continue
        if any(inst.labels.get(k) != v for k, v in filters):
            continue
        items.append(alert_view(rid, inst, now))
    items.sort(key=lambda a: (a["state"] != "firing", a["alertname"], a["id"]))
    return {"items": items}


@router.get("/history", summary="Every state transition of alerts", dependencies=[Depends(requires("read"))])
async def alert_history(
    rule: str = "",
    alertname: str = "",
    severity: str = "",
    fingerprint: str = "",
    label: list[str] = Query([]),
    since: str | None = None,
    until: str | None = None,
    limit: int = Query(100, ge=1, le=10000),
    nightowl: Nightowl = Depends(get_nightowl),
) -> dict[str, Any]:
    q = HistoryQuery(
        rule,
        alertname,
        fingerprint,
        severity,
        _label_filters(label),
        _time(since, "since"),
        _time(until, "until"),
        limit,
    )
    rows = await run_in_threadpool(history, nightowl.engine, q)
    for row in rows:
        row["at"] = rfc3339(row["at"])
    return {"items": rows}


@router.get("/{alert_id}", summary="One alert", dependencies=[Depends(requires("read"))])
def get_alert(alert_id: str, nightowl: Nightowl = Depends(get_nightowl)) -> dict[str, Any]:
    rid, inst = nightowl.rules.evaluator.find(alert_id)
    return alert_view(rid, inst, nightowl.clock.now())


class Note(BaseModel):
    note: str = Field("", max_length=2000)


class Snooze(BaseModel):
    until: str | None = Field(None, description="Unix time or RFC 3339.")
    duration: str | None = Field(None, alias="for", description="A duration from now, e.g. 2h.")
    note: str = Field("", max_length=2000)


@router.post("/{alert_id}/acknowledge", summary="Acknowledge an alert (stops its escalation)")
def acknowledge(
    alert_id: str,
    body: Note | None = None,
    who: Principal = Depends(requires("write")),
    nightowl: Nightowl = Depends(get_nightowl),
) -> dict[str, Any]:
    inst = nightowl.rules.evaluator.acknowledge(alert_id, who.actor, body.note if body else "")
    rid, _ = nightowl.rules.evaluator.find(alert_id)
    return alert_view(rid, inst, nightowl.clock.now())


@router.post("/{alert_id}/snooze", summary="Stop notifying about an alert until a time")
def snooze(
    alert_id: str,
    body: Snooze,
    who: Principal = Depends(requires("write")),
    nightowl: Nightowl = Depends(get_nightowl),
) -> dict[str, Any]:
    now = nightowl.clock.now()
    if (body.until is None) == (body.duration is None):
        raise InvalidInput("set exactly one of 'until' and 'for'", field="until")
    until = _time(body.until, "until") if body.until else now + parse_duration(body.duration or "", "for")
    if until is None or until <= now:
        raise InvalidInput("the snooze must end in the future", field="until")
    inst = nightowl.rules.evaluator.snooze(alert_id, until, who.actor, body.note)
    rid, _ = nightowl.rules.evaluator.find(alert_id)
    return alert_view(rid, inst, now)


@router.post("/{alert_id}/resolve", summary="Resolve an alert by hand")
def resolve(
    alert_id: str,
    body: Note | None = None,
    who: Principal = Depends(requires("write")),
    nightowl: Nightowl = Depends(get_nightowl),
) -> dict[str, Any]:
    inst = nightowl.rules.evaluator.resolve(alert_id, who.actor, body.note if body else "")
    rid, _ = nightowl.rules.evaluator.find(alert_id)
    return alert_view(rid, inst, nightowl.clock.now())
