"""What one group evaluation costs: each distinct selection is read once however many rules use it,
and the state database is written only when an alert changed state."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import create_engine, event
from sqlalchemy.pool import StaticPool

from nightowl.alerting import tables
from nightowl.alerting.evaluator import Evaluator, rule_id, rule_ids
from nightowl.alerting.rules import parse_rule_file
from nightowl.core.clock import ManualClock
from nightowl.metrics.api import SelectHints
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import Labels, Matcher, SampleBatch, Series, labels_from_dict
from nightowl.promql.engine import PromQLEngine

RULES = """
groups:
  - name: g
    rules:
      - alert: LoadWarning
        expr: load > 5
        annotations: {summary: "load is {{ $value }}"}
      - alert: LoadCritical
        expr: load > 8
      - alert: LoadAverage
        expr: avg by (job) (load) > 1
      - alert: LoadWarning
        expr: load{instance="a"} > 5
      - alert: Other
        expr: other > 0
"""


class CountingStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.selects = 0

    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, hints: SelectHints | None = None
    ) -> list[Series]:
        self.selects += 1
        return super().select(matchers, start_ms, end_ms, hints)


def test_one_read_per_distinct_selection_and_writes_only_on_changes() -> None:
    clock = ManualClock(1_700_000_000.0)
    storage = CountingStorage()
    rows: list[tuple[Labels, int, float]] = [
        (labels_from_dict({"__name__": "load", "job": "node", "instance": i}), int(clock.now() * 1000), 9.0)
        for i in ("a", "b")
    ]
    storage.append(SampleBatch.from_rows(rows))
    db = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    tables.metadata.create_all(db, tables=[tables.instances, tables.history])
    commits: list[int] = []
    event.listen(db, "commit", lambda _conn: commits.append(1))
    engine = PromQLEngine(storage)
    evaluator = Evaluator(db, clock, lambda: engine, storage.append, lambda _a: None, lambda _f, _b: None)
    (group,) = parse_rule_file(RULES, "t")
    evaluator.set_groups([group])
    commits.clear()

    evaluator.evaluate("g")
    assert storage.selects == 3  # load, load{instance="a"}, other: not one per rule
    assert len(commits) == 1  # four rules' new alerts, in one transaction
    assert sum(1 for _, i in evaluator.all_instances() if i.state == "firing") == 6

    storage.append(SampleBatch.from_rows([(labels, ts + 15_000, 9.5) for labels, ts, _ in rows]))
    clock.advance(15)
    evaluator.evaluate("g")  # same alerts, new values and annotations: nothing to store
    assert len(commits) == 1


def test_rule_ids_number_repeated_names() -> None:
    (group,) = parse_rule_file(RULES, "t")
    ids = rule_ids(group)
    assert ids == [rule_id(group, n, r) for n, r in enumerate(group.rules)]
    assert ids[3] == "g/LoadWarning#1"
