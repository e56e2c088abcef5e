"""How the runtime holds the scraper: built from the settings (plus the demo jobs), driven by two jobs."""

from __future__ import annotations

from sqlalchemy import Engine

from nightowl.config import Settings
from nightowl.core.clock import Clock
from nightowl.core.errors import ConfigError
from nightowl.core.scheduler import Job
from nightowl.core.telemetry import Telemetry
from nightowl.scrape.managed import groups_by_job, list_targets
from nightowl.scrape.scraper import AppendFunc, Scraper


def build_scraper(settings: Settings, clock: Clock, append: AppendFunc) -> Scraper:
    configs = list(settings.scrape_configs)
    if settings.demo:
        from nightowl.demo.targets import DEMO_JOB, demo_scrape_config

        if any(c.job_name == DEMO_JOB for c in configs):
            raise ConfigError(f"job_name {DEMO_JOB!r} is taken by the demo platform; rename that scrape job")
        configs.append(demo_scrape_config(settings))
    return Scraper(
        configs,
        settings.global_config,
        clock,
        append,
        max_body_bytes=settings.ingest_max_decompressed_bytes,
    )


def register_telemetry(scraper: Scraper, telemetry: Telemetry) -> None:
    telemetry.add_callback_gauges(
        "nightowl_scrape_targets",
        "Scrape targets by the health of their last scrape (up, down, unknown = not scraped yet).",
        "health",
        scraper.health_counts,
    )


def load_managed_targets(scraper: Scraper, engine: Engine) -> None:
    scraper.set_extra_groups(groups_by_job(list_targets(engine)))


def scrape_jobs(scraper: Scraper) -> list[Job]:
    async def start_due_scrapes() -> None:
        await scraper.tick()

    return [
        Job(
            "scrape",
            start_due_scrapes,
            interval=1,
            timeout=10,
            run_at_start=True,
            description="Start the scrapes that are due (each target at its interval, spread by a stable offset).",
        ),
        Job(
            "scrape-discovery",
            scraper.discover,
            interval=5,
            timeout=60,
            run_at_start=True,
            description="Re-read changed file_sd files and refresh http_sd sources that are due.",
        ),
    ]
