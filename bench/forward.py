"""CPU cost of metric forwarding per 100k ingested samples: selection, disk buffer, batch encoding.

    .venv/bin/python bench/forward.py [--samples 100000] [--batch 500]

Half of the samples match the forwarder's selector; what matches is buffered, then read back in batches
and encoded as each forwarder type would send it (no HTTP).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nightowl.ingest.selector import parse_selector
from nightowl.integrations.forward.buffer import DiskBuffer
from nightowl.integrations.forward.formats import KINDS
from nightowl.integrations.forward.forwarder import selected
from nightowl.metrics.model import SampleBatch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    rows = [
        ((("__name__", "m"), ("i", str(i % 1000)), ("job", "api" if i % 2 else "x")), 1_700_000_000_000 + i, float(i))
        for i in range(args.samples)
    ]
    batch = SampleBatch.from_rows(rows)
    match = (tuple(parse_selector('{job="api"}', "match")),)
    for kind, spec in KINDS.items():
        buffer = DiskBuffer(Path(tempfile.mkdtemp()) / kind, 1 << 30)
        start = time.perf_counter()
        chosen = selected(batch, match)
        buffer.append(chosen)
        offered = time.perf_counter()
        while samples := buffer.peek(args.batch):
            spec.encode(samples, "key")
            buffer.commit(len(samples))
        done = time.perf_counter()
        print(
            f"{kind:12} select+buffer {offered - start:.3f}s  read+encode {done - offered:.3f}s  "
            f"for {len(chosen)} of {args.samples} samples"
        )


if __name__ == "__main__":
    main()
