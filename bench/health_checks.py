"""1,000 HTTP checks every 30 s on one event loop: CPU per round and latency accuracy.

A local HTTP server in another process (pinned to the other core) answers `/delay/<ms>` after sleeping
<ms> milliseconds, so every check's true latency is known; the report compares what the checks
measured with it. The checks run through the real `CheckRunner` (scheduler tick every second, SQLite
state database, results appended as metrics) on one core, so the CPU figure is the whole cost of
checking. A control probe (a bare asyncio socket request every 0.5 s in the same loop) shows how much
of the latency error is the machine's (scheduling delays on a busy host) rather than the checks'.

    .venv/bin/python bench/health_checks.py --checks 1000 --interval 30 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from nightowl.core.clock import SystemClock
from nightowl.db import migrate
from nightowl.db.engine import create_state_engine
from nightowl.health import manage
from nightowl.health.runner import CheckRunner
from nightowl.health.spec import CheckSpec
from nightowl.metrics.memory import MemoryStorage
from nightowl.outbound import OutboundPolicy


async def _serve(port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                delay_ms = int(path.rsplit("/", 1)[1]) if path.startswith("/delay/") else 0
                await asyncio.sleep(delay_ms / 1000)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def _server_process(port: int) -> None:
    _pin(1)
    asyncio.run(_serve(port))


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


async def _control(port: int, stop: asyncio.Event, errors: list[float]) -> None:
    """A bare HTTP/1.0 request for /delay/50 every 0.5 s: the error floor of this machine right now."""
    while not stop.is_set():
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /delay/50 HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"ok")
        errors.append((time.monotonic() - started - 0.05) * 1000)
        writer.close()
        await asyncio.sleep(0.5)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(checks: int, interval: float, rounds: int, port: int, data_dir: Path) -> dict[str, object]:
    engine = create_state_engine(f"sqlite:///{data_dir / 'bench.db'}")
    migrate.upgrade(engine)
    loopback = OutboundPolicy(allow_loopback=True)  # the bench server listens on 127.0.0.1
    runner = CheckRunner(engine, MemoryStorage(), SystemClock(), max_concurrency=1000, policy=loopback)
    delays: dict[str, float] = {}
    for i in range(checks):
        delay_ms = (i * 7) % 200  # 0..199 ms, spread evenly
        spec = CheckSpec(
            name=f"bench-{i}",
            type="http",
            target=f"http://127.0.0.1:{port}/delay/{delay_ms}",
            interval=interval,
            timeout=5,
        )
        delays[manage.create_check(runner, spec).id] = delay_ms / 1000
    errors: list[float] = []
    control: list[float] = []
    stop = asyncio.Event()
    control_task = asyncio.create_task(_control(port, stop, control))
    runs = 0
    latencies: dict[str, float | None] = {}
    start_wall, start_cpu = time.monotonic(), _cpu()
    deadline = start_wall + interval * rounds
    while time.monotonic() < deadline:
        await runner.tick()
        for check_id in delays:
            state = runner.states.get(check_id)
            if state is not None and state.last_run_at is not None and latencies.get(check_id) != state.last_run_at:
                latencies[check_id] = state.last_run_at
                runs += 1
                if state.last_latency is not None:
                    errors.append((state.last_latency - delays[check_id]) * 1000)
        await asyncio.sleep(1 - (time.monotonic() - start_wall) % 1)
    stop.set()
    await runner.wait_idle()
    await control_task
    elapsed, cpu = time.monotonic() - start_wall, _cpu() - start_cpu
    failures = sum(1 for s in runner.states.values() if s.state != "up")
    await runner.close()
    engine.dispose()
    return {
        "checks": checks,
        "interval_s": interval,
        "rounds": rounds,
        "runs_observed": runs,
        "checks_not_up": failures,
        "wall_s": round(elapsed, 1),
        "cpu_s": round(cpu, 2),
        "cpu_per_round_s": round(cpu / rounds, 2),
        "cpu_share_of_one_core": round(cpu / elapsed, 3),
        "latency_error_ms": _summary(errors),
        "control_error_ms": _summary(control),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _summary(errors: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(errors), 2),
        "p90": round(_percentile(errors, 0.90), 2),
        "p99": round(_percentile(errors, 0.99), 2),
        "max": round(max(errors), 2),
        "min": round(min(errors), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    port = _free_port()
    server = multiprocessing.Process(target=_server_process, args=(port,), daemon=True)
    server.start()
    time.sleep(0.5)
    _pin(0)
    try:
        with tempfile.TemporaryDirectory(prefix="nightowl-bench-") as tmp:
            result = asyncio.run(run(args.checks, args.interval, args.rounds, port, Path(tmp)))
    finally:
        server.terminate()
        server.join(5)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
