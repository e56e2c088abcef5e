"""The running scraper: scrape pools (one per job), their discovered targets, and the loop that
scrapes each target at its interval, at a stable offset within it, so scrapes spread out.

Two scheduler jobs drive it: `scrape` (every second: start the scrapes that are due, bounded in
number, each bounded by its timeout) and `scrape-discovery` (re-read file_sd files that changed,
refresh http_sd sources that are due). Parsing, relabeling and the append run in a worker thread so
a large target does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import httpx

from nightowl.core.clock import Clock
from nightowl.core.errors import NightowlError
from nightowl.ingest.errors import MalformedPayload
from nightowl.ingest.exposition import parse_exposition
from nightowl.metrics.model import AppendResult, SampleBatch
from nightowl.outbound import OutboundPolicy
from nightowl.scrape.config import GlobalConfig, ScrapeConfig, TLSConfig
from nightowl.scrape.discovery import FileSource, HTTPSource
from nightowl.scrape.fetch import auth_headers, fetch, make_client
from nightowl.scrape.process import (
    ProcessOptions,
    Report,
    ScrapeFailure,
    SeriesCache,
    failed_scrape,
    process_scrape,
    target_gone,
    with_report,
)
from nightowl.scrape.relabel import compile_rules
from nightowl.scrape.reshape import Shape, learn, reuse
from nightowl.scrape.targets import DroppedTarget, Target, TargetGroup, static_groups, targets_from_groups

log = logging.getLogger(__name__)

Health = Literal["unknown", "up", "down"]
AppendFunc = Callable[[SampleBatch], AppendResult]


@dataclass
class TargetState:
    """A target and what its last scrape did, as `/prometheus/api/v1/targets` shows it."""

    target: Target
    next_due: float
    cache: SeriesCache = field(default_factory=SeriesCache)
    running: bool = False
    health: Health = "unknown"
    last_error: str = ""
    last_scrape: float | None = None
    last_duration: float = 0.0
    last_samples: int = 0
    shape: Shape | None = None
    metadata: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """TYPE, HELP and UNIT by metric family, as the last scrape exposed them (`/targets/metadata`)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One scrape of a target at a time, even when `scrape_once` meets a scheduled scrape."""


@dataclass
class ScrapePool:
    """One `scrape_configs` entry (a job): its discovery sources and its targets."""

    config: ScrapeConfig
    defaults: GlobalConfig
    file_sources: list[FileSource] = field(default_factory=list)
    http_sources: list[HTTPSource] = field(default_factory=list)
    extra_groups: list[TargetGroup] = field(default_factory=list)
    targets: dict[str, TargetState] = field(default_factory=dict)
    dropped: list[DroppedTarget] = field(default_factory=list)
    client: httpx.AsyncClient | None = None
    guarded_client: httpx.AsyncClient | None = None
    """The client of targets added through the API: under the outbound policy, without the job's client
    certificate (its own connections)."""
    reported_errors: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        config = self.config
        self.rules = compile_rules(config.relabel_configs)
        self.options = ProcessOptions(
            honor_labels=config.honor_labels,
            honor_timestamps=config.honor_timestamps,
            sample_limit=config.sample_limit,
            label_limit=config.label_limit,
            metric_rules=compile_rules(config.metric_relabel_configs),
        )
        self.file_sources = [FileSource(list(sd.files), sd.refresh_interval) for sd in config.file_sd_configs]
        self.http_sources = [HTTPSource(sd.url, sd.refresh_interval) for sd in config.http_sd_configs]

    def groups(self) -> list[TargetGroup]:
        out = static_groups(self.config)
        for source in self.file_sources:
            out.extend(source.all_groups())
        for http_source in self.http_sources:
            out.extend(http_source.groups)
        out.extend(self.extra_groups)
        return out

    def discovery_errors(self) -> list[str]:
        errors = [e for source in self.file_sources for e in source.errors.values()]
        errors += [s.error for s in self.http_sources if s.error]
        return errors


API_SOURCE_PREFIX = "api/"
"""`source` of targets added through /api/v1/targets (scrape/managed.py)."""


def carries_credentials(target: Target) -> bool:
    """Only targets from the configuration get the job's basic_auth, authorization and TLS client
    certificate: a target added through the API could name any host, and the job's credentials must
    not follow it there (an editor could otherwise collect them)."""
    return not target.source.startswith(API_SOURCE_PREFIX)


def without_client_certificate(tls: TLSConfig | None) -> TLSConfig | None:
    """The job's TLS settings for targets that get no credentials: its CA and verification, no client certificate."""
    return tls.model_copy(update={"cert_file": None, "key_file": None}) if tls is not None else None


def next_due(target: Target, now: float) -> float:
    """The first time >= now that falls on the target's offset within its interval."""
    offset = target.offset()
    return offset + math.ceil((now - offset) / target.interval) * target.interval


class Scraper:
    def __init__(
        self,
        configs: list[ScrapeConfig],
        defaults: GlobalConfig,
        clock: Clock,
        append: AppendFunc,
        *,
        max_body_bytes: int = 64 * 1024 * 1024,
        max_concurrent: int = 32,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.defaults = defaults
        self.policy = policy or OutboundPolicy()
        """Where targets added through `/api/v1/targets` may be scraped; the config file's are not judged."""
        self.clock = clock
        self.append = append
        self.max_body_bytes = max_body_bytes
        self.transport = transport
        self.pools: dict[str, ScrapePool] = {c.job_name: ScrapePool(c, defaults) for c in configs}
        self._slots = asyncio.Semaphore(max_concurrent)
        self._tasks: set[asyncio.Task[None]] = set()
        for pool in self.pools.values():
            self.sync(pool)

    def pool_for(self, job: str) -> ScrapePool:
        """The pool of `job`; API-managed targets of an unknown job get a pool with the global defaults."""
        pool = self.pools.get(job)
        if pool is None:
            pool = self.pools[job] = ScrapePool(ScrapeConfig(job_name=job), self.defaults)
        return pool

    def sync(self, pool: ScrapePool) -> None:
        """Make the pool's targets match its groups: new ones scheduled, gone ones marked stale."""
        active, pool.dropped = targets_from_groups(pool.groups(), pool.config, self.defaults, pool.rules)
        now = self.clock.now()
        wanted = {t.key: t for t in active}
        for key in [k for k in pool.targets if k not in wanted]:
            gone = pool.targets.pop(key)
            self._store(target_gone(gone.cache, int(now * 1000)))
        for key, target in wanted.items():
            state = pool.targets.get(key)
            if state is None:
                pool.targets[key] = TargetState(target, next_due(target, now))
            elif state.target != target:
                if state.target.interval != target.interval:
                    state.next_due = next_due(target, now)
                state.target = target

    def set_extra_groups(self, groups_by_job: dict[str, list[TargetGroup]]) -> None:
        """Replace the API-managed targets (grouped by job)."""
        for job in set(groups_by_job) | {j for j, p in self.pools.items() if p.extra_groups}:
            pool = self.pool_for(job)
            pool.extra_groups = groups_by_job.get(job, [])
            self.sync(pool)

    def _store(self, batch: SampleBatch) -> None:
        if len(batch):
            try:
                self.append(batch)
            except NightowlError as exc:
                log.warning("scrape samples refused by storage", extra={"error": exc.detail})

    def health_counts(self) -> dict[str, float]:
        """Targets by health, for Nightowl's own /metrics."""
        counts = {"up": 0.0, "down": 0.0, "unknown": 0.0}
        for pool in self.pools.values():
            for state in pool.targets.values():
                counts[state.health] += 1
        return counts

    async def tick(self) -> list[Target]:
        """Start every scrape that is due; returns their targets without waiting for them."""
        now = self.clock.now()
        started: list[Target] = []
        for pool in self.pools.values():
            for state in pool.targets.values():
                if state.next_due > now:
                    continue
                interval = state.target.interval
                state.next_due += max(1, math.ceil((now - state.next_due) / interval + 1e-9)) * interval
                if state.running:
                    continue
                state.running = True
                task = asyncio.get_running_loop().create_task(self._scrape(pool, state))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                started.append(state.target)
        return started

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _client(self, pool: ScrapePool, credentials: bool = True) -> httpx.AsyncClient:
        """The job's client for its configured targets; targets added through the API (no `credentials`) get one
        under the outbound policy, with the job's CA but not its TLS client certificate."""
        if credentials:
            if pool.client is None:
                pool.client = make_client(pool.config.tls_config, self.transport)
            return pool.client
        if pool.guarded_client is None:
            tls = without_client_certificate(pool.config.tls_config)
            pool.guarded_client = make_client(tls, self.transport, self.policy)
        return pool.guarded_client

    async def scrape_once(self, job: str, key: str) -> TargetState:
        """Scrape one target now and wait for it (tests and the API's "scrape now")."""
        pool = self.pools[job]
        state = pool.targets[key]
        state.running = True
        await self._scrape(pool, state)
        return state

    async def _scrape(self, pool: ScrapePool, state: TargetState) -> None:
        target = state.target
        config = pool.config
        try:
            async with state.lock, self._slots:
                started = self.clock.monotonic()
                ts_ms = int(self.clock.now() * 1000)
                try:
                    credentials = carries_credentials(target)
                    headers = auth_headers(config.basic_auth, config.authorization) if credentials else {}
                    client = self._client(pool, credentials)
                    async with asyncio.timeout(target.timeout):
                        fetched = await fetch(client, target.url, target.timeout, headers, self.max_body_bytes)
                    error = ""
                except TimeoutError:
                    fetched, error = None, f"context deadline exceeded (timeout {target.timeout:g}s)"
                except ScrapeFailure as exc:
                    fetched, error = None, str(exc)
                if fetched is not None:
                    error = await asyncio.to_thread(self._ingest, pool, state, fetched.body, fetched.openmetrics, ts_ms)
                else:
                    self._finish_failed(state, ts_ms, 0, self.clock.monotonic() - started)
                duration = self.clock.monotonic() - started
                state.health = "down" if error else "up"
                state.last_error = error
                state.last_scrape = ts_ms / 1000.0
                state.last_duration = duration
        except Exception as exc:  # a bug in one scrape must not kill the loop; the target shows it
            log.exception("scrape failed", extra={"job": pool.config.job_name, "url": target.url})
            state.health, state.last_error = "down", f"{type(exc).__name__}: {exc}"
        finally:
            state.running = False

    def _parse(self, state: TargetState, body: bytes, openmetrics: bool, ts_ms: int) -> SampleBatch:
        """The body's samples: from the last parse when the body has the same shape, else parsed."""
        if state.shape is not None:
            reused = reuse(body, state.shape, ts_ms, openmetrics=openmetrics)
            if reused is not None:
                return reused
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ScrapeFailure("the exposition is not valid UTF-8") from None
        parsed = parse_exposition(text, ts_ms, openmetrics=openmetrics)
        state.shape = learn(body, parsed, ts_ms, openmetrics)
        return parsed

    def _ingest(self, pool: ScrapePool, state: TargetState, body: bytes, openmetrics: bool, ts_ms: int) -> str:
        """Parse, relabel and store one scrape (in a worker thread); returns the error, "" if it went well."""
        target = state.target
        started = self.clock.monotonic()
        scraped = 0
        try:
            parsed = self._parse(state, body, openmetrics, ts_ms)
            state.metadata = parsed.metadata
            scraped = len(parsed)
            batch, kept, added = process_scrape(parsed, target.labels, pool.options, state.cache, ts_ms)
        except (MalformedPayload, ScrapeFailure) as exc:
            self._finish_failed(state, ts_ms, scraped, self.clock.monotonic() - started)
            return exc.detail if isinstance(exc, MalformedPayload) else str(exc)
        report = Report(True, self.clock.monotonic() - started, scraped, kept, added)
        state.last_samples = kept
        try:
            self.append(with_report(batch, state.cache, target.labels, report, ts_ms))
        except NightowlError as exc:
            return f"storage refused the samples: {exc.detail}"
        return ""

    def _finish_failed(self, state: TargetState, ts_ms: int, scraped: int, duration: float) -> None:
        batch = failed_scrape(state.cache, ts_ms)
        report = Report(False, duration, scraped, 0, 0)
        state.last_samples = 0
        self._store(with_report(batch, state.cache, state.target.labels, report, ts_ms))

    async def discover(self) -> None:
        """Refresh file and HTTP discovery; re-sync the pools whose groups changed."""
        now = self.clock.now()
        for pool in list(self.pools.values()):
            changed = False
            for source in pool.file_sources:
                changed |= await asyncio.to_thread(source.refresh, now)
            for http_source, sd in zip(pool.http_sources, pool.config.http_sd_configs, strict=True):
                if now >= http_source.next_refresh:
                    client = self._client(pool)
                    headers = auth_headers(sd.basic_auth, sd.authorization)
                    changed |= await http_source.refresh(client, now, {"headers": headers, "timeout": 30.0})
            if changed:
                self.sync(pool)
            errors = set(pool.discovery_errors())
            for error in sorted(errors - pool.reported_errors):
                log.warning("service discovery failed; keeping the last good targets", extra={"error": error})
            pool.reported_errors = errors

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for pool in self.pools.values():
            for client in (pool.client, pool.guarded_client):
                if client is not None:
                    await client.aclose()
            pool.client = pool.guarded_client = None
