"""CPU cost of the ingest decoders, per million samples, without HTTP or storage.

    .venv/bin/python bench/ingest_parsers.py [--series 10000] [--repeat 20]

- exposition: a 10k-series Prometheus text exposition (what a scrape returns), parsed warm (the series
  cache filled by an earlier scrape, as in steady state) and cold (first sight of every series);
- exposition + limits: the same, then the validation every batch goes through;
- remote write 1.0: 10k series x 1 sample per request (Prometheus's usual shape), snappy included;
- remote write 2.0: the same series with a symbols table.

Prometheus's own anchor for comparison: about 1.7 CPU-s per million scraped samples.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cramjam

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import wire

from nightowl.ingest import exposition, remote_write
from nightowl.ingest.encoding import snappy_block
from nightowl.ingest.limits import IngestLimits, Validator


def exposition_text(series: int) -> str:
    lines = []
    families = max(1, series // 100)
    for family in range(families):
        name = f"node_family_{family}_total"
        lines.append(f"# HELP {name} Synthetic counter number {family}.")
        lines.append(f"# TYPE {name} counter")
        for i in range(series // families):
            lines.append(
                f'{name}{{cpu="{i % 16}",device="sd{i % 7}",mode="m{i}",instance="host-{family}:9100"}} {i * 1.25 + 1}'
            )
    return "\n".join(lines) + "\n"


def remote_write_series(series: int) -> list[tuple[dict[str, str], list[tuple[float, int]]]]:
    return [
        (
            {
                "__name__": f"metric_{i % 100}",
                "job": "node",
                "instance": f"host{i % 50}:9100",
                "cpu": str(i % 8),
                "mode": f"m{i}",
            },
            [(i * 1.5 + 1, 1_700_000_000_000)],
        )
        for i in range(series)
    ]


def cpu_per_million(run: Callable[[], int], repeat: int, reset: Callable[[], None] | None = None) -> float:
    """Median CPU seconds per million samples over `repeat` runs."""
    figures = []
    for _ in range(repeat):
        if reset is not None:
            reset()
        started = time.process_time()
        samples = run()
        figures.append((time.process_time() - started) / samples * 1e6)
    return statistics.median(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    text = exposition_text(args.series)
    validator = Validator(IngestLimits())

    def parse() -> int:
        return len(exposition.parse_exposition(text, 1_700_000_000_000))

    def parse_and_check() -> int:
        batch, _ = validator.check(exposition.parse_exposition(text, 1_700_000_000_000))
        return len(batch)

    rw_series = remote_write_series(args.series)
    rw1 = bytes(cramjam.snappy.compress_raw(wire.write_request(rw_series)))
    rw2 = bytes(
        cramjam.snappy.compress_raw(wire.write_request_v2([(labels, points, None) for labels, points in rw_series]))
    )

    def decode_rw1() -> int:
        return len(remote_write.decode_v1(snappy_block(rw1, 1 << 30)).batch)

    def decode_rw2() -> int:
        return len(remote_write.decode_v2(snappy_block(rw2, 1 << 30)).batch)

    parse()
    decode_rw1()
    rows = [
        ("exposition text, warm", cpu_per_million(parse, args.repeat)),
        ("exposition text, cold", cpu_per_million(parse, max(3, args.repeat // 4), exposition._SERIES_CACHE.clear)),
        ("exposition text + limits, warm", cpu_per_million(parse_and_check, args.repeat)),
        ("remote write 1.0 (1 sample/series), warm", cpu_per_million(decode_rw1, args.repeat)),
        ("remote write 2.0 (1 sample/series)", cpu_per_million(decode_rw2, args.repeat)),
    ]
    print(f"{args.series} series, median of {args.repeat} runs")
    print("| decoder | CPU-s per million samples |\n|---|---|")
    for label, figure in rows:
        print(f"| {label} | {figure:.2f} |")


if __name__ == "__main__":
    main()
