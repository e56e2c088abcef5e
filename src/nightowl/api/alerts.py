"""`/api/v1/alerts`: the one alert inbox, with lifecycle, history, acknowledge/snooze/resolve.

It lists the alerts of Nightowl's rules (`source: rule`) and those received on `/api/v2/alerts` from a
Prometheus or vmalert (`source: received`) alike; the actions work on both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.alerting import received
from nightowl.alerting.state import Instance
from nightowl.alerting.store import HistoryQuery, history
from nightowl.alerting.views import alert_view, rfc3339
from nightowl.api.deps import Principal, get_nightowl, requires
from nightowl.core.errors import InvalidInput, NotFound
from nightowl.routing.alert import Alert
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


SOURCES = {"rule", "received"}


def _rule_view(rid: str, inst: Instance, now: float) -> dict[str, Any]:
    return {**alert_view(rid, inst, now), "source": "rule"}


@router.get(
    "",
    summary="Every alert: of Nightowl's rules and received on /api/v2/alerts",
    dependencies=[Depends(requires("read"))],
)
def list_alerts(
    state: str | None = None,
    rule: str | None = None,
    alertname: str | None = None,
    severity: str | None = None,
    source: str | None = Query(None, description="rule or received; unset: both"),
    label: list[str] = Query([]),
    nightowl: Nightowl = Depends(get_nightowl),
) -> dict[str, Any]:
    if state is not None and state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(sorted(STATES))}", field="state")
    if source is not None and source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(sorted(SOURCES))}", field="source")
    filters = _label_filters(label)
    now = nightowl.clock.now()
    items: list[dict[str, Any]] = []
    instances = nightowl.rules.evaluator.all_instances()
    if source != "received":
        items.extend(_rule_view(rid, inst, now) for rid, inst in instances)
    if source != "rule" and not rule:
        ours = {inst.fingerprint for _, inst in instances}
        outside = [(a, s) for a, s in nightowl.pipeline.dispatcher.alerts() if a.fingerprint not in ours]
        handled = received.handling(nightowl.engine, (a for a, _ in outside))
        items.extend(received.received_view(a, s, handled.get(a.fingerprint), now) for a, s in outside)

    def wanted(item: dict[str, Any]) -> bool:
        labels: dict[str, str] = item["labels"]
        return not (
            state
            and item["state"] != state
            or rule
            and item["rule"] != rule
            or alertname
            and labels.get("alertname") != alertname
            or severity
            and labels.get("severity") != severity
            or any(labels.get(k) != v for k, v in filters)
        )

    items = [item for item in items if wanted(item)]
    items.sort(key=lambda a: (a["state"] != "firing", a["alertname"], a["id"]))
    return {"items": items}


def _received(nightowl: Nightowl, alert_id: str) -> Alert:
    for alert, _ in nightowl.pipeline.dispatcher.alerts():
        if alert.fingerprint == alert_id:
            return alert
    raise NotFound(f"no alert {alert_id!r}", field="id")


def _received_view(nightowl: Nightowl, alert_id: str) -> dict[str, Any]:
    for alert, status in nightowl.pipeline.dispatcher.alerts():
        if alert.fingerprint == alert_id:
            handled = received.handling(nightowl.engine, [alert])
            return received.received_view(alert, status, handled.get(alert_id), nightowl.clock.now())
    raise NotFound(f"no alert {alert_id!r}", field="id")


def _is_rule_alert(nightowl: Nightowl, alert_id: str) -> bool:
    try:
        nightowl.rules.evaluator.find(alert_id)
    except NotFound:
        return False
    return True


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
    if not _is_rule_alert(nightowl, alert_id):
        return _received_view(nightowl, alert_id)
    rid, inst = nightowl.rules.evaluator.find(alert_id)
    return _rule_view(rid, inst, nightowl.clock.now())


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
    note = body.note if body else ""
    if not _is_rule_alert(nightowl, alert_id):
        alert = _received(nightowl, alert_id)
        received.record(nightowl.engine, alert, received.ACKNOWLEDGED, nightowl.clock.now(), who.actor, note)
        try:
            nightowl.pipeline.escalations.acknowledge(alert_id, who.actor)
        except NotFound:
            pass
        return _received_view(nightowl, alert_id)
    inst = nightowl.rules.evaluator.acknowledge(alert_id, who.actor, note)
    rid, _ = nightowl.rules.evaluator.find(alert_id)
    return _rule_view(rid, inst, nightowl.clock.now())


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
    if not _is_rule_alert(nightowl, alert_id):
        alert = _received(nightowl, alert_id)
        nightowl.rules.evaluator.silence(alert.labels, until, who.actor, body.note or f"snoozed alert {alert_id}")
        received.record(nightowl.engine, alert, received.SNOOZED, now, who.actor, body.note, until)
        return _received_view(nightowl, alert_id)
    inst = nightowl.rules.evaluator.snooze(alert_id, until, who.actor, body.note)
    rid, _ = nightowl.rules.evaluator.find(alert_id)
    return _rule_view(rid, inst, now)


@router.post("/{alert_id}/resolve", summary="Resolve an alert by hand")
def resolve(
    alert_id: str,
    body: Note | None = None,
    who: Principal = Depends(requires("write")),
    nightowl: Nightowl = Depends(get_nightowl),
) -> dict[str, Any]:
    note = body.note if body else ""
    if not _is_rule_alert(nightowl, alert_id):
        # As in Alertmanager: the alert ends now; if its source still fires it, its next send opens it again.
        alert = _received(nightowl, alert_id)
        now = nightowl.clock.now()
        if not alert.resolved(now):
            nightowl.pipeline.dispatcher.receive(
                [Alert(alert.labels, alert.annotations, alert.starts_at, now, alert.generator_url)]
            )
            received.record(nightowl.engine, alert, received.RESOLVED, now, who.actor, note)
        return _received_view(nightowl, alert_id)
    inst = nightowl.rules.evaluator.resolve(alert_id, who.actor, note)
    rid, _ = nightowl.rules.evaluator.find(alert_id)
    return _rule_view(rid, inst, nightowl.clock.now())
