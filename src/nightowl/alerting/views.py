"""Alerts and rules as the Prometheus HTTP API (`/api/v1/rules`, `/api/v1/alerts`) and Nightowl's own
`/api/v1/alerts` show them: plain dicts from the evaluator's state."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from nightowl.alerting.evaluator import Evaluator, Health, rule_id
from nightowl.alerting.rules import Rule, RuleGroup
from nightowl.alerting.state import Instance, rule_state


def rfc3339(ts: float | None) -> str | None:
    if ts is None:
        return None
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")
    head, _, frac = text.partition(".")
    frac = frac.replace("+00:00", "").rstrip("0")
    return f"{head}.{frac}Z" if frac else f"{head}Z"


def go_float(value: float) -> str:
    """strconv.FormatFloat(v, 'e', -1, 64), how Prometheus prints an alert's value."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = np.format_float_scientific(value, unique=True, exp_digits=2)
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa.rstrip('.')}e{exponent}"


def prom_alert(inst: Instance) -> dict[str, Any]:
    out: dict[str, Any] = {
        "labels": inst.labels,
        "annotations": inst.annotations,
        "state": inst.state,
        "activeAt": rfc3339(inst.active_at),
        "value": go_float(inst.value),
    }
    if inst.keep_firing_since is not None:
        out["keepFiringSince"] = rfc3339(inst.keep_firing_since)
    return out


def _health(h: Health | None) -> dict[str, Any]:
    h = h or Health()
    out: dict[str, Any] = {
        "health": h.health,
        "evaluationTime": h.evaluation_time,
        "lastEvaluation": rfc3339(h.last_evaluation) or "0001-01-01T00:00:00Z",
    }
    if h.last_error:
        out["lastError"] = h.last_error
    return out


def prom_rule(ev: Evaluator, group: RuleGroup, index: int, rule: Rule) -> dict[str, Any]:
    rid = rule_id(group, index, rule)
    out: dict[str, Any] = {"name": rule.name, "query": rule.expr, "labels": rule.labels}
    if rule.alert:
        active = [i for i in ev.instances.get(rid, {}).values() if i.active]
        out.update(
            state=rule_state(active),
            duration=rule.for_s,
            keepFiringFor=rule.keep_firing_for_s,
            annotations=rule.annotations,
            alerts=[prom_alert(i) for i in active],
            type="alerting",
        )
    else:
        out["type"] = "recording"
    out.update(_health(ev.rule_health.get(rid)))
    return out


def prom_groups(
    ev: Evaluator,
    kind: str = "",
    names: set[str] | None = None,
    groups: set[str] | None = None,
    files: set[str] | None = None,
    exclude_alerts: bool = False,
) -> list[dict[str, Any]]:
    out = []
    for group in ev.groups.values():
        if (groups and group.name not in groups) or (files and group.file not in files):
            continue
        rules = []
        for index, rule in enumerate(group.rules):
            if kind == "alert" and not rule.alert or kind == "record" and not rule.record:
                continue
            if names and rule.name not in names:
                continue
            item = prom_rule(ev, group, index, rule)
            if exclude_alerts:
                item.pop("alerts", None)
            rules.append(item)
        if (kind or names) and not rules:
            continue
        gh = ev.group_health.get(group.name) or Health()
        out.append(
            {
                "name": group.name,
                "file": group.file,
                "rules": rules,
                "interval": ev.interval(group),
                "limit": group.limit,
                "evaluationTime": gh.evaluation_time,
                "lastEvaluation": rfc3339(gh.last_evaluation) or "0001-01-01T00:00:00Z",
            }
        )
    return out


def alert_view(rid: str, inst: Instance, now: float) -> dict[str, Any]:
    """One alert in Nightowl's API: the lifecycle state plus acknowledgement and snooze."""
    snoozed = inst.snoozed_until is not None and inst.snoozed_until > now
    return {
        "id": inst.fingerprint,
        "rule": rid,
        "alertname": inst.labels.get("alertname", ""),
        "severity": inst.labels.get("severity", ""),
        "state": inst.state,
        "labels": inst.labels,
        "annotations": inst.annotations,
        "value": inst.value,
        "active_at": rfc3339(inst.active_at),
        "fired_at": rfc3339(inst.fired_at),
        "resolved_at": rfc3339(inst.resolved_at),
        "keep_firing_since": rfc3339(inst.keep_firing_since),
        "acknowledged": None
        if inst.acknowledged_at is None
        else {"by": inst.acknowledged_by, "at": rfc3339(inst.acknowledged_at), "note": inst.acknowledged_note},
        "snoozed_until": rfc3339(inst.snoozed_until) if snoozed else None,
        "manually_resolved_by": inst.manually_resolved_by or None,
    }
