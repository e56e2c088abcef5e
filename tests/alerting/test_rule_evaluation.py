"""Rule files evaluated on a manual clock: `for`, `keep_firing_for`, recording rules, ALERTS series, the
Prometheus rules/alerts API, the dispatcher feed and a restart in the middle of a `for`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from nightowl.metrics.model import SampleBatch, labels_from_dict
from tests.support.apps import admin_client, running_app

RULES = """
groups:
  - name: example
    interval: 10s
    rules:
      - record: job:load:sum
        expr: sum by (job) (load)
      - alert: HighLoad
        expr: load > 5
        for: 30s
        keep_firing_for: 20s
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.instance }} load is {{ $value | humanize }}"
"""


def write_load(app: FastAPI, clock: ManualClock, value: float) -> None:
    labels = labels_from_dict({"__name__": "load", "job": "node", "instance": "a:9100"})
    app.state.nightowl.ingestor.append(SampleBatch.from_rows([(labels, int(clock.now() * 1000), value)]), "test")


def evaluate(app: FastAPI, clock: ManualClock, seconds: float = 10) -> None:
    clock.advance(seconds)
    app.state.nightowl.rules.evaluator.evaluate("example")


async def state_of(client: httpx.AsyncClient) -> str:
    body = (await client.get("/prometheus/api/v1/rules", params={"type": "alert"})).json()
    rule: dict[str, Any] = body["data"]["groups"][0]["rules"][0]
    return str(rule["state"])


def rule_file(tmp_path: Path) -> str:
    path = tmp_path / "rules" / "load.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(RULES)
    return str(tmp_path / "rules" / "*.yml")


async def test_for_then_firing_then_keep_firing_for_then_resolved(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    async with running_app(make_settings, clock, rule_files=[rule_file(tmp_path)]) as app:
        nightowl = app.state.nightowl
        async with admin_client(app) as client:
            write_load(app, clock, 9)
            evaluate(app, clock, 1)
            assert await state_of(client) == "pending"
            evaluate(app, clock, 20)
            assert await state_of(client) == "pending"
            evaluate(app, clock, 10)
            assert await state_of(client) == "firing"
            alerts = (await client.get("/prometheus/api/v1/alerts")).json()["data"]["alerts"]
            assert alerts[0]["labels"] == {
                "alertname": "HighLoad",
                "instance": "a:9100",
                "job": "node",
                "severity": "critical",
            }
            assert alerts[0]["annotations"]["summary"] == "a:9100 load is 9"
            assert alerts[0]["value"] == "9e+00"
            received = (await client.get("/api/v2/alerts")).json()
            assert [a["labels"]["alertname"] for a in received] == ["HighLoad"]

            series = nightowl.query_engine.instant("ALERTS", int(clock.now() * 1000)).series
            assert [dict(s.labels)["alertstate"] for s in series] == ["firing"]
            recorded = nightowl.query_engine.instant("job:load:sum", int(clock.now() * 1000)).series
            assert [float(s.values[-1]) for s in recorded] == [9.0]

            write_load(app, clock, 1)
            evaluate(app, clock, 10)  # missing since now: keep_firing_for 20s holds it
            assert await state_of(client) == "firing"
            evaluate(app, clock, 10)
            assert await state_of(client) == "firing"
            evaluate(app, clock, 10)
            assert await state_of(client) == "inactive"

            history = (await client.get("/api/v1/alerts/history")).json()
            moves = [(h["from_state"], h["to_state"]) for h in reversed(history["items"])]
            assert moves == [("inactive", "pending"), ("pending", "firing"), ("firing", "resolved")]


async def test_restart_in_the_middle_of_for_keeps_the_timer(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    files = rule_file(tmp_path)
    async with running_app(make_settings, clock, rule_files=[files]) as app:
        write_load(app, clock, 9)
        evaluate(app, clock, 1)
        evaluate(app, clock, 20)
    async with running_app(make_settings, clock, rule_files=[files]) as app:
        async with admin_client(app) as client:
            write_load(app, clock, 9)
            assert await state_of(client) == "pending"
            evaluate(app, clock, 10)
            assert await state_of(client) == "firing"


async def test_a_changed_rule_file_is_reloaded_and_a_broken_one_keeps_the_old_rules(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    files = rule_file(tmp_path)
    async with running_app(make_settings, clock, rule_files=[files]) as app:
        rules = app.state.nightowl.rules
        path = tmp_path / "rules" / "load.yml"
        path.write_text(RULES.replace("name: example", "name: renamed"))
        path.touch()
        rules._signature = ()
        rules.check_files()
        assert list(rules.evaluator.groups) == ["renamed"]
        jobs = [s.name for s in app.state.nightowl.scheduler.statuses() if s.name.startswith("rules:")]
        assert jobs == ["rules:renamed"]

        path.write_text(RULES.replace("load > 5", "load >"))
        rules._signature = ()
        rules.check_files()
        assert list(rules.evaluator.groups) == ["renamed"] and "expr" in rules.last_error


async def test_for_counts_whole_intervals_even_when_the_scheduler_runs_late(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    """`for: 30s` on a 10 s group fires at the third evaluation that sees the condition, as in Prometheus,
    although each run starts a few milliseconds after its slot."""
    async with running_app(make_settings, clock, rule_files=[rule_file(tmp_path)]) as app, admin_client(app) as client:
        scheduler = app.state.nightowl.scheduler
        await scheduler.stop()  # the slots are driven by hand below
        write_load(app, clock, 9)
        states, evaluated_at, slots = [], [], []
        for late in (0.012, 0.003, 0.009, 0.001):  # the loop wakes a few ms late, by varying amounts
            slots.append(next(s.next_run for s in scheduler.statuses() if s.name == "rules:example"))
            clock.advance(slots[-1] - clock.now() + late)
            write_load(app, clock, 9)
            scheduler.run_due()
            await scheduler.wait_idle()
            states.append(await state_of(client))
            groups = (await client.get("/prometheus/api/v1/rules")).json()["data"]["groups"]
            evaluated_at.append(groups[0]["lastEvaluation"])
        assert states == ["pending", "pending", "pending", "firing"]
        assert [s - slots[0] for s in slots] == [0, 10, 20, 30]  # a fixed rate: lateness does not add up
        from datetime import datetime

        moments = [datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() for text in evaluated_at]
        assert all(abs(moment - slot) < 1e-6 for moment, slot in zip(moments, slots, strict=True)), (moments, slots)
