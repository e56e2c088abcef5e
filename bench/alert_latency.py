"""From the rule evaluation that turns an alert firing to its notification leaving the outbox (issue #7).

    .venv/bin/python bench/alert_latency.py [--waves 12] [--per-wave 50] [--interval 5]

A real runtime (`Nightowl.prepare()` + `start()`, system clock, embedded TSDB, SQLite state database)
with one rule group (`bench_value > 0.5`, `for: 0`, evaluated every `--interval` s) and an
alertmanager.yml routing every alert to its own group (`group_by: [alertname, instance]`,
`group_wait: 0s`) and a webhook on a local HTTP server. Each wave raises `--per-wave` new series to 1
(and lowers the previous wave's, which resolve), at a random moment between evaluations.

`--background-jobs 100` adds the 10,000 rules and 29,000 series of bench/alert_eval.py as load (their
alerts are routed to a receiver without channels: they load the dispatcher, not the webhook).

Latency of an alert = the arrival of its first firing notification at the webhook minus the alert's
`startsAt`, which is the clock time at which the group evaluation that made it firing began (so the
evaluation itself is counted). Prints p50, p99 and max over all alerts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alert_eval import Platform, feed, group_yaml  # the 10,000-rule workload, as background load

from nightowl.config import Settings
from nightowl.core import process
from nightowl.metrics.model import SampleBatch, labels_from_dict
from nightowl.runtime import Nightowl

RULES = """groups:
  - name: latency
    interval: {interval}s
    rules:
      - alert: BenchHigh
        expr: bench_value > 0.5
        labels:
          severity: critical
        annotations:
          summary: '{{{{ $labels.instance }}}} is {{{{ $value }}}}'
"""

ROUTING = """route:
  receiver: background
  group_by: [alertname, instance]
  group_wait: 0s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [alertname="BenchHigh"]
      receiver: hook
receivers:
  - name: background
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{port}/hook
        send_resolved: true
"""


@dataclass
class Hook:
    """A minimal HTTP/1.1 webhook receiver noting when each alert's first firing notice arrived."""

    first_firing: dict[str, float] = field(default_factory=dict)
    starts: dict[str, float] = field(default_factory=dict)
    requests: int = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                if not line.strip():
                    continue
                headers: dict[str, str] = {}
                while (header := (await reader.readline()).decode().rstrip("\r\n")) != "":
                    name, _, value = header.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                arrived = time.time()
                self.requests += 1
                for alert in json.loads(body)["alerts"]:
                    if alert["labels"]["alertname"] != "BenchHigh":
                        continue
                    key = f"{alert['labels']['instance']}@{alert['startsAt']}"
                    if alert["status"] == "firing" and key not in self.first_firing:
                        self.first_firing[key] = arrived
                        self.starts[key] = datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00")).timestamp()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def measure(args: argparse.Namespace) -> None:
    hook = Hook()
    server = await asyncio.start_server(hook.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "rules.yml").write_text(RULES.format(interval=args.interval))
        (root / "alertmanager.yml").write_text(ROUTING.format(port=port))
        groups = "".join(group_yaml(j, 100) for j in range(args.background_jobs))
        (root / "background.yml").write_text("groups:\n" + groups if groups else "")
        rule_files = [str(root / "rules.yml"), str(root / "background.yml")]
        settings = Settings(
            data_dir=root / "data", rule_files=rule_files, alertmanager_config=root / "alertmanager.yml"
        )
        nightowl = Nightowl(settings)
        nightowl.prepare()
        platform = Platform(args.background_jobs)
        if args.background_jobs:
            now_ms = int(time.time() * 1000)
            for k in range(20, 0, -1):
                nightowl.storage.append(platform.step(now_ms - k * 15_000))
        stop = asyncio.Event()
        series = [
            labels_from_dict({"__name__": "bench_value", "instance": f"i{n}"})
            for n in range(args.per_wave * args.waves)
        ]

        def write(high: set[int]) -> None:
            now_ms = int(time.time() * 1000)
            rows = [(lab, now_ms, 1.0 if n in high else 0.0) for n, lab in enumerate(series)]
            nightowl.ingestor.append(SampleBatch.from_rows(rows), "bench")

        write(set())
        await nightowl.start()
        feeder = asyncio.create_task(feed(nightowl, platform, stop)) if args.background_jobs else None
        for wave in range(args.waves):
            await asyncio.sleep(rng.uniform(0.2, 0.8) * args.interval)
            write({wave * args.per_wave + k for k in range(args.per_wave)})
            await asyncio.sleep(args.interval * 1.5)
        await asyncio.sleep(args.interval + 3)
        stop.set()
        if feeder is not None:
            await feeder
        await nightowl.stop()
        server.close()
    latencies = [hook.first_firing[k] - hook.starts[k] for k in hook.first_firing] or [float("nan")]
    expected = args.waves * args.per_wave
    print(
        f"{len(latencies)} of {expected} alerts notified as firing ({hook.requests} webhook requests); "
        f"evaluation -> webhook: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waves", type=int, default=12)
    parser.add_argument("--per-wave", type=int, default=50)
    parser.add_argument("--interval", type=int, default=5, help="rule group evaluation interval, seconds")
    parser.add_argument(
        "--background-jobs", type=int, default=0, help="also run bench/alert_eval.py's rules for this many services"
    )
    process.tune()  # what `nightowl serve` does at start
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
