"""Time of one evaluation pass of N alerting rules in one group, through the embedded TSDB and PromQL engine.

    .venv/bin/python bench/alert_rules.py [--rules 1000] [--series 100]

Each rule selects its own metric of `--series` series (values 0..series-1), fires for the 9 % above 90,
with `for: 1m` and a templated annotation; state is kept in an in-memory SQLite state database.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from nightowl.alerting import tables
from nightowl.alerting.evaluator import Evaluator
from nightowl.alerting.rules import parse_rule_file
from nightowl.config import Settings
from nightowl.core.clock import ManualClock
from nightowl.core.telemetry import Telemetry
from nightowl.metrics.embedded import open_tsdb
from nightowl.metrics.model import SampleBatch, labels_from_dict
from nightowl.promql.engine import PromQLEngine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--series", type=int, default=100)
    args = parser.parse_args()
    clock = ManualClock(1_700_000_000.0)
    with tempfile.TemporaryDirectory() as tmp:
        storage = open_tsdb(Settings(data_dir=Path(tmp)), clock, Telemetry())
        rows = [
            (labels_from_dict({"__name__": f"m{m}", "instance": f"i{i}"}), int(clock.now() * 1000), float(i))
            for m in range(args.rules)
            for i in range(args.series)
        ]
        storage.append(SampleBatch.from_rows(rows))
        rules = "".join(
            f"      - alert: A{m}\n        expr: m{m} > 90\n        for: 1m\n"
            f"        annotations:\n          s: '{{{{ $labels.instance }}}} is {{{{ $value | humanize }}}}'\n"
            for m in range(args.rules)
        )
        groups = parse_rule_file("groups:\n  - name: g\n    rules:\n" + rules, "bench")
        db = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        tables.metadata.create_all(db, tables=[tables.instances, tables.history])
        engine = PromQLEngine(storage)
        evaluator = Evaluator(db, clock, lambda: engine, storage.append, lambda _a: None, lambda _f, _b: None)
        evaluator.set_groups(groups)
        for n in range(3):
            started = time.perf_counter()
            evaluator.evaluate("g")
            elapsed = time.perf_counter() - started
            alerts = sum(1 for _, i in evaluator.all_instances() if i.active)
            series = args.rules * args.series
            print(f"pass {n}: {args.rules} rules over {series} series, {alerts} alerts: {elapsed:.2f} s")
            clock.advance(60)
        storage.close()


if __name__ == "__main__":
    main()
