"""Evaluates rule groups through the PromQL engine: recording rules become series, alerting rules move
through the lifecycle (state.step), are stored with their history, written as ALERTS/ALERTS_FOR_STATE and
sent to the dispatcher on every evaluation (firing re-sent, resolved with their end) as Prometheus does."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine

from nightowl.alerting import store
from nightowl.alerting.rules import Rule, RuleGroup
from nightowl.alerting.selectcache import for_one_evaluation
from nightowl.alerting.state import FIRING, RESOLVED, Found, Instance, Transition, resolve_manually, step
from nightowl.alerting.templating import Context, Sample, render
from nightowl.core.clock import Clock
from nightowl.core.errors import NotFound
from nightowl.core.scheduler import scheduled_time
from nightowl.metrics.api import QueryEngine
from nightowl.metrics.model import STALE_NAN, Labels, SampleBatch, labels_from_dict
from nightowl.routing.alert import Alert, fingerprint

log = logging.getLogger(__name__)

Dispatch = Callable[[list[Alert]], Any]
Append = Callable[[SampleBatch], Any]
Acknowledge = Callable[[str, str], Any]
Silence = Callable[[dict[str, str], float, str, str], str]


@dataclass
class Health:
    """How the last evaluation of a rule or group went, as /api/v1/rules reports it."""

    health: str = "unknown"
    last_error: str = ""
    last_evaluation: float | None = None
    evaluation_time: float = 0.0


def rule_id(group: RuleGroup, index: int, rule: Rule) -> str:
    """`<group>/<name>`, `#n` for the n-th repeat of a name in the group: stable when other rules are edited."""
    repeat = sum(1 for other in group.rules[:index] if other.name == rule.name)
    return f"{group.name}/{rule.name}" + (f"#{repeat}" if repeat else "")


def rule_ids(group: RuleGroup) -> list[str]:
    """`rule_id` of every rule of the group, in one pass."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for rule in group.rules:
        repeat = seen.get(rule.name, 0)
        seen[rule.name] = repeat + 1
        out.append(f"{group.name}/{rule.name}" + (f"#{repeat}" if repeat else ""))
    return out


def _durable(instances: dict[str, Instance]) -> dict[str, Instance]:
    """What must survive a restart: the instances without their ever-changing value (nor the annotations
    that template it, which the first evaluation after a restart renders again)."""
    return {fp: replace(i, value=0.0, last_seen=0.0, annotations={}) for fp, i in instances.items()}


@dataclass
class _Pass:
    """One evaluation of one group: its instant, its query engine (with a select memo) and its output."""

    now: float
    queries: QueryEngine
    rows: list[tuple[Labels, int, float]] = field(default_factory=list)
    outgoing: list[Alert] = field(default_factory=list)
    saves: dict[str, dict[str, Instance]] = field(default_factory=dict)
    moves: list[Transition] = field(default_factory=list)

    def store(self, conn: Connection) -> None:
        for rid, instances in self.saves.items():
            store.save_rule(conn, rid, instances, self.now)
        store.record(conn, self.moves)


@dataclass
class Evaluator:
    engine: Engine
    clock: Clock
    query_engine: Callable[[], QueryEngine]
    append: Append
    dispatch: Dispatch
    acknowledge_escalation: Acknowledge
    silence: Silence = field(default=lambda _labels, _until, _by, _note: "")
    default_interval: float = 60.0
    external_url: str = ""
    groups: dict[str, RuleGroup] = field(default_factory=dict)
    instances: dict[str, dict[str, Instance]] = field(default_factory=dict)
    rule_health: dict[str, Health] = field(default_factory=dict)
    group_health: dict[str, Health] = field(default_factory=dict)
    _written: dict[str, set[Labels]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def interval(self, group: RuleGroup) -> float:
        return group.interval_s or self.default_interval

    def set_groups(self, groups: list[RuleGroup]) -> None:
        """Replace the rule set; instances of rules that still exist keep their state (and `for` timers)."""
        with self._lock:
            self.groups = {g.name: g for g in groups}
            if not self.instances:
                self.instances = store.load_instances(self.engine)
            keep = {rid for g in groups for rid, r in zip(rule_ids(g), g.rules, strict=True) if r.alert}
            self.instances = {k: v for k, v in self.instances.items() if k in keep}
            with self.engine.begin() as conn:
                store.forget_rules(conn, keep)

    # ---- evaluation ----------------------------------------------------------------------------------------

    def evaluate(self, name: str) -> None:
        """One evaluation of group `name` at the clock's now (the scheduler job of the group)."""
        group = self.groups.get(name)
        if group is None:
            return
        started = time.perf_counter()
        # the group's slot: `for` durations count whole intervals
        run = _Pass(scheduled_time() or self.clock.now(), for_one_evaluation(self.query_engine()))
        now = run.now
        with self._lock:
            for rid, rule in zip(rule_ids(group), group.rules, strict=True):
                rule_started = time.perf_counter()
                health = self.rule_health.setdefault(rid, Health())
                try:
                    if rule.record:
                        run.rows.extend(self._record(group, rule, run))
                    else:
                        self._alert(group, rid, rule, run)
                    health.health, health.last_error = "ok", ""
                except Exception as exc:  # a failing rule must not stop its group
                    health.health, health.last_error = "err", str(exc)
                    log.warning("rule %s failed: %s", rid, exc)
                health.last_evaluation = now
                health.evaluation_time = time.perf_counter() - rule_started
            if run.saves or run.moves:
                with self.engine.begin() as conn:
                    run.store(conn)
            self._write(group.name, run.rows, now)
        if run.outgoing:
            self.dispatch(run.outgoing)
        self.group_health[name] = Health("ok", "", now, time.perf_counter() - started)

    def _query(self, expr: str, now: float, queries: QueryEngine | None = None) -> list[Sample]:
        result = (queries or self.query_engine()).instant(expr, int(now * 1000))
        if result.result_type == "scalar" and result.scalar is not None:
            return [Sample({}, result.scalar[1])]
        if result.result_type != "vector":
            raise ValueError(f"rule expression must give a vector or scalar, got a {result.result_type}")
        return [Sample({k: v for k, v in s.labels}, float(s.values[-1])) for s in result.series if len(s.values)]

    def _record(self, group: RuleGroup, rule: Rule, run: _Pass) -> list[tuple[Labels, int, float]]:
        ts = int(run.now * 1000)
        out: list[tuple[Labels, int, float]] = []
        seen: set[Labels] = set()
        for sample in self._query(rule.expr, run.now, run.queries):
            labels = {**sample.labels, **group.labels, **rule.labels, "__name__": rule.record}
            key = labels_from_dict(labels)
            if key in seen:
                raise ValueError("vector contains metrics with the same labelset after applying rule labels")
            seen.add(key)
            out.append((key, ts, sample.value))
        return out

    def _found(self, group: RuleGroup, rule: Rule, now: float, queries: QueryEngine | None = None) -> list[Found]:
        found: dict[str, Found] = {}
        results = self._query(rule.expr, now, queries)
        if group.limit and len(results) > group.limit:
            raise ValueError(f"exceeded limit of {group.limit} with {len(results)} alerts")
        for sample in results:
            base = {k: v for k, v in sample.labels.items() if k != "__name__"}
            ctx = Context(base, sample.value, query=lambda q: self._query(q, now, queries))
            labels = {**base, **group.labels}
            for key in rule.labels:
                labels[key] = render(rule.templates[f"labels.{key}"], ctx)
            labels = {k: v for k, v in labels.items() if v != ""}
            labels["alertname"] = rule.alert
            ctx = Context(labels, sample.value, query=ctx.query)
            annotations = {k: render(rule.templates[f"annotations.{k}"], ctx) for k in rule.annotations}
            fp = fingerprint(labels)
            if fp in found:
                raise ValueError("vector contains metrics with the same labelset after applying alert labels")
            found[fp] = Found(fp, labels, annotations, sample.value)
        return list(found.values())

    def _alert(self, group: RuleGroup, rid: str, rule: Rule, run: _Pass) -> None:
        now = run.now
        found = self._found(group, rule, now, run.queries)
        previous = self.instances.get(rid, {})
        current, moves = step(rid, previous, found, now, rule.for_s, rule.keep_firing_for_s)
        self.instances[rid] = current
        if moves or _durable(previous) != _durable(current):
            run.saves[rid] = current
            run.moves.extend(moves)
        url = f"{self.external_url}/prometheus/graph?g0.expr={quote(rule.expr)}&g0.tab=1"
        ts = int(now * 1000)
        rows, outgoing = run.rows, run.outgoing
        until = now + 4 * max(self.interval(group), 60.0)
        for inst in current.values():
            if inst.active:
                alerts_labels = {**inst.labels, "__name__": "ALERTS", "alertstate": inst.state}
                rows.append((labels_from_dict(alerts_labels), ts, 1.0))
                rows.append((labels_from_dict({**inst.labels, "__name__": "ALERTS_FOR_STATE"}), ts, inst.active_at))
            if inst.state == FIRING:
                started = inst.fired_at or inst.active_at
                outgoing.append(Alert(inst.labels, inst.annotations, started, until, url))
            elif inst.state == RESOLVED and inst.resolved_at is not None:
                started = inst.fired_at or inst.active_at
                outgoing.append(Alert(inst.labels, inst.annotations, started, inst.resolved_at, url))

    def _write(self, group: str, rows: list[tuple[Labels, int, float]], now: float) -> None:
        """Append the group's output, with staleness markers for series it no longer produces."""
        written = {labels for labels, _, _ in rows}
        ts = int(now * 1000)
        stale = [(labels, ts, STALE_NAN) for labels in self._written.get(group, set()) - written]
        self._written[group] = written
        if rows or stale:
            self.append(SampleBatch.from_rows(rows + stale))

    def preview(self, group: RuleGroup) -> list[dict[str, Any]]:
        """What the group's alerting rules find right now, without touching state (the rule /test)."""
        now = self.clock.now()
        out: list[dict[str, Any]] = []
        for rule in group.rules:
            if not rule.alert:
                continue
            for f in self._found(group, rule, now):
                out.append(
                    {
                        "alertname": rule.alert,
                        "expr": rule.expr,
                        "labels": f.labels,
                        "annotations": f.annotations,
                        "value": f.value,
                        "state": FIRING if rule.for_s == 0 else "pending",
                        "fires_after": rule.for_s,
                    }
                )
        return out

    # ---- the lifecycle by hand ------------------------------------------------------------------------------

    def find(self, fp: str) -> tuple[str, Instance]:
        with self._lock:
            for rid, instances in self.instances.items():
                if fp in instances:
                    return rid, instances[fp]
        raise NotFound(f"no alert {fp!r}", field="id")

    def _update(self, rid: str, inst: Instance, move: Transition | None, actor: str, note: str) -> Instance:
        with self._lock:
            self.instances[rid] = {**self.instances.get(rid, {}), inst.fingerprint: inst}
            with self.engine.begin() as conn:
                store.save_rule(conn, rid, self.instances[rid], self.clock.now())
                if move is not None:
                    store.record(conn, [move], actor, note)
        return inst

    def acknowledge(self, fp: str, by: str, note: str = "") -> Instance:
        rid, inst = self.find(fp)
        now = self.clock.now()
        inst = replace(inst, acknowledged_by=by, acknowledged_at=now, acknowledged_note=note)
        move = Transition(rid, fp, inst.labels, inst.state, "acknowledged", now, inst.value)
        self._update(rid, inst, move, by, note)
        try:
            self.acknowledge_escalation(fp, by)
        except NotFound:
            pass
        return inst

    def snooze(self, fp: str, until: float, by: str, note: str = "") -> Instance:
        """Mute the alert's notifications until `until` with a silence on exactly its labels; it keeps being
        sent (so receivers never get a false resolved notice) and keeps its state."""
        rid, inst = self.find(fp)
        now = self.clock.now()
        self.silence(inst.labels, until, by, note or f"snoozed alert {fp}")
        inst = replace(inst, snoozed_until=until)
        move = Transition(rid, fp, inst.labels, inst.state, "snoozed", now, inst.value)
        return self._update(rid, inst, move, by, note)

    def resolve(self, fp: str, by: str, note: str = "") -> Instance:
        rid, inst = self.find(fp)
        if not inst.active:
            return inst
        now = self.clock.now()
        done, move = resolve_manually(inst, now, by)
        self._update(rid, done, move, by, note)
        started = inst.fired_at or inst.active_at
        if inst.state == FIRING:
            self.dispatch([Alert(done.labels, done.annotations, started, now)])
        return done

    def all_instances(self) -> list[tuple[str, Instance]]:
        with self._lock:
            return [(rid, i) for rid, items in self.instances.items() for i in items.values()]
