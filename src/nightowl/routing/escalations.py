"""Escalations in the database, advanced by the `escalations` job; acknowledgement is a plain function call.

The alert lifecycle (API, UI, the rule evaluator later) calls `acknowledge(fingerprint, by)`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from nightowl.core.clock import Clock
from nightowl.core.errors import Conflict, NotFound
from nightowl.core.ids import new_id
from nightowl.routing import escalation as machine
from nightowl.routing import tables
from nightowl.routing.alert import Alert
from nightowl.routing.escalation import Escalation, EscalationPolicy
from nightowl.routing.router import AlertStatus
from nightowl.routing.store import upsert

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EscalationNotice:
    """Tell one receiver about an escalation step, an acknowledgement or a resolution."""

    escalation_id: str
    receiver: str
    alert: Alert
    kind: str  # escalation | acknowledgement | resolved
    note: str


NoticeSink = Callable[[Connection, EscalationNotice], object]
AlertSource = Callable[[], list[tuple[Alert, AlertStatus]]]


def _alert_json(alert: Alert) -> str:
    return json.dumps(
        {
            "labels": alert.labels,
            "annotations": alert.annotations,
            "starts_at": alert.starts_at,
            "ends_at": alert.ends_at,
            "generator_url": alert.generator_url,
        }
    )


def _row_to_escalation(row: Any) -> Escalation:
    data = json.loads(row["alert"])
    return Escalation(
        id=row["id"],
        policy_id=row["policy_id"],
        fingerprint=row["fingerprint"],
        alert=Alert(data["labels"], data["annotations"], data["starts_at"], data["ends_at"], data["generator_url"]),
        level=row["level"],
        cycle=row["cycle"],
        next_at=row["next_at"],
        status=row["status"],
        started_at=row["started_at"],
        acknowledged_by=row["acknowledged_by"],
    )


def _save(conn: Connection, e: Escalation, now: float) -> None:
    values = {
        "id": e.id,
        "policy_id": e.policy_id,
        "fingerprint": e.fingerprint,
        "alert": _alert_json(e.alert),
        "level": e.level,
        "cycle": e.cycle,
        "next_at": e.next_at,
        "status": e.status,
        "started_at": e.started_at,
        "acknowledged_by": e.acknowledged_by,
        "updated_at": now,
    }
    upsert(conn, tables.escalations, values, ["id"])


class Escalations:
    def __init__(self, engine: Engine, clock: Clock, alerts: AlertSource) -> None:
        self.engine = engine
        self.clock = clock
        self.alerts = alerts
        self.sinks: list[NoticeSink] = []
        self.ack_listeners: list[Callable[[Escalation], object]] = []
        self._lock = threading.Lock()

    # --- policies ---

    def policies(self) -> list[EscalationPolicy]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tables.escalation_policies).order_by(tables.escalation_policies.c.name))
            return [self._policy(r) for r in rows.mappings()]

    @staticmethod
    def _policy(row: Any) -> EscalationPolicy:
        spec = {
            "name": row["name"],
            "matchers": row["matchers"],
            "levels": json.loads(row["levels"]),
            "repeat": row["repeat"],
            "auto_resolve": row["auto_resolve"],
        }
        return machine.parse_policy(row["id"], spec)

    def get_policy(self, policy_id: str) -> EscalationPolicy:
        for policy in self.policies():
            if policy.id == policy_id:
                return policy
        raise NotFound(f"escalation policy {policy_id!r} not found", field="id")

    def put_policy(self, policy_id: str | None, spec: dict[str, Any]) -> EscalationPolicy:
        policy = machine.parse_policy(policy_id or new_id(), spec)
        data = machine.policy_to_dict(policy)
        if policy_id is not None:
            self.get_policy(policy_id)
        with self.engine.begin() as conn:
            clash = conn.execute(
                select(tables.escalation_policies.c.id).where(
                    tables.escalation_policies.c.name == policy.name, tables.escalation_policies.c.id != policy.id
                )
            ).first()
            if clash is not None:
                raise Conflict(f"an escalation policy named {policy.name!r} exists", field="name")
            values = {
                "id": policy.id,
                "name": policy.name,
                "matchers": data["matchers"],
                "levels": json.dumps(data["levels"]),
                "repeat": policy.repeat,
                "auto_resolve": policy.auto_resolve,
                "updated_at": self.clock.now(),
            }
            upsert(conn, tables.escalation_policies, values, ["id"])
        return policy

    def delete_policy(self, policy_id: str) -> None:
        with self.engine.begin() as conn:
            t = tables.escalation_policies
            if conn.execute(delete(t).where(t.c.id == policy_id)).rowcount == 0:
                raise NotFound(f"escalation policy {policy_id!r} not found", field="id")

    def seed(self) -> None:
        """The default policies, on first start only (an emptied table stays empty... until reinstalled)."""
        with self.engine.connect() as conn:
            if conn.execute(select(tables.escalation_policies.c.id).limit(1)).first() is not None:
                return
            if conn.execute(select(tables.escalations.c.id).limit(1)).first() is not None:
                return
        for spec in machine.SEED_POLICIES:
            self.put_policy(None, dict(spec))

    # --- escalations ---

    def list_escalations(self, status: str | None = None) -> list[Escalation]:
        t = tables.escalations
        query = select(t).order_by(t.c.started_at.desc())
        if status is not None:
            query = query.where(t.c.status == status)
        with self.engine.connect() as conn:
            return [_row_to_escalation(r) for r in conn.execute(query).mappings()]

    def _notify(
        self, conn: Connection, e: Escalation, receivers: list[str] | tuple[str, ...], kind: str, note: str
    ) -> None:
        for receiver in receivers:
            for sink in self.sinks:
                sink(conn, EscalationNotice(e.id, receiver, e.alert, kind, note))

    def run(self) -> None:
        """The `escalations` job: start, advance and close escalations."""
        now = self.clock.now()
        policies = {p.id: p for p in self.policies()}
        current = {a.fingerprint: (a, s) for a, s in self.alerts()}
        with self._lock, self.engine.begin() as conn:
            live = [
                _row_to_escalation(r)
                for r in conn.execute(
                    select(tables.escalations).where(
                        tables.escalations.c.status.in_([machine.OPEN, machine.ACKNOWLEDGED, machine.EXHAUSTED])
                    )
                ).mappings()
            ]
            handled = {e.fingerprint for e in live}
            for e in live:
                policy = policies.get(e.policy_id)
                alert, _ = current.get(e.fingerprint, (None, None))
                if policy is None or alert is None or alert.resolved(now):
                    closed = replace(e, status=machine.RESOLVED, next_at=None)
                    _save(conn, closed, now)
                    if policy is not None and policy.auto_resolve and e.status != machine.ACKNOWLEDGED:
                        receivers = machine.notified_receivers(e, policy)
                        self._notify(conn, closed, receivers, "resolved", f"resolved ({policy.name})")
                    continue
                if e.status != machine.OPEN:
                    continue
                advanced, steps = machine.advance(e, policy, now)
                for step in steps:
                    note = f"escalated to level {step.level + 1} of {policy.name}"
                    self._notify(conn, advanced, step.receivers, "escalation", note)
                if advanced != e:
                    _save(conn, advanced, now)
            for fingerprint, (alert, status) in current.items():
                if fingerprint in handled or alert.resolved(now) or status.state != "active":
                    continue
                policy = next((p for p in policies.values() if p.applies_to(alert)), None)
                if policy is None:
                    continue
                started, step = machine.start(new_id(), policy, alert, now)
                _save(conn, started, now)
                self._notify(conn, started, step.receivers, "escalation", f"level 1 of {policy.name}")

    def acknowledge(self, fingerprint: str, by: str) -> Escalation:
        """Stop the open escalation of an alert; everyone notified so far hears who acknowledged it."""
        now = self.clock.now()
        policies = {p.id: p for p in self.policies()}
        with self._lock, self.engine.begin() as conn:
            t = tables.escalations
            row = (
                conn.execute(select(t).where(t.c.fingerprint == fingerprint, t.c.status == machine.OPEN))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"no open escalation for alert {fingerprint!r}", field="fingerprint")
            e = _row_to_escalation(row)
            acked = replace(e, status=machine.ACKNOWLEDGED, next_at=None, acknowledged_by=by)
            _save(conn, acked, now)
            policy = policies.get(e.policy_id)
            if policy is not None:
                self._notify(
                    conn, acked, machine.notified_receivers(e, policy), "acknowledgement", f"acknowledged by {by}"
                )
        for listener in self.ack_listeners:
            try:
                listener(acked)
            except Exception:
                log.exception("acknowledgement listener failed", extra={"fingerprint": fingerprint})
        return acked
