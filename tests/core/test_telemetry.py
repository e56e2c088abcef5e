"""Nightowl's own /metrics: the standard process and Python series, rule evaluation lag, the outbox's age."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from nightowl.core.clock import ManualClock
from nightowl.notify import outbox as outbox_module
from tests.support.apps import admin_client, running_app

RULES = """
groups:
  - name: example
    interval: 10s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
"""


async def metric_values(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


async def test_metrics_include_the_standard_process_and_python_series(make_settings: Any, clock: ManualClock) -> None:
    async with running_app(make_settings, clock) as app, admin_client(app) as client:
        names = {name for name, _ in await metric_values(client)}
    for name in (
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
        "python_info",
        "python_gc_collections_total",
    ):
        assert name in names


async def test_rule_group_lag_and_missed_iterations_are_exported(
    make_settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    (tmp_path / "rules.yml").write_text(RULES)
    async with running_app(make_settings, clock, rule_files=[str(tmp_path / "rules.yml")]) as app:
        scheduler = app.state.nightowl.scheduler
        await scheduler.stop()  # slots are driven by hand
        slot = next(s.next_run for s in scheduler.statuses() if s.name == "rules:example")
        clock.advance(slot - clock.now() + 2.5)  # the loop woke 2.5 s late
        scheduler.run_due()
        await scheduler.wait_idle()
        async with admin_client(app) as client:
            values = await metric_values(client)
            group = (("rule_group", "example"),)
            assert values[("nightowl_rule_group_last_evaluation_lag_seconds", group)] == 2.5
            assert values[("nightowl_rule_group_iterations_missed_total", group)] == 0
            assert ("nightowl_rule_group_last_duration_seconds", group) in values
            assert values[("nightowl_job_last_lag_seconds", (("job", "rules:example"),))] == 2.5

            clock.advance(10 * 3 + 1)  # three slots pass while the process stalls: two never run
            scheduler.run_due()
            await scheduler.wait_idle()
            values = await metric_values(client)
            assert values[("nightowl_rule_group_iterations_missed_total", group)] == 2
            assert values[("nightowl_rule_group_last_evaluation_lag_seconds", group)] == 3.5


async def test_outbox_age_is_the_wait_of_the_oldest_pending_notification(
    make_settings: Any, clock: ManualClock
) -> None:
    async with running_app(make_settings, clock) as app, admin_client(app) as client:
        nightowl = app.state.nightowl
        await nightowl.scheduler.stop()  # nothing is delivered
        assert (await metric_values(client))[("nightowl_outbox_oldest_pending_age_seconds", ())] == 0
        outbox = nightowl.pipeline.outbox
        with nightowl.engine.begin() as conn:
            outbox.enqueue(conn, "mail", outbox_module.test_message("first", "default", clock.now(), "http://x"))
        clock.advance(30)
        with nightowl.engine.begin() as conn:
            outbox.enqueue(conn, "mail", outbox_module.test_message("second", "default", clock.now(), "http://x"))
        clock.advance(12)
        assert (await metric_values(client))[("nightowl_outbox_oldest_pending_age_seconds", ())] == 42
