"""Query latency through the real HTTP API on the embedded TSDB, on the tsbench workload.

Loads tsbench's workload and query set (`--tsbench`), appends 10k series x 2 h @ 15 s into a TSDB
in `--dir` (kept and reused between runs) and flushes it to blocks, as tsbench does before its
queries. Then the app runs in process and every query goes through `/prometheus/api/v1/query` and
`/query_range` (routing, auth, evaluation, JSON encoding), median of `--runs` after one warm-up.
`--save FILE` keeps the response bodies (without stats) and `--check FILE` compares against them,
so an optimisation can prove the answers did not change. `--profile ID:MODE` prints a cProfile of
that query's evaluation + encoding (run in the main thread, where the profiler sees it).

    .venv/bin/python bench/query_latency.py --dir /tmp/qbench [--runs 7] [--profile rate:instant]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from nightowl.app import create_app
from nightowl.config import load_settings
from nightowl.core.clock import SystemClock
from nightowl.metrics.model import SampleBatch
from nightowl.promql import jsonfmt
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.options import TSDBOptions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tsdb_ingest import DEFAULT_TSBENCH, chunks_of, load_tsbench


def ingest(tsbench: Any, data_dir: Path, series: int, hours: float, interval: int, end_ms: int) -> dict[str, int]:
    """Fill `data_dir/tsdb` with the workload (remote-write sized requests) and flush it to blocks."""
    end_ms = end_ms or int(time.time() * 1000)
    w = tsbench.build_workload(series, hours, interval, seed=1, end_ms=end_ms)
    db = TSDB(data_dir / "tsdb", TSDBOptions(), SystemClock())
    groups = chunks_of(w.series, 6)
    labels = [[tuple(map(tuple, w.labels[i])) for i in g] for g in groups]
    for step in range(w.steps):
        for g, members in enumerate(groups):
            batch = SampleBatch(
                labels[g],
                np.arange(len(members), dtype=np.int32),
                w.ts[members, step].copy(),
                w.values[members, step].copy(),
            )
            db.append(batch)
    db.flush()
    db.close()
    meta = {"end_ms": int(w.end_ms), "hours": int(hours * 3600), "series": series}
    (data_dir / "workload.json").write_text(json.dumps(meta))
    return meta


def requests_for(tsbench: Any, meta: dict[str, int]) -> list[tuple[str, str, dict[str, str]]]:
    """(id:mode, path, params) exactly as tsbench sends them."""
    end_s = -(-meta["end_ms"] // 1000)
    start_s = end_s - meta["hours"]
    out = []
    for qid, q, _, _ in tsbench.QUERIES:
        out.append((f"{qid}:instant", "/prometheus/api/v1/query", {"query": q, "time": str(end_s), "stats": "all"}))
        params = {"query": q, "start": str(start_s), "end": str(end_s), "step": "60", "stats": "all"}
        out.append((f"{qid}:range", "/prometheus/api/v1/query_range", params))
    return out


def without_stats(body: dict[str, Any]) -> dict[str, Any]:
    data = dict(body.get("data", {}))
    data.pop("stats", None)
    return {**body, "data": data}


async def measure(args: argparse.Namespace, tsbench: Any, meta: dict[str, int]) -> None:
    settings = load_settings(
        None,
        data_dir=Path(args.dir),
        anonymous_permissions=["read"],
        rate_limit_per_ip=0,
        demo=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        nightowl = app.state.nightowl
        transport = httpx.ASGITransport(app=app)
        saved: dict[str, Any] = {}
        expected = json.loads(Path(args.check).read_text()) if args.check else {}
        only = set(args.only.split(",")) if args.only else None
        print(f"load average before: {os.getloadavg()}")
        print("| query | median ms | min ms | median CPU ms | min CPU ms | series |")
        print("|---|---|---|---|---|---|")
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for key, path, params in requests_for(tsbench, meta):
                if only and key not in only and key.split(":")[0] not in only:
                    continue
                lats, cpus = [], []
                body: dict[str, Any] = {}
                for i in range(args.runs + 1):
                    t0, c0 = time.perf_counter(), time.process_time()
                    r = await client.get(path, params=params)
                    dt = time.perf_counter() - t0
                    cpus.append((time.process_time() - c0) * 1000)
                    if r.status_code != 200:
                        raise SystemExit(f"{key}: {r.status_code} {r.text[:300]}")
                    if i == 0:
                        body = without_stats(r.json())
                    else:
                        lats.append(dt * 1000)
                saved[key] = body
                result = body["data"]["result"]
                mark = ""
                if expected:
                    mark = " (same)" if expected.get(key) == body else " (DIFFERENT)"
                cpu, least = statistics.median(cpus[1:]), min(cpus[1:])
                print(
                    f"| {key} | {statistics.median(lats):.1f} | {min(lats):.1f} | {cpu:.1f} | {least:.1f} "
                    f"| {len(result)}{mark} |"
                )
        print(f"load average after: {os.getloadavg()}")
        if args.save:
            Path(args.save).write_text(json.dumps(saved))
        for target in args.profile:
            key, path, params = next(x for x in requests_for(tsbench, meta) if x[0] == target)
            engine = nightowl.query_engine
            q = params["query"]

            def once(q: str = q, params: dict[str, str] = params, engine: Any = engine) -> str:
                if "time" in params:
                    result = engine.instant(q, int(params["time"]) * 1000)
                else:
                    result = engine.range(
                        q, int(params["start"]) * 1000, int(params["end"]) * 1000, int(params["step"]) * 1000
                    )
                return jsonfmt.render_data(result)

            once()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(3):
                once()
            profiler.disable()
            print(f"\n## profile {target} (3 runs)")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile_lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True, help="data dir, filled on first use and reused")
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--interval", type=int, default=15)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--end-ms", type=int, default=0, help="workload end (default now): same data in two dirs")
    parser.add_argument("--only", default="", help="comma-separated query ids or id:mode")
    parser.add_argument("--save", default="", help="write response bodies here")
    parser.add_argument("--check", default="", help="compare response bodies with this file")
    parser.add_argument("--profile", action="append", default=[], help="id:mode to profile, repeatable")
    parser.add_argument("--profile-lines", type=int, default=35)
    parser.add_argument("--tsbench", default=str(DEFAULT_TSBENCH))
    args = parser.parse_args()
    tsbench = load_tsbench(Path(args.tsbench))
    data_dir = Path(args.dir)
    meta_path = data_dir / "workload.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        meta = ingest(tsbench, data_dir, args.series, args.hours, args.interval, args.end_ms)
        print(f"ingested {args.series} series in {time.perf_counter() - t0:.1f} s")
    asyncio.run(measure(args, tsbench, meta))


if __name__ == "__main__":
    main()
