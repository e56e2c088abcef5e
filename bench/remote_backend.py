"""Remote backend throughput against a real server: encode, remote write through the queue, raw select.

    .venv/bin/python bench/remote_backend.py [victoria-metrics|prometheus] [series] [scrapes]

Starts the server from its Debian package on a free port (like the tests), appends `scrapes` batches of
`series` samples (one scrape each), flushes, reads everything back with one select, and prints the rates.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import remote_servers

from nightowl.metrics.model import Matcher, SampleBatch, labels_from_dict
from nightowl.metrics.remote import RemoteConfig, RemoteStorage
from nightowl.metrics.remote.writeproto import compress, encode_write_request


def main(kind: str = "victoria-metrics", n_series: int = 1000, scrapes: int = 200) -> None:
    total = n_series * scrapes
    now = int(time.time()) * 1000
    series = [
        labels_from_dict({"__name__": "bench_total", "instance": f"host-{i}:9100", "job": "node"})
        for i in range(n_series)
    ]
    batches = [
        SampleBatch(
            series,
            np.arange(n_series, dtype=np.int32),
            np.full(n_series, now - (scrapes - step) * 1000, np.int64),
            np.full(n_series, float(step)),
        )
        for step in range(scrapes)
    ]
    started = time.perf_counter()
    body = encode_write_request(batches)
    encoded = time.perf_counter()
    compress(body)
    print(f"encode: {total / (encoded - started):,.0f} samples/s; snappy: {time.perf_counter() - encoded:.3f}s")

    server = remote_servers.start(kind)
    storage = RemoteStorage(RemoteConfig.for_url(server.url, queue_max_samples=total))
    try:
        storage.start()
        started = time.perf_counter()
        for batch in batches:
            storage.append(batch)
        storage.flush()
        sent = time.perf_counter() - started
        server.refresh()
        started = time.perf_counter()
        found = storage.select([Matcher("__name__", "=", "bench_total")], now - scrapes * 1000, now)
        read = time.perf_counter() - started
        got = sum(len(s.values) for s in found)
        print(f"{kind}: remote write {total / sent:,.0f} samples/s; select {got / read:,.0f} samples/s ({got} back)")
    finally:
        storage.close()
        server.stop()


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["victoria-metrics"]), *(int(a) for a in sys.argv[2:4]))
