"""The alert lifecycle as a pure function of (previous state, query result, now), like Prometheus's rule
manager: inactive -> pending -> firing -> resolved, with `for`, `keep_firing_for` and a 15 m retention of
resolved alerts (they are re-sent with their end until then). Acknowledgement, snoozing and manual
resolution are annotations of an instance that the evaluator honours."""

from __future__ import annotations

from dataclasses import dataclass, replace

PENDING, FIRING, RESOLVED = "pending", "firing", "resolved"
RESOLVED_RETENTION = 15 * 60.0


@dataclass(frozen=True)
class Instance:
    """One alert of one rule, keyed by the fingerprint of its labels."""

    rule: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    state: str
    active_at: float
    value: float = 0.0
    fired_at: float | None = None
    resolved_at: float | None = None
    keep_firing_since: float | None = None
    last_seen: float = 0.0
    acknowledged_by: str = ""
    acknowledged_at: float | None = None
    acknowledged_note: str = ""
    snoozed_until: float | None = None
    manually_resolved_by: str = ""

    @property
    def active(self) -> bool:
        return self.state in (PENDING, FIRING)


@dataclass(frozen=True)
class Found:
    """One element of the rule's query result, with its labels and annotations already templated."""

    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    value: float


@dataclass(frozen=True)
class Transition:
    rule: str
    fingerprint: str
    labels: dict[str, str]
    from_state: str
    to_state: str
    at: float
    value: float


def step(
    rule: str,
    previous: dict[str, Instance],
    found: list[Found],
    now: float,
    for_s: float,
    keep_firing_for_s: float,
) -> tuple[dict[str, Instance], list[Transition]]:
    """The next state of every alert of one rule, and the transitions that led there."""
    out: dict[str, Instance] = {}
    moves: list[Transition] = []

    def move(inst: Instance, old: str) -> None:
        if inst.state != old:
            moves.append(Transition(rule, inst.fingerprint, inst.labels, old, inst.state, now, inst.value))

    seen: set[str] = set()
    for f in found:
        seen.add(f.fingerprint)
        prev = previous.get(f.fingerprint)
        if prev is None or not prev.active:
            inst = Instance(rule, f.fingerprint, f.labels, f.annotations, PENDING, now, f.value, last_seen=now)
            old = "inactive" if prev is None else prev.state
        else:
            inst = replace(prev, labels=f.labels, annotations=f.annotations, value=f.value, last_seen=now)
            inst = replace(inst, keep_firing_since=None)
            old = prev.state
        if inst.state == PENDING and now - inst.active_at >= for_s:
            inst = replace(inst, state=FIRING, fired_at=now)
        if old == "inactive" and inst.state == FIRING:
            moves.append(Transition(rule, inst.fingerprint, inst.labels, "inactive", PENDING, now, inst.value))
            old = PENDING
        move(inst, old)
        out[f.fingerprint] = inst

    for fp, prev in previous.items():
        if fp in seen:
            continue
        if prev.state == PENDING:
            moves.append(Transition(rule, fp, prev.labels, PENDING, "inactive", now, prev.value))
            continue
        if prev.state == FIRING:
            since = prev.keep_firing_since if prev.keep_firing_since is not None else now
            if keep_firing_for_s > 0 and now - since < keep_firing_for_s:
                out[fp] = replace(prev, keep_firing_since=since)
                continue
            resolved = replace(prev, state=RESOLVED, resolved_at=now, keep_firing_since=None)
            move(resolved, FIRING)
            out[fp] = resolved
            continue
        if prev.resolved_at is not None and now - prev.resolved_at < RESOLVED_RETENTION:
            out[fp] = prev
    return out, moves


def resolve_manually(inst: Instance, now: float, by: str) -> tuple[Instance, Transition]:
    done = replace(inst, state=RESOLVED, resolved_at=now, manually_resolved_by=by, keep_firing_since=None)
    return done, Transition(inst.rule, inst.fingerprint, inst.labels, inst.state, RESOLVED, now, inst.value)


def rule_state(instances: list[Instance]) -> str:
    """A rule's state as /api/v1/rules shows it: the most severe of its active alerts."""
    states = {i.state for i in instances}
    if FIRING in states:
        return FIRING
    if PENDING in states:
        return PENDING
    return "inactive"
