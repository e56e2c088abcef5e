"""`kill -9` in the middle of rule evaluation loses no acknowledged state and leaves none half-written:
after a restart every alert keeps the `for` timer it had, and no alert fired twice in the history."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from nightowl.alerting import store
from nightowl.config import load_settings
from nightowl.core.clock import ManualClock
from nightowl.metrics.model import SampleBatch, labels_from_dict
from tests.support.apps import running_app

SERIES = 400
START = 1_700_000_000.0
RULES = """
groups:
  - name: crash
    interval: 10s
    rules:
      - alert: Busy
        expr: busy > 5
        for: 1m
        labels:
          severity: warning
"""

# The child evaluates the group again and again on a manual clock and prints each evaluation once its
# state is committed; the parent kills it at an arbitrary point, most likely mid-evaluation.
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from nightowl.app import create_app
    from nightowl.config import load_settings
    from nightowl.core.clock import ManualClock
    from nightowl.metrics.model import SampleBatch, labels_from_dict

    async def main() -> None:
        data, rules, series = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
        clock = ManualClock(float(sys.argv[4]))
        app = create_app(load_settings(None, data_dir=data, rule_files=[rules]), clock=clock)
        async with app.router.lifespan_context(app):
            nightowl = app.state.nightowl
            for step in range(100_000):
                rows = [
                    (labels_from_dict({"__name__": "busy", "n": str(i)}), int(clock.now() * 1000), 9.0)
                    for i in range(series)
                ]
                nightowl.ingestor.append(SampleBatch.from_rows(rows), "test")
                nightowl.rules.evaluator.evaluate("crash")
                print(step, clock.now(), flush=True)
                clock.advance(10)

    asyncio.run(main())
    """
)


def test_kill_9_mid_evaluation_keeps_every_for_timer_and_fires_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rules = tmp_path / "crash.yml"
    rules.write_text(RULES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTOWL_")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), str(rules), str(SERIES), str(START)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    acked = -1
    for line in child.stdout:
        acked = int(line.split()[0])
        if acked >= 8:  # pending for 60 s, then firing: both kinds of write have happened
            break
    os.kill(child.pid, signal.SIGKILL)
    for line in child.stdout:
        acked = int(line.split()[0])
    child.wait()

    settings = load_settings(None, data_dir=data, rule_files=[str(rules)])
    restart_clock = ManualClock(START + 10 * (acked + 1))

    async def after_restart() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with running_app(lambda **_: settings, restart_clock) as app:
            nightowl = app.state.nightowl
            instances = store.load_instances(nightowl.engine)
            rows = [
                (labels_from_dict({"__name__": "busy", "n": str(i)}), int(restart_clock.now() * 1000), 9.0)
                for i in range(SERIES)
            ]
            nightowl.ingestor.append(SampleBatch.from_rows(rows), "test")
            nightowl.rules.evaluator.evaluate("crash")
            history = store.history(nightowl.engine, store.HistoryQuery(limit=10 * SERIES))
            return instances, history

    instances, history = asyncio.run(after_restart())
    busy = next(iter(instances.values()))
    # every instance of the rule is there, all from the same committed evaluation, with its original timer
    assert len(busy) == SERIES
    assert {round(i.active_at) for i in busy.values()} == {round(START)}
    assert {i.state for i in busy.values()} <= {"pending", "firing"}
    # the alert went pending once and firing once per series, across the crash and the evaluation after it
    moves: dict[str, list[str]] = {}
    for move in sorted(history, key=lambda h: (h["at"], h["id"])):
        moves.setdefault(json.dumps(move["labels"], sort_keys=True), []).append(move["to_state"])
    assert len(moves) == SERIES
    assert all(states == ["pending", "firing"] for states in moves.values()), list(moves.values())[:3]
