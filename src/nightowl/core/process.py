"""Process-wide tuning that `nightowl serve` applies once at start (benches that build a runtime
themselves call it too, so they measure what the server does).

- glibc malloc: one arena, trimmed after flushes (core/allocator.py).
- The GIL's switch interval, 5 ms by default, is 1 ms: with 10,000 rules evaluating on their own
  thread, a due alert's flush, outbox and HTTP send each wait for the GIL up to a switch interval at
  every hand-over; at 5 ms the evaluation-to-webhook p99 was 2.1 s, at 1 ms 0.8 s, with no measurable
  CPU cost (docs/performance.md, "Alerting").
"""

from __future__ import annotations

import sys

from nightowl.core import allocator

SWITCH_INTERVAL_SECONDS = 0.001


def tune() -> None:
    allocator.tune()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
