"""Soak: a real `nightowl serve --demo` under ingest, queries, rules, checks and notifications together.

Runs for `--minutes` (30 by default), then reports the server's RSS over time, every request by kind with
its errors, and the notifications a local webhook receiver got. The server is healthy when the RSS levels
off (growth over the second half is small against the total) and no request answered 5xx or failed.

    .venv/bin/python bench/soak.py --minutes 30 --out bench/results/soak-30m.json

Load, all on loopback: every 10 s an import of `--series` series (Prometheus text); four PromQL queries
(instant and range) every 2 s; a demo incident every 5 minutes (its rules fire, route and notify a
webhook channel); the demo's own scrape targets, health checks and rule pack run as configured.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

NIGHTOWL = [sys.executable, "-m", "nightowl.cli"]
QUERIES = (
    ("instant", {"query": 'sum by (service) (rate(http_requests_total{job="demo"}[5m]))'}),
    ("instant", {"query": "topk(5, soak_value)"}),
    ("range", {"query": "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"}),
    ("range", {"query": 'count by (__name__) ({__name__=~"soak_.*"})'}),
)
INCIDENT_SERVICES = ("payment", "order", "search", "auth")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Receiver(BaseHTTPRequestHandler):
    received: Counter[str] = Counter()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        Receiver.received[str(body.get("status", "unknown"))] += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def exposition(series: int, at_ms: int, step: int) -> str:
    lines = ["# TYPE soak_value gauge"]
    lines += [f'soak_value{{n="{i}",shard="{i % 16}"}} {(i * 7 + step) % 101} {at_ms}' for i in range(series)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    hook = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()

    data = Path(tempfile.mkdtemp(prefix="nightowl-soak-")) / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTOWL_")}
    env["NIGHTOWL_OUTBOUND_ALLOW_LOOPBACK"] = "true"  # the webhook receiver is on this machine
    key = subprocess.run(
        [*NIGHTOWL, "keys", "create", "--data-dir", str(data), "--name", "soak", "--scopes", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    port = free_port()
    log_path = data.parent / "serve.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [*NIGHTOWL, "serve", "--demo", "--data-dir", str(data), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    requests: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    samples: list[tuple[float, float]] = []

    def call(kind: str, method: str, url: str, **kwargs: Any) -> None:
        requests[kind] += 1
        try:
            response = client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            errors[f"{kind}: {type(exc).__name__}"] += 1
            return
        if response.status_code >= 400:
            errors[f"{kind}: {response.status_code}"] += 1

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"server did not start; see {log_path}")
            time.sleep(0.2)
        channel = {"name": "soak", "kind": "webhook", "receiver": "default"}
        channel["config"] = {"url": f"http://127.0.0.1:{hook.server_port}/hook"}  # type: ignore[assignment]
        call("setup", "POST", "/api/v1/channels", json=channel)

        start = time.monotonic()
        end = start + args.minutes * 60
        next_import = next_query = next_sample = start
        next_incident = start + 60
        step = incidents = 0
        while (now := time.monotonic()) < end:
            if now >= next_sample:
                samples.append((round(now - start, 1), round(rss_mib(server.pid), 1)))
                next_sample += 15
            if now >= next_import:
                body = exposition(args.series, int(time.time() * 1000), step)
                call("import", "POST", "/prometheus/api/v1/import/prometheus", content=body)
                step += 1
                next_import += 10
            if now >= next_query:
                for kind, params in QUERIES:
                    if kind == "range":
                        t = time.time()
                        params = {**params, "start": t - 3600, "end": t, "step": 30}
                    call(
                        f"query_{kind}",
                        "GET",
                        f"/prometheus/api/v1/query{'_range' if kind == 'range' else ''}",
                        params=params,
                    )
                call("status", "GET", "/status")
                next_query += 2
            if now >= next_incident:
                service = INCIDENT_SERVICES[incidents % len(INCIDENT_SERVICES)]
                call(
                    "incident",
                    "POST",
                    "/api/v1/demo/incidents",
                    json={"service": service, "kind": "failure_burst", "duration": "3m"},
                )
                incidents += 1
                next_incident += 300
            time.sleep(0.2)
        samples.append((round(time.monotonic() - start, 1), round(rss_mib(server.pid), 1)))
        outbox = client.get("/api/v1/notifications").json() if server.poll() is None else {}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        hook.shutdown()

    half = [rss for t, rss in samples if t >= samples[-1][0] / 2]
    tracebacks = log_path.read_text().count("Traceback")
    result = {
        "minutes": args.minutes,
        "series_per_import": args.series,
        "rss_mib": {
            "first": samples[0][1],
            "at_5m": next((r for t, r in samples if t >= 300), samples[-1][1]),
            "end": samples[-1][1],
            "max": max(r for _, r in samples),
            "second_half_growth": round(half[-1] - half[0], 1) if half else 0.0,
        },
        "requests": dict(requests),
        "errors": dict(errors),
        "server_tracebacks": tracebacks,
        "notifications_received": dict(Receiver.received),
        "delivery_log_entries": len(outbox.get("items", [])) if isinstance(outbox, dict) else len(outbox),
        "rss_samples": samples,
    }
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    summary = {k: v for k, v in result.items() if k != "rss_samples"}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
