"""UI performance in headless Chromium against `nightowl serve --demo` (issue #15's budget).

- initial JS + CSS of the page, gzipped (budget 300 KB); the lazily loaded chunks listed apart;
- the overview interactive: navigation start until every summary tile shows a figure (budget 1 s);
- Explore drawing 500 series x 720 points: from the end of the query_range response to uPlot's first
  draw (budget 300 ms).

    PYTHONPATH=src python bench/ui_bench.py        (needs `make web` and /usr/bin/chromium)
"""

from __future__ import annotations

import gzip
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.browser import ADMIN_PASSWORD, CHROMIUM, CHROMIUM_ARGS, DIST, start_demo_server  # noqa: E402

SERIES_QUERY = 'topk(500, {__name__=~".+"})'


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
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(server.url + "/login")
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/")
            page.wait_for_timeout(20_000)  # let the demo gather a few scrapes
            ready = []
            for _ in range(5):
                page.goto(server.url + "/")
                page.wait_for_function(
                    "[...document.querySelectorAll('.tile-value')].every(t => !t.textContent.includes('…'))"
                )
                ready.append(page.evaluate("performance.now()"))
            print(f"overview interactive: median {statistics.median(ready):.0f} ms of 5 loads (max {max(ready):.0f})")
            draws = []
            for _ in range(3):
                page.goto(server.url + "/explore?" + f"q={SERIES_QUERY}&range=1h&step=5s".replace("+", "%2B"))
                page.wait_for_function("window.__nightowlPerf && window.__nightowlPerf.lastDrawAt", timeout=60_000)
                page.wait_for_timeout(500)
                figures = page.evaluate(
                    """() => {
                      const r = performance.getEntriesByType('resource')
                        .filter(e => e.name.includes('query_range')).pop();
                      const stats = document.querySelector('.stats').textContent;
                      return {draw: window.__nightowlPerf.lastDrawAt - r.responseEnd, stats};
                    }"""
                )
                draws.append(figures["draw"])
                print(
                    f"  explore: {figures['stats'].split('·')[0:2]} drawn {figures['draw']:.0f} ms after the response"
                )
            print(f"explore draw (500 series x 720 points): median {statistics.median(draws):.0f} ms of 3")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
