"""The scrape job that `--demo` adds: every demo service, scraped over Nightowl's own HTTP server."""

from __future__ import annotations

from nightowl.config import Settings
from nightowl.demo.catalog import SERVICES
from nightowl.scrape.config import ScrapeConfig, StaticConfig

DEMO_JOB = "demo"
DEMO_SCRAPE_INTERVAL = 5.0


def own_address(settings: Settings) -> str:
    """Where this process can reach itself: a wildcard listen address is reached on loopback."""
    host = settings.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host:
        host = f"[{host}]"
    return f"{host}:{settings.port}"


def demo_scrape_config(settings: Settings) -> ScrapeConfig:
    address = own_address(settings)
    return ScrapeConfig(
        job_name=DEMO_JOB,
        scrape_interval=DEMO_SCRAPE_INTERVAL,
        scrape_timeout=DEMO_SCRAPE_INTERVAL,
        static_configs=[
            StaticConfig(
                targets=[address],
                labels={
                    "service": spec.name,
                    "instance": f"{spec.name}.demo",
                    "__metrics_path__": f"/demo/{spec.name}/metrics",
                },
            )
            for spec in SERVICES
        ],
    )
