"""Rows of the routing tables <-> routing data, and the one upsert both SQLite and PostgreSQL accept."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from nightowl.routing import tables
from nightowl.routing.alert import Alert
from nightowl.routing.grouping import NotifyRecord
from nightowl.routing.matchers import Matcher
from nightowl.routing.silences import Silence


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: Sequence[str]) -> None:
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(table).values(**values)
    updates = {k: statement.excluded[k] for k in values if k not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updates))


def save_alerts(conn: Connection, alerts: Sequence[Alert]) -> None:
    """One batched upsert (executemany) for a whole POST of alerts."""
    if not alerts:
        return
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(tables.alerts)
    columns = ("labels", "annotations", "starts_at", "ends_at", "generator_url", "updated_at")
    statement = statement.on_conflict_do_update(
        index_elements=["fingerprint"], set_={c: statement.excluded[c] for c in columns}
    )
    rows = {
        a.fingerprint: {
            "fingerprint": a.fingerprint,
            "labels": json.dumps(a.labels, sort_keys=True),
            "annotations": json.dumps(a.annotations, sort_keys=True),
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "generator_url": a.generator_url,
            "updated_at": a.updated_at,
        }
        for a in alerts
    }
    conn.execute(statement, list(rows.values()))


def load_alerts(conn: Connection) -> list[Alert]:
    rows = conn.execute(select(tables.alerts).order_by(tables.alerts.c.starts_at)).mappings()
    return [
        Alert(
            labels=json.loads(r["labels"]),
            annotations=json.loads(r["annotations"]),
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            generator_url=r["generator_url"],
            updated_at=r["updated_at"],
            fingerprint=r["fingerprint"],
        )
        for r in rows
    ]


def delete_alerts(conn: Connection, fingerprints: Sequence[str]) -> None:
    if fingerprints:
        conn.execute(delete(tables.alerts).where(tables.alerts.c.fingerprint.in_(list(fingerprints))))


def load_record(conn: Connection, group_key: str, receiver: str) -> NotifyRecord | None:
    t = tables.notify_log
    row = conn.execute(select(t).where(t.c.group_key == group_key, t.c.receiver == receiver)).mappings().first()
    if row is None:
        return None
    return NotifyRecord(frozenset(json.loads(row["firing"])), frozenset(json.loads(row["resolved"])), row["timestamp"])


def save_record(conn: Connection, group_key: str, receiver: str, record: NotifyRecord) -> None:
    values = {
        "group_key": group_key,
        "receiver": receiver,
        "firing": json.dumps(sorted(record.firing)),
        "resolved": json.dumps(sorted(record.resolved)),
        "timestamp": record.timestamp,
    }
    upsert(conn, tables.notify_log, values, ["group_key", "receiver"])


def silence_to_row(silence: Silence) -> dict[str, Any]:
    return {
        "id": silence.id,
        "matchers": json.dumps([[m.name, m.op, m.value] for m in silence.matchers]),
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "created_by": silence.created_by,
        "comment": silence.comment,
        "updated_at": silence.updated_at,
    }


def row_to_silence(row: Any) -> Silence:
    return Silence(
        id=row["id"],
        matchers=tuple(Matcher(n, op, v) for n, op, v in json.loads(row["matchers"])),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_by=row["created_by"],
        comment=row["comment"],
        updated_at=row["updated_at"],
    )


def load_silences(conn: Connection) -> list[Silence]:
    rows = conn.execute(select(tables.silences).order_by(tables.silences.c.starts_at)).mappings()
    return [row_to_silence(r) for r in rows]


def save_silence(conn: Connection, silence: Silence) -> None:
    upsert(conn, tables.silences, silence_to_row(silence), ["id"])
