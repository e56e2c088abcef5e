"""Nightowl scrapes itself, as Prometheus does: its own metrics land in its own storage as `job="nightowl"`.

The exposition is rendered from the registry in process (no HTTP round trip, no credential needed) and then
takes the path of every other scrape: parse, target labels (a scraped `job` label becomes `exported_job`),
staleness, the `up`/`scrape_*` report series and the one `Ingestor`, so limits and metrics are the same.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, generate_latest

from nightowl.core.clock import Clock
from nightowl.core.errors import NightowlError
from nightowl.core.scheduler import Job
from nightowl.ingest.errors import MalformedPayload
from nightowl.ingest.exposition import parse_exposition
from nightowl.metrics.model import Labels
from nightowl.scrape.process import (
    ProcessOptions,
    Report,
    ScrapeFailure,
    SeriesCache,
    failed_scrape,
    process_scrape,
    with_report,
)
from nightowl.scrape.scraper import AppendFunc

log = logging.getLogger(__name__)

SELF_JOB = "nightowl"


class SelfScrape:
    """One target, Nightowl itself, scraped by the `self-scrape` job."""

    def __init__(self, registry: CollectorRegistry, append: AppendFunc, clock: Clock, instance: str) -> None:
        self.registry, self.append, self.clock = registry, append, clock
        self.target: Labels = (("instance", instance), ("job", SELF_JOB))
        self.options = ProcessOptions()
        self.cache = SeriesCache()
        self.last_error = ""

    def scrape(self) -> None:
        started = self.clock.monotonic()
        ts_ms = int(self.clock.now() * 1000)
        scraped = 0
        try:
            parsed = parse_exposition(generate_latest(self.registry).decode("utf-8"), ts_ms)
            scraped = len(parsed)
            batch, kept, added = process_scrape(parsed, self.target, self.options, self.cache, ts_ms)
            report = Report(True, self.clock.monotonic() - started, scraped, kept, added)
            self.last_error = ""
        except (MalformedPayload, ScrapeFailure) as exc:
            self.last_error = exc.detail if isinstance(exc, MalformedPayload) else str(exc)
            log.warning("self-scrape failed", extra={"error": self.last_error})
            batch = failed_scrape(self.cache, ts_ms)
            report = Report(False, self.clock.monotonic() - started, scraped, 0, 0)
        try:
            self.append(with_report(batch, self.cache, self.target, report, ts_ms))
        except NightowlError as exc:
            self.last_error = f"storage refused the samples: {exc.detail}"
            log.warning("self-scrape not stored", extra={"error": self.last_error})


def self_scrape_job(scrape: SelfScrape, interval: float) -> Job:
    return Job(
        "self-scrape",
        scrape.scrape,
        interval=interval,
        timeout=max(10.0, interval),
        description=f'Store Nightowl\'s own metrics in its storage as job="{SELF_JOB}", as Prometheus scrapes itself.',
    )
