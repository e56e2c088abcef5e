"""`nightowl rules test FILE`: rule unit tests in the `promtool test rules` format, run against an
in-memory storage, the embedded PromQL engine and the same evaluator the server uses, on a virtual clock
starting at time 0."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from nightowl.alerting import tables
from nightowl.alerting.evaluator import Evaluator
from nightowl.alerting.rules import RuleGroup, load_rule_files
from nightowl.alerting.state import FIRING
from nightowl.core.clock import ManualClock
from nightowl.core.errors import InvalidInput
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import STALE_NAN, Labels, SampleBatch, labels_from_dict
from nightowl.promql.engine import PromQLEngine
from nightowl.routing.durations import parse_duration

_SERIES = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$", re.S)
_PAIR = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_NUMBER = r"-?[0-9.]+(?:[eE][-+]?\d+)?"
_TERM = re.compile(rf"^({_NUMBER}|_|stale)(?:([+-]{_NUMBER[1:]})?x(\d+))?$")


def parse_series(text: str) -> dict[str, str]:
    """`metric{a="b"}` -> labels, `__name__` included."""
    m = _SERIES.match(text)
    if m is None:
        raise InvalidInput(f"cannot parse series {text!r}", field="series")
    labels: dict[str, str] = {}
    if m.group(1):
        labels["__name__"] = m.group(1)
    body = (m.group(2) or "").strip()
    pos = 0
    while pos < len(body):
        pair = _PAIR.match(body, pos)
        if pair is None:
            raise InvalidInput(f"cannot parse labels of series {text!r}", field="series")
        labels[pair.group(1)] = bytes(pair.group(2), "utf-8").decode("unicode_escape")
        pos = pair.end()
    return labels


def expand_values(text: str) -> list[float | None]:
    """promtool's value notation: `1 2 _ stale 1+1x3 0-2x2 5x2 _x3`; None is a missing sample."""
    out: list[float | None] = []
    for term in str(text).split():
        m = _TERM.match(term)
        if m is None:
            raise InvalidInput(f"cannot parse value {term!r}", field="values")
        start, delta, times = m.group(1), m.group(2), m.group(3)
        if start in ("_", "stale"):
            value = None if start == "_" else STALE_NAN
            out.extend([value] * ((int(times) if times else 0) + 1))
            continue
        first, step = float(start), float(delta) if delta else 0.0
        count = int(times) + 1 if times else 1
        out.extend(first + i * step for i in range(count))
    return out


@dataclass
class Outcome:
    name: str
    failures: list[str] = field(default_factory=list)


def _close(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _run_case(case: dict[str, Any], groups: list[RuleGroup], default_interval: float, index: int) -> Outcome:
    outcome = Outcome(str(case.get("name") or f"test {index}"))
    interval = parse_duration(str(case.get("interval") or f"{int(default_interval)}s"), "interval")
    storage = MemoryStorage()
    rows: list[tuple[Labels, int, float]] = []
    for item in case.get("input_series") or []:
        labels = labels_from_dict(parse_series(str(item.get("series", ""))))
        for i, value in enumerate(expand_values(str(item.get("values", "")))):
            if value is not None:
                rows.append((labels, int(i * interval * 1000), value))
    rows.sort(key=lambda r: r[1])
    if rows:
        storage.append(SampleBatch.from_rows(rows))
    clock = ManualClock(0.0)
    db = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    tables.instances.metadata.create_all(db, tables=[tables.instances, tables.history])
    engine = PromQLEngine(storage)
    evaluator = Evaluator(db, clock, lambda: engine, storage.append, lambda _a: None, lambda _f, _b: None)
    evaluator.default_interval = default_interval
    evaluator.set_groups(groups)
    alert_tests = case.get("alert_rule_test") or []
    expr_tests = case.get("promql_expr_test") or []
    due: dict[float, list[dict[str, Any]]] = {}
    for test in alert_tests:
        due.setdefault(parse_duration(str(test.get("eval_time", "0")), "eval_time"), []).append(test)
    end = max([*due, *(parse_duration(str(t.get("eval_time", "0")), "eval_time") for t in expr_tests), 0.0])
    ticks = int(end // default_interval) + 1
    for tick in range(ticks):
        now = tick * default_interval
        clock.set(now)
        for group in groups:
            evaluator.evaluate(group.name)
        for at, tests in sorted(due.items()):
            if now <= at < now + default_interval:
                for test in tests:
                    outcome.failures.extend(_check_alerts(evaluator, test, at))
    for test in expr_tests:
        outcome.failures.extend(_check_expr(engine, test))
    return outcome


def _check_alerts(evaluator: Evaluator, test: dict[str, Any], at: float) -> list[str]:
    name = str(test.get("alertname", ""))
    got = sorted(
        (sorted(i.labels.items()), sorted(i.annotations.items()))
        for _, i in evaluator.all_instances()
        if i.state == FIRING and i.labels.get("alertname") == name
    )
    want = []
    for exp in test.get("exp_alerts") or []:
        labels = {**{str(k): str(v) for k, v in (exp.get("exp_labels") or {}).items()}, "alertname": name}
        annotations = {str(k): str(v) for k, v in (exp.get("exp_annotations") or {}).items()}
        want.append((sorted(labels.items()), sorted(annotations.items())))
    want.sort()
    if got == want:
        return []
    return [f"alertname: {name}, time: {at:g}s,\n    exp: {want}\n    got: {got}"]


def _check_expr(engine: PromQLEngine, test: dict[str, Any]) -> list[str]:
    expr = str(test.get("expr", ""))
    at = parse_duration(str(test.get("eval_time", "0")), "eval_time")
    try:
        result = engine.instant(expr, int(at * 1000))
    except Exception as exc:
        return [f"expr: {expr!r}, time: {at:g}s, err: {exc}"]
    if result.result_type == "scalar" and result.scalar is not None:
        got: list[tuple[dict[str, str], float]] = [({}, result.scalar[1])]
    else:
        got = [({k: v for k, v in s.labels}, float(s.values[-1])) for s in result.series if len(s.values)]
    want = [
        (parse_series(str(e.get("labels", "{}"))) if e.get("labels") else {}, float(e.get("value", 0)))
        for e in test.get("exp_samples") or []
    ]
    got_sorted = sorted(got, key=lambda x: sorted(x[0].items()))
    want_sorted = sorted(want, key=lambda x: sorted(x[0].items()))
    same = len(got_sorted) == len(want_sorted) and all(
        g[0] == w[0] and _close(g[1], w[1]) for g, w in zip(got_sorted, want_sorted, strict=True)
    )
    return [] if same else [f"expr: {expr!r}, time: {at:g}s,\n    exp: {want_sorted}\n    got: {got_sorted}"]


def run_test_file(path: Path) -> list[Outcome]:
    """Every test case of one file; InvalidInput when the file itself is broken."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path}: {exc}", field="file") from None
    if not isinstance(spec, dict):
        raise InvalidInput(f"{path}: a test file is a mapping", field="file")
    patterns = [str(p) for p in spec.get("rule_files") or []]
    groups = load_rule_files(patterns, base=path.parent)
    default_interval = parse_duration(str(spec.get("evaluation_interval") or "1m"), "evaluation_interval")
    return [_run_case(case, groups, default_interval, i) for i, case in enumerate(spec.get("tests") or [])]
