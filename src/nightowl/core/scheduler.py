"""The one scheduler: every background job is a named Job with an interval or a cron expression.

Jobs run on the event loop (async functions) or in a worker thread (plain functions). A job that is
still running when it is due again is skipped, not stacked (overlap protection), and counted.
Interval jobs without jitter run at a fixed rate (start + k * interval), so a late run does not push the
later ones back, and `scheduled_time()` tells a job the time it was due (rule groups evaluate at it, as
Prometheus evaluates at the group's slot, so `for: 30s` holds after exactly two 15 s evaluations).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from croniter import croniter  # type: ignore[import-untyped,unused-ignore]

from nightowl.core.clock import Clock

log = logging.getLogger(__name__)

JobFunc = Callable[[], Awaitable[None]] | Callable[[], None]


@dataclass(frozen=True)
class Job:
    """What to run and when. Exactly one of `interval` (seconds) and `cron` is set."""

    name: str
    func: JobFunc
    interval: float | None = None
    cron: str | None = None
    timeout: float = 60.0
    jitter: float = 0.0
    run_at_start: bool = False
    description: str = ""
    offset: float | None = None
    """With `interval`: run at the instants that are `offset` seconds past a multiple of the interval (unix
    time), as Prometheus spreads its rule groups over their interval; replaces run_at_start and jitter."""

    def __post_init__(self) -> None:
        if (self.interval is None) == (self.cron is None):
            raise ValueError(f"job {self.name!r}: set exactly one of interval and cron")
        if self.interval is not None and self.interval <= 0:
            raise ValueError(f"job {self.name!r}: interval must be > 0, got {self.interval}")
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise ValueError(f"job {self.name!r}: invalid cron expression {self.cron!r}")
        if self.timeout <= 0:
            raise ValueError(f"job {self.name!r}: timeout must be > 0, got {self.timeout}")


@dataclass
class JobState:
    job: Job
    next_run: float
    running: bool = False
    runs: int = 0
    failures: int = 0
    skipped_overlaps: int = 0
    missed_slots: int = 0
    last_run: float | None = None
    last_lag: float | None = None
    last_duration: float | None = None
    last_error: str | None = None
    last_success: float | None = None
    triggered: bool = False


@dataclass(frozen=True)
class JobStatus:
    """A read-only view of one job, as `GET /api/v1/workers` shows it."""

    name: str
    description: str
    schedule: str
    timeout: float
    running: bool
    runs: int
    failures: int
    skipped_overlaps: int
    missed_slots: int
    """Fixed-rate slots that passed while the scheduler was busy or the process stalled (never run)."""
    last_run: float | None
    last_lag: float | None
    """Seconds between the slot the last run was due at and its start (how late it started)."""
    last_duration: float | None
    last_error: str | None
    last_success: float | None
    next_run: float


JobListener = Callable[[str, float, str | None], None]

_scheduled: contextvars.ContextVar[float | None] = contextvars.ContextVar("nightowl_scheduled_time", default=None)


def scheduled_time() -> float | None:
    """The time the running job was due (None outside a job); `run_now` runs are due when they start."""
    return _scheduled.get()


def next_cron_time(expression: str, after: float) -> float:
    start = datetime.fromtimestamp(after, UTC)
    result: datetime = croniter(expression, start).get_next(datetime)
    return result.timestamp()


@dataclass
class Scheduler:
    clock: Clock
    rng: random.Random = field(default_factory=random.Random)
    listeners: list[JobListener] = field(default_factory=list)
    _states: dict[str, JobState] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _loop_task: asyncio.Task[None] | None = None
    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def add(self, job: Job) -> None:
        if job.name in self._states:
            raise ValueError(f"a job named {job.name!r} is already scheduled")
        now = self.clock.now()
        first = now if job.run_at_start and job.offset is None else self._next_time(job, now)
        self._states[job.name] = JobState(job=job, next_run=first)
        if self._wake is not None:
            self._wake.set()

    def remove(self, name: str) -> None:
        self._states.pop(name, None)

    def trigger(self, name: str) -> None:
        """Run job `name` as soon as possible, from any thread (new work for it has arrived); if it is
        running, it runs once more right after. Its regular schedule is unchanged."""
        state = self._states.get(name)
        if state is None:
            return
        state.triggered = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    def _next_time(self, job: Job, after: float) -> float:
        if job.interval is not None and job.offset is not None:
            return after + ((job.offset - after) % job.interval or job.interval)
        jitter = self.rng.uniform(0, job.jitter) if job.jitter > 0 else 0.0
        if job.interval is not None:
            return after + job.interval + jitter
        assert job.cron is not None
        return next_cron_time(job.cron, after) + jitter

    def _following(self, job: Job, due: float, now: float) -> float:
        """The next run after one due at `due`: fixed rate for plain intervals, skipping slots already past."""
        if not self._fixed_rate(job):
            return self._next_time(job, now)
        assert job.interval is not None
        missed = max(0, math.floor((now - due) / job.interval))
        return due + (missed + 1) * job.interval

    @staticmethod
    def _fixed_rate(job: Job) -> bool:
        return job.interval is not None and job.jitter <= 0

    def run_due(self) -> list[str]:
        """Start every job whose time has come; returns the names started. Does not wait for them."""
        now = self.clock.now()
        started: list[str] = []
        for state in self._states.values():
            due = state.next_run <= now
            if state.triggered and not state.running:
                state.triggered = False
            elif not due:
                continue
            slot = now  # a triggered run (new work arrived) is due when it starts
            if due:
                interval = state.job.interval if self._fixed_rate(state.job) else None
                if interval is not None:
                    state.missed_slots += max(0, math.floor((now - state.next_run) / interval))
                state.next_run = self._following(state.job, state.next_run, now)
                if interval is not None:
                    slot = state.next_run - interval
            if state.running:
                state.skipped_overlaps += 1
                log.warning("job still running, skipped this run", extra={"job": state.job.name})
                continue
            state.running = True
            task = asyncio.get_running_loop().create_task(self._run(state, slot))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started.append(state.job.name)
        return started

    async def run_now(self, name: str) -> JobStatus:
        """Run one job immediately (used by tests and the CLI) and wait for it."""
        state = self._states[name]
        if state.running:
            state.skipped_overlaps += 1
        else:
            state.running = True
            await self._run(state)
        return self._status(state)

    async def wait_idle(self) -> None:
        """Wait until every started job has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, state: JobState, due: float | None = None) -> None:
        job = state.job
        started_wall = self.clock.now()
        token = _scheduled.set(started_wall if due is None else due)
        started = self.clock.monotonic()
        error: str | None = None
        try:
            if inspect.iscoroutinefunction(job.func):
                await asyncio.wait_for(job.func(), timeout=job.timeout)
            else:
                await asyncio.wait_for(asyncio.to_thread(job.func), timeout=job.timeout)
        except TimeoutError:
            error = f"timed out after {job.timeout:g}s"
        except asyncio.CancelledError:
            error = "cancelled"
            raise
        except Exception as exc:  # a failing job must not take the scheduler down
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job failed", extra={"job": job.name})
        finally:
            _scheduled.reset(token)
            duration = self.clock.monotonic() - started
            state.running = False
            if state.triggered and self._wake is not None:
                self._wake.set()
            state.runs += 1
            state.last_run = started_wall
            state.last_lag = 0.0 if due is None else max(0.0, started_wall - due)
            state.last_duration = duration
            state.last_error = error
            if error is None:
                state.last_success = started_wall
            else:
                state.failures += 1
            for listener in self.listeners:
                listener(job.name, duration, error)

    def _status(self, state: JobState) -> JobStatus:
        job = state.job
        schedule = f"every {job.interval:g}s" if job.interval is not None else f"cron {job.cron}"
        return JobStatus(
            name=job.name,
            description=job.description,
            schedule=schedule,
            timeout=job.timeout,
            running=state.running,
            runs=state.runs,
            failures=state.failures,
            skipped_overlaps=state.skipped_overlaps,
            missed_slots=state.missed_slots,
            last_run=state.last_run,
            last_lag=state.last_lag,
            last_duration=state.last_duration,
            last_error=state.last_error,
            last_success=state.last_success,
            next_run=state.next_run,
        )

    def statuses(self) -> list[JobStatus]:
        return [self._status(s) for s in sorted(self._states.values(), key=lambda s: s.job.name)]

    def start(self) -> None:
        if self.running:
            return
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._loop_task = asyncio.get_running_loop().create_task(self._serve(), name="nightowl-scheduler")

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            try:
                await self._loop_task
            except asyncio.CancelledError:
                pass
            self._loop_task = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _serve(self) -> None:
        assert self._wake is not None
        while True:
            self.run_due()
            now = self.clock.now()
            upcoming = min((s.next_run for s in self._states.values()), default=now + 60.0)
            self._wake.clear()
            sleeper = asyncio.ensure_future(self.clock.sleep(max(0.0, min(upcoming - now, 60.0))))
            waker = asyncio.ensure_future(self._wake.wait())
            done, pending = await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            for p in pending:
                p.cancel()
