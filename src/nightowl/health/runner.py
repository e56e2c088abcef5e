"""The check runner: one scheduler job starts the checks that are due, judges their results, keeps the
state machine of every check, publishes state changes and writes results as metrics.

State lives in memory while running; changed states, new transitions and metric samples are written
in one batch per tick (and at once after `run_now` and pings), so 1,000 checks cost one write a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine

from nightowl.auth.secrets import SecretBox
from nightowl.core.clock import Clock
from nightowl.health import samples, store
from nightowl.health.checkers import CHECKERS, ProbeContext
from nightowl.health.events import CheckEvent, CheckEvents
from nightowl.health.heartbeat import AS_STATE, LastPings, Schedule, Verdict, judge
from nightowl.health.judge import advance, classify, move
from nightowl.health.model import Check, CheckResult, CheckState, Probe, Transition
from nightowl.health.schedule import next_slot
from nightowl.metrics.api import Appender
from nightowl.outbound import OutboundPolicy

log = logging.getLogger(__name__)

TICK = 1.0
"""Seconds between runs of the `health-checks` job; each run starts the checks due before the next."""

Suppression = Callable[[Check, float], str | None]
"""Why a check's alerts are suppressed at a time (parent down, maintenance), or None."""


UNOBSERVED = "not observed: Nightowl was not running"
OBSERVED_AGAIN = "observed again after Nightowl was not running"


def _no_suppression(_check: Check, _at: float) -> str | None:
    return None


def schedule_of(check: Check) -> Schedule:
    spec = check.spec
    return Schedule(period=spec.period, cron=spec.cron, tz=spec.tz, grace=spec.grace)


@dataclass
class CheckRunner:
    engine: Engine
    appender: Appender
    clock: Clock
    events: CheckEvents = field(default_factory=CheckEvents)
    max_concurrency: int = 200
    suppression: Suppression = _no_suppression
    secrets: SecretBox | None = None
    policy: OutboundPolicy = field(default_factory=OutboundPolicy)
    """Where checks may connect (the `outbound_*` settings)."""
    version: int = 0
    """Grows on every change of state or of the set of checks, so views computed from them can be cached."""
    """Encrypts check definitions at rest (set at start from the instance's SecretBox)."""
    context: ProbeContext = field(init=False)
    checks: dict[str, Check] = field(default_factory=dict)
    states: dict[str, CheckState] = field(default_factory=dict)
    pings: dict[str, LastPings] = field(default_factory=dict)
    _next_due: dict[str, float] = field(default_factory=dict)
    _running: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _dirty: set[str] = field(default_factory=set)
    _transitions: list[Transition] = field(default_factory=list)
    _rows: list[samples.Row] = field(default_factory=list)
    _resuming: set[str] = field(default_factory=set)
    _semaphore: asyncio.Semaphore | None = None
    _flush_lock: asyncio.Lock | None = None

    def __post_init__(self) -> None:
        self.context = ProbeContext(clock=self.clock, policy=self.policy)

    def load(self) -> None:
        """Read checks, states and last pings from the state database (at start)."""
        self.checks = {c.id: c for c in store.load_checks(self.engine, self.secrets)}
        self.states = store.load_states(self.engine)
        self.pings = store.last_pings(self.engine)
        now = self.clock.now()
        self._next_due = {cid: next_slot(cid, c.spec.interval, now) for cid, c in self.checks.items()}
        store.save(self.engine, {}, self._unobserved_since_last_run(now))

    def _unobserved_since_last_run(self, now: float) -> list[Transition]:
        """While Nightowl was stopped nobody watched: from the run that was due after the last one until
        the next result, a check's state is `unknown`, which uptime counts on neither side."""
        gaps: list[Transition] = []
        for cid, check in self.checks.items():
            state = self.states.get(cid)
            if state is None or state.last_run_at is None or state.state == "unknown" or check.spec.type == "heartbeat":
                continue  # a heartbeat's judge follows its schedule, run or not
            seen_until = state.last_run_at + check.spec.interval
            if seen_until < now:
                gaps.append(Transition(cid, seen_until, state.state, "unknown", UNOBSERVED, suppressed=True))
                self._resuming.add(cid)
        return gaps

    def _observed_again(self, check: Check, at: float, transition: Transition | None) -> None:
        """The first result after a gap ends it: with the state unchanged no transition says so, so one is
        recorded here (suppressed, never an event: nothing changed for alerting)."""
        if check.id not in self._resuming:
            return
        self._resuming.discard(check.id)
        if transition is None:
            state = self.state_of(check.id).state
            self._transitions.append(Transition(check.id, at, "unknown", state, OBSERVED_AGAIN, suppressed=True))

    def put(self, check: Check) -> None:
        """Start running a new or changed check (its state is kept across edits)."""
        self.version += 1
        self.checks[check.id] = check
        self._next_due[check.id] = next_slot(check.id, check.spec.interval, self.clock.now())

    def forget(self, check_id: str) -> None:
        self.version += 1
        self.checks.pop(check_id, None)
        self.states.pop(check_id, None)
        self.pings.pop(check_id, None)
        self._next_due.pop(check_id, None)
        self._dirty.discard(check_id)

    def state_of(self, check_id: str) -> CheckState:
        return self.states.get(check_id, CheckState(since=self.checks[check_id].created_at))

    # Scheduling

    async def tick(self) -> None:
        """The `health-checks` job: start the checks due before the next tick (each waits for its exact
        due time, so starts are spread within the second), judge heartbeats, write what changed."""
        now = self.clock.now()
        horizon = now + TICK
        for check in list(self.checks.values()):
            if not check.spec.enabled:
                continue
            due_at = self._next_due.get(check.id, horizon + 1)
            due = due_at < horizon
            if due:
                self._next_due[check.id] = next_slot(check.id, check.spec.interval, max(due_at, now))
            if check.spec.type == "heartbeat":
                self.judge_heartbeat(check, now, export=due)
            elif due and check.id not in self._running:
                self._start(check, due_at)
        await self.flush()

    def _start(self, check: Check, due_at: float) -> None:
        self._running.add(check.id)
        task = asyncio.get_running_loop().create_task(
            self._run_and_apply(check, due_at), name=f"check-{check.spec.name}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_and_apply(self, check: Check, due_at: float) -> None:
        try:
            delay = due_at - self.clock.now()
            if delay > 0:
                await self.clock.sleep(delay)
            result = await self.probe(check)
            if check.id in self.checks:
                self.apply(check, result)
        except Exception:
            log.exception("check run failed", extra={"check": check.spec.name})
        finally:
            self._running.discard(check.id)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.flush()
        await self.context.http.aclose()

    # Running one check

    async def probe(self, check: Check) -> CheckResult:
        """Run the checker, bounded by the check's timeout and the concurrency limit; judge the probe."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
        checker = CHECKERS[check.spec.type]
        async with self._semaphore:
            at = self.clock.now()
            started = self.clock.monotonic()
            try:
                probe = await asyncio.wait_for(checker(check.spec, self.context), timeout=check.spec.timeout)
            except TimeoutError:
                probe = Probe(
                    ok=False,
                    latency=self.clock.monotonic() - started,
                    error=f"timed out after {check.spec.timeout:g}s",
                )
        outcome, reason = classify(check.spec, probe)
        return CheckResult(
            check_id=check.id,
            at=at,
            outcome=outcome,
            latency=probe.latency,
            error=reason,
            tls_expiry=probe.tls_expiry,
            detail=probe.detail,
        )

    async def run_now(self, check_id: str) -> CheckResult:
        check = self.checks[check_id]
        if check.spec.type == "heartbeat":
            raise ValueError("heartbeats are not run; they are pinged")
        result = await self.probe(check)
        self.apply(check, result)
        await self.flush()
        return result

    def apply(self, check: Check, result: CheckResult) -> None:
        spec = check.spec
        updated, transition = advance(self.state_of(check.id), result, spec.failures_to_down, spec.successes_to_recover)
        self.states[check.id] = updated
        self._dirty.add(check.id)
        self._rows.extend(samples.result_rows(check, result, updated.state))
        if transition is not None:
            self._transition(check, transition)
        self._observed_again(check, result.at, transition)

    def _transition(self, check: Check, transition: Transition) -> None:
        kind = transition.event
        if kind in ("check.down", "check.degraded"):
            reason = self.suppression(check, transition.at)
            if reason is not None:
                transition = replace(transition, suppressed=True, suppressed_by=reason)
        self._transitions.append(transition)
        self.version += 1
        if kind is None:
            return
        self.events.publish(
            CheckEvent(
                kind=kind,
                check_id=check.id,
                check_name=check.spec.name,
                check_type=check.spec.type,
                service=check.spec.service,
                at=transition.at,
                previous=transition.previous,
                state=transition.state,
                reason=transition.reason,
                suppressed=transition.suppressed,
                suppressed_by=transition.suppressed_by,
                labels=dict(check.spec.labels),
            )
        )

    # Heartbeats

    def judge_heartbeat(self, check: Check, now: float, export: bool) -> Verdict:
        verdict = judge(schedule_of(check), self.pings.get(check.id, LastPings()), now)
        current = self.state_of(check.id)
        updated, transition = move(current, AS_STATE[verdict.status], now, verdict.reason, check.id)
        if transition is not None:
            self.states[check.id] = replace(updated, last_error=None if updated.state == "up" else verdict.reason)
            self._dirty.add(check.id)
            self._transition(check, transition)
        if export or transition is not None:
            self._rows.append(samples.state_row(check, self.state_of(check.id).state, now))
        return verdict

    def ping(self, check: Check, ping: store.Ping) -> store.Ping:
        """Record a ping (written at once), then judge the heartbeat; returns the ping with its run duration."""
        last = self.pings.get(check.id, LastPings())
        finish = last.last_finish
        if ping.kind != "start" and last.start is not None and (finish is None or last.start > finish):
            ping = replace(ping, duration=ping.at - last.start)
        store.insert_ping(self.engine, ping)
        self.pings[check.id] = last.record(ping.kind, ping.at)
        self.judge_heartbeat(check, ping.at, export=False)
        if ping.kind == "start":
            return ping
        error = None
        if ping.kind == "fail":
            error = "failure ping" if ping.exit_code is None else f"failure ping (exit code {ping.exit_code})"
        result = CheckResult(
            check_id=check.id,
            at=ping.at,
            outcome="down" if ping.kind == "fail" else "up",
            latency=ping.duration,
            error=error,
        )
        state = replace(
            self.state_of(check.id),
            last_run_at=ping.at,
            last_outcome=result.outcome,
            last_latency=ping.duration,
            last_error=error,
        )
        self.states[check.id] = state
        self._dirty.add(check.id)
        self._rows.extend(samples.result_rows(check, result, state.state))
        return ping

    # Persistence

    async def flush(self) -> None:
        """Write dirty states, new transitions and metric samples (one transaction, one append)."""
        if self._flush_lock is None:
            self._flush_lock = asyncio.Lock()
        async with self._flush_lock:
            if not (self._dirty or self._transitions or self._rows):
                return
            states = {cid: self.states[cid] for cid in self._dirty if cid in self.states}
            transitions, rows = self._transitions, self._rows
            self._dirty, self._transitions, self._rows = set(), [], []
            await asyncio.to_thread(self._write, states, transitions, rows)

    def _write(self, states: dict[str, CheckState], transitions: list[Transition], rows: list[samples.Row]) -> None:
        store.save(self.engine, states, transitions)
        if rows:
            self.appender.append(samples.batch(rows))
