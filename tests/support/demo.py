"""Drive a `--demo` app on a manual clock: every demo target scraped and the demo rule pack evaluated once
per step, then due alert groups flushed and the outbox delivered."""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from tests.notify.flow import settle

STEP = 15.0  # the demo rule group's interval
RULE_GROUP = "rules:demo-platform"
DEMO_SEED = 11  # the demo's random traffic noise, the same in every run (the tests pass with any seed)


@dataclass
class DemoDriver:
    app: FastAPI
    clock: ManualClock

    async def prepare(self) -> None:
        """Stop the background loop (it would race the manual clock), scrape through the app itself, and
        switch the demo's own random incidents off: only the incidents a test starts happen."""
        nightowl = self.app.state.nightowl
        await nightowl.scheduler.stop()
        nightowl.demo.next_incident = math.inf
        nightowl.scraper.transport = httpx.ASGITransport(app=self.app)

    async def step(self) -> None:
        nightowl = self.app.state.nightowl
        self.clock.advance(STEP)
        for key in list(nightowl.scraper.pools["demo"].targets):
            await nightowl.scraper.scrape_once("demo", key)
        await nightowl.scheduler.run_now(RULE_GROUP)
        await settle(self.app)
