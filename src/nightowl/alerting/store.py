"""Persistence of alert instances and their history in the state database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from nightowl.alerting import tables
from nightowl.alerting.state import Instance, Transition


def load_instances(engine: Engine) -> dict[str, dict[str, Instance]]:
    """Every stored instance, by rule then fingerprint."""
    out: dict[str, dict[str, Instance]] = {}
    with engine.connect() as conn:
        for row in conn.execute(select(tables.instances.c.rule, tables.instances.c.data)):
            inst = Instance(**json.loads(row.data))
            out.setdefault(row.rule, {})[inst.fingerprint] = inst
    return out


def save_rule(conn: Connection, rule: str, instances: dict[str, Instance], now: float) -> None:
    """Replace the stored instances of one rule."""
    t = tables.instances
    conn.execute(delete(t).where(t.c.rule == rule))
    if instances:
        conn.execute(
            insert(t),
            [
                {"rule": rule, "fingerprint": fp, "state": i.state, "data": json.dumps(asdict(i)), "updated_at": now}
                for fp, i in instances.items()
            ],
        )


def forget_rules(conn: Connection, keep: set[str]) -> None:
    """Drop the instances of rules that no longer exist."""
    t = tables.instances
    stored = {r for (r,) in conn.execute(select(t.c.rule).distinct())}
    gone = stored - keep
    if gone:
        conn.execute(delete(t).where(t.c.rule.in_(gone)))


def record(conn: Connection, moves: Sequence[Transition], actor: str = "", note: str = "") -> None:
    if not moves:
        return
    conn.execute(
        insert(tables.history),
        [
            {
                "at": m.at,
                "rule": m.rule,
                "alertname": m.labels.get("alertname", ""),
                "fingerprint": m.fingerprint,
                "severity": m.labels.get("severity", ""),
                "from_state": m.from_state,
                "to_state": m.to_state,
                "value": m.value,
                "labels": json.dumps(m.labels, sort_keys=True),
                "actor": actor,
                "note": note,
            }
            for m in moves
        ],
    )


@dataclass(frozen=True)
class HistoryQuery:
    rule: str = ""
    alertname: str = ""
    fingerprint: str = ""
    severity: str = ""
    label_matchers: tuple[tuple[str, str], ...] = ()
    since: float | None = None
    until: float | None = None
    limit: int = 100


def history(engine: Engine, q: HistoryQuery) -> list[dict[str, Any]]:
    """Transitions, newest first, filtered; label filters match exact values."""
    t = tables.history
    stmt = select(t).order_by(t.c.at.desc(), t.c.id.desc())
    for column, value in ((t.c.rule, q.rule), (t.c.alertname, q.alertname), (t.c.fingerprint, q.fingerprint)):
        if value:
            stmt = stmt.where(column == value)
    if q.severity:
        stmt = stmt.where(t.c.severity == q.severity)
    if q.since is not None:
        stmt = stmt.where(t.c.at >= q.since)
    if q.until is not None:
        stmt = stmt.where(t.c.at <= q.until)
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for row in conn.execute(stmt.limit(q.limit * 20 if q.label_matchers else q.limit)).mappings():
            labels = json.loads(row["labels"])
            if any(labels.get(k) != v for k, v in q.label_matchers):
                continue
            out.append({**dict(row), "labels": labels})
            if len(out) >= q.limit:
                break
    return out


def prune_history(engine: Engine, before: float) -> int:
    """Forget transitions older than `before`; returns how many."""
    with engine.begin() as conn:
        return int(conn.execute(delete(tables.history).where(tables.history.c.at < before)).rowcount or 0)
