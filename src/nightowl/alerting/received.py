"""Alerts received on `/api/v2/alerts` (from Prometheus, vmalert...) in the same inbox as the rules' alerts.

The dispatcher holds them; what people do to them (acknowledge, snooze, resolve) is recorded in the
alert history under the rule name `RECEIVED`, and their current acknowledgement and snooze are read
back from it, so they survive a restart like the rules' alerts do. For a snooze, the history row's
value is the time it ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, select

from nightowl.alerting import store, tables
from nightowl.alerting.state import Transition
from nightowl.alerting.views import rfc3339
from nightowl.routing.alert import Alert
from nightowl.routing.router import AlertStatus

RECEIVED = "received"
ACKNOWLEDGED, SNOOZED, RESOLVED = "acknowledged", "snoozed", "resolved"


@dataclass(frozen=True)
class Handling:
    """What people did to one received alert during its current occurrence."""

    acknowledged_by: str = ""
    acknowledged_at: float | None = None
    acknowledged_note: str = ""
    snoozed_until: float | None = None


def handling(engine: Engine, alerts: Iterable[Alert]) -> dict[str, Handling]:
    """The acknowledgement and snooze of each alert, from history rows since the alert started."""
    started = {a.fingerprint: a.starts_at for a in alerts}
    if not started:
        return {}
    t = tables.history
    stmt = (
        select(t.c.fingerprint, t.c.to_state, t.c.at, t.c.actor, t.c.note, t.c.value)
        .where(t.c.rule == RECEIVED, t.c.fingerprint.in_(list(started)))
        .order_by(t.c.at, t.c.id)
    )
    out: dict[str, Handling] = {}
    with engine.connect() as conn:
        for fp, to_state, at, actor, note, value in conn.execute(stmt):
            if at < started[fp]:
                continue
            h = out.get(fp, Handling())
            if to_state == ACKNOWLEDGED:
                h = replace(h, acknowledged_by=actor, acknowledged_at=at, acknowledged_note=note)
            elif to_state == SNOOZED:
                h = replace(h, snoozed_until=value)
            out[fp] = h
    return out


def received_view(alert: Alert, status: AlertStatus, h: Handling | None, now: float) -> dict[str, Any]:
    """A received alert in the shape of `alert_view`, plus where it came from and its routing state."""
    h = h or Handling()
    resolved = alert.resolved(now)
    snoozed = h.snoozed_until is not None and h.snoozed_until > now
    return {
        "id": alert.fingerprint,
        "source": "received",
        "rule": None,
        "alertname": alert.labels.get("alertname", ""),
        "severity": alert.labels.get("severity", ""),
        "state": "resolved" if resolved else "firing",
        "labels": alert.labels,
        "annotations": alert.annotations,
        "value": None,
        "active_at": rfc3339(alert.starts_at),
        "fired_at": rfc3339(alert.starts_at),
        "resolved_at": rfc3339(alert.ends_at) if resolved else None,
        "keep_firing_since": None,
        "acknowledged": None
        if h.acknowledged_at is None
        else {"by": h.acknowledged_by, "at": rfc3339(h.acknowledged_at), "note": h.acknowledged_note},
        "snoozed_until": rfc3339(h.snoozed_until) if snoozed else None,
        "manually_resolved_by": None,
        "generator_url": alert.generator_url,
        "receivers": status.receivers,
        "silenced_by": status.silenced_by,
    }


def record(engine: Engine, alert: Alert, action: str, at: float, actor: str, note: str, value: float = 0.0) -> None:
    state = "resolved" if alert.resolved(at) else "firing"
    move = Transition(RECEIVED, alert.fingerprint, alert.labels, state, action, at, value)
    with engine.begin() as conn:
        store.record(conn, [move], actor, note)
