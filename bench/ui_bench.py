"""UI performance in headless Chromium against `nightowl serve --demo` (issue #15's budget).

- initial JS + CSS of the page, gzipped (budget 300 KB); the lazily loaded chunks listed apart;
- the overview interactive: navigation start until every summary tile shows a figure (budget 1 s);
- Explore drawing 500 series x 720 points: from the end of the query_range response to uPlot's first
  draw (budget 300 ms).

    PYTHONPATH=src python bench/ui_bench.py        (needs `make web` and /usr/bin/chromium)
"""

from __future__ import annotations

import gzip
import json
import math
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.browser import ADMIN_PASSWORD, CHROMIUM, CHROMIUM_ARGS, DIST, DemoServer, start_demo_server  # noqa: E402

SERIES_QUERY = "ui_bench_series"
SERIES, POINTS, STEP = 500, 720, 5


def backfill(server: DemoServer) -> None:
    """500 series of 720 points at a 5 s step, ending now (JSON lines import, 100 series a request)."""
    end_ms = int(time.time() * 1000) // (STEP * 1000) * STEP * 1000
    stamps = [end_ms - (POINTS - 1 - k) * STEP * 1000 for k in range(POINTS)]
    for first in range(0, SERIES, 100):
        lines = []
        for i in range(first, first + 100):
            values = [round(i + math.sin(k / 20 + i) * 10, 3) for k in range(POINTS)]
            metric = {"__name__": SERIES_QUERY, "series": str(i)}
            lines.append(json.dumps({"metric": metric, "values": values, "timestamps": stamps}))
        answer = server.admin.post("/prometheus/api/v1/import", content="\n".join(lines))
        answer.raise_for_status()


def bundle_sizes() -> tuple[int, int]:
    dist = DIST.parent
    html = DIST.read_text()
    initial = re.findall(r'(?:src|href)="/(assets/[^"]+\.(?:js|css))"', html)
    gz = lambda p: len(gzip.compress((dist / p).read_bytes(), 9))  # noqa: E731
    first = sum(gz(p) for p in initial)
    every = sum(gz(str(p.relative_to(dist))) for p in (dist / "assets").iterdir())
    return first, every


def main() -> None:
    from playwright.sync_api import sync_playwright

    first, every = bundle_sizes()
    print(f"initial JS+CSS gzipped: {first / 1024:.1f} KiB (all chunks, editor included: {every / 1024:.1f} KiB)")
    server = start_demo_server()
    try:
        backfill(server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # CSP bypassed only so the measuring scripts can run in the page
            page = browser.new_page(viewport={"width": 1280, "height": 860}, bypass_csp=True)
            page.goto(server.url + "/login")
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/")
            page.wait_for_timeout(20_000)  # let the demo gather a few scrapes
            ready, rate = [], []
            for _ in range(5):
                page.goto(server.url + "/")
                # every figure but the ingest rate, which needs a second reading a second later
                page.wait_for_function(
                    "document.querySelectorAll('.tile-value').length === 5 && "
                    "[...document.querySelectorAll('.tile-value')].filter(t => !t.closest('[data-rate]'))"
                    ".every(t => !t.textContent.includes('…'))"
                )
                ready.append(page.evaluate("performance.now()"))
                page.wait_for_function("!document.querySelector('[data-rate] .tile-value').textContent.includes('…')")
                rate.append(page.evaluate("performance.now()"))
            print(f"overview interactive: median {statistics.median(ready):.0f} ms of 5 loads (max {max(ready):.0f})")
            print(f"  ingest rate shown: median {statistics.median(rate):.0f} ms")
            draws = []
            for _ in range(3):
                page.goto(server.url + f"/explore?q={SERIES_QUERY}&range=1h&step={STEP}s")
                page.wait_for_function("window.__nightowlPerf && window.__nightowlPerf.lastDrawAt", timeout=60_000)
                page.wait_for_timeout(500)
                figures = page.evaluate(
                    """() => {
                      const r = performance.getEntriesByType('resource')
                        .filter(e => e.name.includes('query_range')).pop();
                      const stats = document.querySelector('.stats').textContent;
                      const p = window.__nightowlPerf;
                      return {draw: p.lastDrawAt - r.responseEnd, before: p.chartStartAt - r.responseEnd, stats};
                    }"""
                )
                draws.append(figures["draw"])
                print(
                    f"  explore: {figures['stats'].split('·')[0:2]} drawn {figures['draw']:.0f} ms after the response"
                    f" (the chart's set-up began {figures['before']:.0f} ms after it)"
                )
            print(f"explore draw (500 series x 720 points): median {statistics.median(draws):.0f} ms of 3")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
