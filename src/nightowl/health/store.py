"""Checks, their states, transitions and heartbeat pings in the state database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from nightowl.auth.secrets import SecretBox
from nightowl.core.errors import Conflict, NotFound
from nightowl.health.heartbeat import LastPings, PingKind
from nightowl.health.model import Check, CheckState, Transition
from nightowl.health.spec import CheckSpec
from nightowl.health.tables import health_check_states, health_checks, health_transitions, heartbeat_pings

TRANSITIONS_KEPT_SECONDS = 400 * 86400
"""Transitions older than this are deleted: uptime looks back one year at most."""
PINGS_KEPT = 100
"""Pings kept per heartbeat; older ones are pruned as new ones arrive."""


def encode_spec(spec: CheckSpec, box: SecretBox | None) -> str:
    """The definition as stored: encrypted when a SecretBox is given (targets and headers hold credentials)."""
    text = spec.model_dump_json()
    return box.encrypt(text) if box is not None else text


def decode_spec(stored: str, box: SecretBox | None) -> CheckSpec:
    return CheckSpec.model_validate_json(
        box.decrypt(stored) if box is not None and not stored.startswith("{") else stored
    )


def _check(row: object, box: SecretBox | None) -> Check:
    mapping = row._mapping  # type: ignore[attr-defined]
    return Check(
        id=mapping["id"],
        spec=decode_spec(mapping["spec"], box),
        source=mapping["source"],
        ping_uuid=mapping["ping_uuid"],
        created_at=mapping["created_at"],
    )


def load_checks(engine: Engine, box: SecretBox | None) -> list[Check]:
    with engine.connect() as conn:
        return [_check(r, box) for r in conn.execute(select(health_checks).order_by(health_checks.c.name))]


def get_check(engine: Engine, check_id: str, box: SecretBox | None) -> Check:
    with engine.connect() as conn:
        row = conn.execute(select(health_checks).where(health_checks.c.id == check_id)).first()
    if row is None:
        raise NotFound(f"no check with id {check_id!r}", field="id")
    return _check(row, box)


def insert_check(engine: Engine, check: Check, now: float, box: SecretBox | None) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(health_checks).values(
                    id=check.id,
                    name=check.spec.name,
                    type=check.spec.type,
                    spec=encode_spec(check.spec, box),
                    source=check.source,
                    ping_uuid=check.ping_uuid,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise Conflict(f"a check named {check.spec.name!r} already exists", field="name") from None


def update_check(engine: Engine, check_id: str, spec: CheckSpec, now: float, box: SecretBox | None) -> None:
    try:
        with engine.begin() as conn:
            result = conn.execute(
                update(health_checks)
                .where(health_checks.c.id == check_id)
                .values(name=spec.name, type=spec.type, spec=encode_spec(spec, box), updated_at=now)
            )
    except IntegrityError:
        raise Conflict(f"a check named {spec.name!r} already exists", field="name") from None
    if result.rowcount == 0:
        raise NotFound(f"no check with id {check_id!r}", field="id")


def delete_check(engine: Engine, check_id: str) -> None:
    with engine.begin() as conn:
        for table in (health_transitions, heartbeat_pings, health_check_states):
            column = table.c.check_id
            conn.execute(delete(table).where(column == check_id))
        conn.execute(delete(health_checks).where(health_checks.c.id == check_id))


def load_states(engine: Engine) -> dict[str, CheckState]:
    with engine.connect() as conn:
        rows = conn.execute(select(health_check_states)).mappings().all()
    return {
        r["check_id"]: CheckState(
            state=r["state"],
            since=r["since"],
            failures=r["failures"],
            successes=r["successes"],
            last_run_at=r["last_run_at"],
            last_outcome=r["last_outcome"],
            last_latency=r["last_latency"],
            last_error=r["last_error"],
            tls_expiry=r["tls_expiry"],
        )
        for r in rows
    }


def _state_values(state: CheckState) -> dict[str, object]:
    return {
        "state": state.state,
        "since": state.since,
        "failures": state.failures,
        "successes": state.successes,
        "last_run_at": state.last_run_at,
        "last_outcome": state.last_outcome,
        "last_latency": state.last_latency,
        "last_error": state.last_error,
        "tls_expiry": state.tls_expiry,
    }


def save(engine: Engine, states: dict[str, CheckState], transitions: Iterable[Transition]) -> None:
    """Write changed states and new transitions in one transaction. Rows of deleted checks are skipped."""
    with engine.begin() as conn:
        known = set(conn.execute(select(health_checks.c.id)).scalars())
        for check_id, state in states.items():
            if check_id not in known:
                continue
            values = _state_values(state)
            where = health_check_states.c.check_id == check_id
            if conn.execute(update(health_check_states).where(where).values(**values)).rowcount == 0:
                conn.execute(insert(health_check_states).values(check_id=check_id, **values))
        rows = [
            {
                "check_id": t.check_id,
                "at": t.at,
                "previous": t.previous,
                "state": t.state,
                "reason": t.reason[:2000],
                "suppressed": t.suppressed,
                "suppressed_by": t.suppressed_by,
            }
            for t in transitions
            if t.check_id in known
        ]
        if rows:
            conn.execute(insert(health_transitions), rows)


@dataclass(frozen=True)
class TransitionRow:
    check_id: str
    at: float
    previous: str
    state: str
    reason: str
    suppressed: bool
    suppressed_by: str | None


def state_changes(engine: Engine, check_ids: list[str], start: float, end: float) -> dict[str, list[tuple[float, str]]]:
    """(at, new state) per check, in time order: those in [start, end] plus the last one before
    `start` (the state at `start`). Only the columns uptime needs, for a year of history."""
    found: dict[str, list[tuple[float, str]]] = {cid: [] for cid in check_ids}
    if not check_ids:
        return found
    c = health_transitions.c
    with engine.connect() as conn:
        before = (
            select(c.check_id, func.max(c.at).label("at"))
            .where(c.check_id.in_(check_ids), c.at < start)
            .group_by(c.check_id)
            .subquery()
        )
        earlier = conn.execute(
            select(c.check_id, c.at, c.state).join(before, and_(c.check_id == before.c.check_id, c.at == before.c.at))
        ).all()
        within = conn.execute(
            select(c.check_id, c.at, c.state)
            .where(c.check_id.in_(check_ids), c.at >= start, c.at <= end)
            .order_by(c.at, c.id)
        ).all()
    for check_id, at, state in [*earlier, *within]:
        found[check_id].append((at, state))
    return found


def recent_transitions(engine: Engine, check_id: str, limit: int) -> list[TransitionRow]:
    c = health_transitions.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(health_transitions).where(c.check_id == check_id).order_by(c.at.desc(), c.id.desc()).limit(limit)
        ).mappings()
        return [
            TransitionRow(
                r["check_id"], r["at"], r["previous"], r["state"], r["reason"], r["suppressed"], r["suppressed_by"]
            )
            for r in rows
        ]


@dataclass(frozen=True)
class Ping:
    check_id: str
    at: float
    kind: PingKind
    exit_code: int | None = None
    duration: float | None = None
    body: str | None = None
    remote_addr: str | None = None
    user_agent: str | None = None


def insert_ping(engine: Engine, ping: Ping) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(heartbeat_pings).values(
                check_id=ping.check_id,
                at=ping.at,
                kind=ping.kind,
                exit_code=ping.exit_code,
                duration=ping.duration,
                body=ping.body,
                remote_addr=(ping.remote_addr or "")[:64] or None,
                user_agent=(ping.user_agent or "")[:200] or None,
            )
        )
        _prune_pings(conn, ping.check_id)


def _prune_pings(conn: Connection, check_id: str) -> None:
    c = heartbeat_pings.c
    cutoff = conn.execute(
        select(c.id).where(c.check_id == check_id).order_by(c.id.desc()).offset(PINGS_KEPT).limit(1)
    ).scalar()
    if cutoff is not None:
        conn.execute(delete(heartbeat_pings).where(c.check_id == check_id, c.id <= cutoff))


def recent_pings(engine: Engine, check_id: str, limit: int) -> list[Ping]:
    c = heartbeat_pings.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(heartbeat_pings).where(c.check_id == check_id).order_by(c.id.desc()).limit(limit)
        ).mappings()
        return [
            Ping(
                r["check_id"],
                r["at"],
                r["kind"],
                r["exit_code"],
                r["duration"],
                r["body"],
                r["remote_addr"],
                r["user_agent"],
            )
            for r in rows
        ]


def last_pings(engine: Engine) -> dict[str, LastPings]:
    """The latest ping time of each kind for every heartbeat."""
    c = heartbeat_pings.c
    latest: dict[str, LastPings] = {}
    with engine.connect() as conn:
        rows = conn.execute(select(c.check_id, c.kind, func.max(c.at)).group_by(c.check_id, c.kind)).all()
    for check_id, kind, at in rows:
        latest[check_id] = latest.get(check_id, LastPings()).record(kind, float(at))
    return latest


def prune_transitions(engine: Engine, now: float) -> int:
    """Delete transitions uptime no longer needs, keeping each check's latest (its current state)."""
    c = health_transitions.c
    cutoff = now - TRANSITIONS_KEPT_SECONDS
    latest = select(func.max(c.id)).group_by(c.check_id)
    with engine.begin() as conn:
        return int(conn.execute(delete(health_transitions).where(c.at < cutoff, c.id.not_in(latest))).rowcount)
