"""The demo platform's state: counters, histograms and gauges that evolve with the clock, and incidents.

Metrics move only when read (`advance(now)` integrates the time since the last read), so the demo
costs nothing when nobody scrapes it and is exactly reproducible with a `ManualClock` and a seed.
Incidents (a latency spike, a failure burst, a service down) are drawn at random; the first one
comes within the first minute, so a newcomer sees a health change and an alert quickly.
"""

from __future__ import annotations

import logging
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from nightowl.demo.catalog import (
    DB_BUCKETS,
    EVENT_TYPES,
    LATENCY_BUCKETS,
    NFT_COLLECTIONS,
    NOTIFY_CHANNELS,
    PAYMENT_PROVIDERS,
    SERVICES,
    SOLANA_BUCKETS,
    ServiceSpec,
)

log = logging.getLogger(__name__)

IncidentKind = Literal["latency_spike", "failure_burst", "down"]
STEP_SECONDS = 5.0
MAX_CATCH_UP_SECONDS = 600.0
LATENCY_SIGMA = 0.55
MAX_RESPONSE_DELAY = 2.0
SOLANA_FAILURES = 0.03
"""Share of Solana transactions that fail when healthy (expired blockhashes, mostly)."""
SOLANA_BURST_FAILURES = 0.3
SOLANA_FAILURE_REASONS = (("blockhash_expired", 0.6), ("insufficient_funds", 0.15), ("program_error", 0.25))

Key = tuple[str, ...]


@dataclass
class Incident:
    service: str
    kind: IncidentKind
    start: float
    end: float


@dataclass
class Histogram:
    """Cumulative bucket counts kept as floats (expected counts), shown rounded: always monotonic."""

    bounds: tuple[float, ...]
    buckets: list[float] = field(default_factory=list)
    count: float = 0.0
    total: float = 0.0

    def observe_lognormal(self, n: float, median: float) -> None:
        if n <= 0:
            return
        if not self.buckets:
            self.buckets = [0.0] * len(self.bounds)
        mu = math.log(median)
        for i, bound in enumerate(self.bounds):
            share = 0.5 * (1 + math.erf((math.log(bound) - mu) / (LATENCY_SIGMA * math.sqrt(2))))
            self.buckets[i] += n * share
        self.count += n
        self.total += n * median * math.exp(LATENCY_SIGMA**2 / 2)


@dataclass
class ServiceState:
    spec: ServiceSpec
    counters: dict[str, dict[Key, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    histograms: dict[str, dict[Key, Histogram]] = field(default_factory=dict)
    gauges: dict[str, dict[Key, float]] = field(default_factory=lambda: defaultdict(dict))

    def histogram(self, name: str, key: Key, bounds: tuple[float, ...]) -> Histogram:
        family = self.histograms.setdefault(name, {})
        if key not in family:
            family[key] = Histogram(bounds)
        return family[key]


class Platform:
    """About twenty services of a ticketing platform, advanced lazily by the clock."""

    def __init__(self, start: float, seed: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.last = start
        self.services = {spec.name: ServiceState(spec) for spec in SERVICES}
        self.incidents: list[Incident] = []
        self.next_incident = start + self.rng.uniform(20, 40)
        self._first_incident = True
        for state in self.services.values():
            self._step_gauges(state, start, healthy=True)

    def active_incidents(self, now: float) -> list[Incident]:
        return [i for i in self.incidents if i.start <= now < i.end]

    def incident_of(self, service: str, now: float) -> Incident | None:
        for incident in self.active_incidents(now):
            if incident.service == service:
                return incident
        return None

    def is_down(self, service: str, now: float) -> bool:
        incident = self.incident_of(service, now)
        return incident is not None and incident.kind == "down"

    def response_delay(self, service: str, now: float) -> float:
        """How long the service takes to answer its own endpoints: slow during a latency spike."""
        incident = self.incident_of(service, now)
        if incident is None or incident.kind != "latency_spike":
            return 0.0
        return min(MAX_RESPONSE_DELAY, self.services[service].spec.latency * 10 + 0.3)

    def start_incident(self, service: str, kind: IncidentKind, now: float, duration: float) -> Incident:
        """Start an incident on demand (the demo API), so an alert path can be shown or tested at will.

        The service's traffic is integrated up to `now` first, so the incident changes only what follows.
        """
        if service not in self.services:
            raise KeyError(service)
        self.advance(now)
        self.incidents = [i for i in self.incidents if not (i.service == service and i.start <= now < i.end)]
        incident = Incident(service, kind, now, now + duration)
        self.incidents.append(incident)
        _log_started(incident, "on request")
        return incident

    def advance(self, now: float) -> None:
        """Integrate traffic from the last read up to `now`, in steps, starting incidents as they fall due."""
        self.last = max(self.last, now - MAX_CATCH_UP_SECONDS)
        while self.last < now:
            dt = min(STEP_SECONDS, now - self.last)
            self.last += dt
            self._maybe_start_incident(self.last)
            for state in self.services.values():
                self._step(state, self.last, dt)
        self.incidents = [i for i in self.incidents if i.end > now - 3600]

    def _maybe_start_incident(self, now: float) -> None:
        if now < self.next_incident:
            return
        busy = {i.service for i in self.active_incidents(now)}
        candidates = [s for s in self.services if s not in busy and s != "api-gateway"]
        service = self.rng.choice(candidates)
        kind: IncidentKind = (
            "down" if self._first_incident else self.rng.choice(["latency_spike", "failure_burst", "down"])
        )
        duration = self.rng.uniform(60, 120) if kind == "down" else self.rng.uniform(90, 150)
        incident = Incident(service, kind, now, now + duration)
        self.incidents.append(incident)
        _log_started(incident, "at random")
        self._first_incident = False
        self.next_incident = now + self.rng.uniform(90, 240)

    def _traffic(self, spec: ServiceSpec, now: float) -> float:
        """Requests per second: a daily curve (peak in the evening, UTC) with a little noise."""
        hour = (now / 3600.0) % 24
        daily = 0.55 + 0.45 * math.sin((hour - 13) / 24 * 2 * math.pi)
        return max(0.0, spec.rps * daily * self.rng.gauss(1.0, 0.08))

    def _step(self, state: ServiceState, now: float, dt: float) -> None:
        spec = state.spec
        incident = self.incident_of(spec.name, now)
        kind = incident.kind if incident is not None else None
        if kind == "down":
            self._step_gauges(state, now, healthy=False)
            return
        latency = spec.latency * (self.rng.uniform(6, 12) if kind == "latency_spike" else self.rng.uniform(0.9, 1.1))
        error_rate = 0.25 if kind == "failure_burst" else spec.error_rate
        requests = self._traffic(spec, now) * dt
        counters = state.counters
        for route_index, route in enumerate(spec.routes):
            share = requests / (route_index + 1) / sum(1 / (k + 1) for k in range(len(spec.routes)))
            method = (
                "POST" if any(w in route for w in ("reserve", "charge", "submit", "mint", "buy", "send")) else "GET"
            )
            errors = share * error_rate
            client_errors = share * 0.02
            counters["http_requests_total"][(method, route, "200")] += share - errors - client_errors
            counters["http_requests_total"][(method, route, "500")] += errors
            counters["http_requests_total"][(method, route, "404")] += client_errors
            state.histogram("http_request_duration_seconds", (method, route), LATENCY_BUCKETS).observe_lognormal(
                share, latency
            )
        if spec.db:
            # a latency spike is the database's doing: lock contention makes queries take about a second
            slow = self.rng.uniform(120, 180) if kind == "latency_spike" else 1.0
            for operation, weight, median in (("select", 0.8, 0.004), ("insert", 0.15, 0.008), ("update", 0.05, 0.01)):
                state.histogram("db_query_duration_seconds", (operation,), DB_BUCKETS).observe_lognormal(
                    requests * 2 * weight, median * slow
                )
        self._step_domains(state, requests, error_rate, kind)
        self._step_gauges(state, now, healthy=True, pressure=3.0 if kind == "latency_spike" else 1.0)

    def _step_domains(self, state: ServiceState, requests: float, error_rate: float, kind: str | None) -> None:
        counters = state.counters
        rng = self.rng
        for domain in state.spec.domains:
            if domain == "tickets":
                for event_type in EVENT_TYPES:
                    sold = requests * 0.4 * rng.uniform(0.1, 0.5)
                    counters["tickets_sold_total"][(event_type,)] += sold
                    counters["revenue_cents_total"][("USD",)] += sold * rng.uniform(3500, 9500)
            elif domain == "payments":
                for provider in PAYMENT_PROVIDERS:
                    attempts = requests / len(PAYMENT_PROVIDERS)
                    failed_share = 0.35 if kind == "failure_burst" else 0.02 + error_rate
                    counters["payment_success_total"][(provider,)] += attempts * (1 - failed_share)
                    for reason, part in (("declined", 0.6), ("timeout", 0.25), ("fraud_suspected", 0.15)):
                        counters["payment_failure_total"][(provider, reason)] += attempts * failed_share * part
                counters["refunds_processed_total"][()] += requests * 0.01
            elif domain == "marketplace":
                listings = state.gauges["active_listings"].get((), 1800.0)
                state.gauges["active_listings"][()] = max(200.0, listings + rng.gauss(0, 12))
                counters["refunds_processed_total"][()] += requests * 0.005
            elif domain == "blockchain":
                for collection in NFT_COLLECTIONS:
                    counters["nft_minted_total"][(collection,)] += requests * 0.2 * rng.uniform(0.5, 1.5)
                slow = 10.0 if kind == "latency_spike" else 1.0
                state.histogram("solana_transaction_time_seconds", (), SOLANA_BUCKETS).observe_lognormal(
                    requests * 0.5, 0.8 * slow
                )
                submitted = requests * 0.5
                failed_share = SOLANA_BURST_FAILURES if kind == "failure_burst" else SOLANA_FAILURES
                counters["solana_transactions_total"][()] += submitted
                for reason, part in SOLANA_FAILURE_REASONS:
                    counters["solana_transaction_failures_total"][(reason,)] += submitted * failed_share * part
            elif domain == "notifications":
                for channel in NOTIFY_CHANNELS:
                    counters["notifications_sent_total"][(channel,)] += requests * rng.uniform(0.2, 0.5)
            elif domain == "auth":
                counters["logins_total"][("success",)] += requests * 0.3
                counters["logins_total"][("failure",)] += requests * 0.3 * (0.3 if kind == "failure_burst" else 0.04)

    def _step_gauges(self, state: ServiceState, now: float, healthy: bool, pressure: float = 1.0) -> None:
        gauges = state.gauges
        spec = state.spec
        if not healthy:
            gauges["active_users"][()] = 0.0
            gauges["queue_size"][()] = gauges["queue_size"].get((), 0.0) + self.rng.uniform(5, 20)
            return
        users = self._traffic(spec, now) * 9
        gauges["active_users"][()] = round(users)
        queue = gauges["queue_size"].get((), 0.0)
        target = spec.rps * 0.2 * pressure
        gauges["queue_size"][()] = max(0.0, round(queue + (target - queue) * 0.5 + self.rng.gauss(0, 1)))
        base_hit = 0.93 if pressure == 1.0 else 0.71
        gauges["cache_hit_rate"][()] = min(1.0, max(0.0, self.rng.gauss(base_hit, 0.015)))


def _log_started(incident: Incident, why: str) -> None:
    log.info(
        "demo incident started %s: %s on %s for %.0fs",
        why,
        incident.kind,
        incident.service,
        incident.end - incident.start,
    )
