"""Keeps the rule set of an instance: rule files named by `rule_files` (globs) plus groups managed through
the API, one scheduler job per group (`rules:<group>`), reloaded when a file changes or on SIGHUP."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, delete, insert, select

from nightowl.alerting import store, tables
from nightowl.alerting.evaluator import Evaluator
from nightowl.alerting.rules import RuleGroup, expand_rule_files, load_rule_files, parse_rule_file
from nightowl.alerting.threshold import ThresholdRule, compile_rule
from nightowl.core.clock import Clock
from nightowl.core.errors import Conflict, InvalidInput, NotFound
from nightowl.core.scheduler import Job, Scheduler

log = logging.getLogger(__name__)

API_SOURCE = "api"
JOB_PREFIX = "rules:"


class RuleManager:
    def __init__(
        self,
        evaluator: Evaluator,
        scheduler: Scheduler,
        engine: Engine,
        clock: Clock,
        patterns: Sequence[str],
        history_retention: float = 90 * 86400.0,
    ) -> None:
        self.history_retention = history_retention
        self.evaluator = evaluator
        self.scheduler = scheduler
        self.engine = engine
        self.clock = clock
        self.patterns = list(patterns)
        self.last_error = ""
        self._signature: tuple[tuple[str, float], ...] = ()
        self._lock = threading.Lock()
        # Groups are evaluated one at a time (the evaluator's lock) on their own thread, so a burst of due
        # groups queues here instead of filling the shared worker threads the dispatcher and outbox need.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nightowl-rules")

    def _file_signature(self) -> tuple[tuple[str, float], ...]:
        sig = []
        for path in expand_rule_files(self.patterns):
            try:
                sig.append((str(path), path.stat().st_mtime))
            except OSError:
                continue
        return tuple(sig)

    def api_groups(self) -> list[RuleGroup]:
        t = tables.rule_groups
        groups: list[RuleGroup] = []
        with self.engine.connect() as conn:
            for row in conn.execute(select(t.c.source).order_by(t.c.name)):
                groups.extend(parse_rule_file(row.source, API_SOURCE))
        return groups

    def threshold_groups(self) -> list[RuleGroup]:
        groups: list[RuleGroup] = []
        for rule_id, rule in self.threshold_rules():
            if not rule.enabled:
                continue
            try:
                groups.append(compile_rule(rule_id, rule, self.evaluator.default_interval))
            except (ValueError, InvalidInput) as exc:
                log.error("threshold rule %s not loaded: %s", rule_id, exc)
        return groups

    def threshold_rules(self) -> list[tuple[str, ThresholdRule]]:
        t = tables.threshold_rules
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.id, t.c.data).order_by(t.c.name, t.c.id)).all()
        return [(row.id, ThresholdRule.model_validate_json(row.data)) for row in rows]

    def threshold_rule(self, rule_id: str) -> ThresholdRule:
        for found, rule in self.threshold_rules():
            if found == rule_id:
                return rule
        raise NotFound(f"no alert rule {rule_id!r}", field="id")

    def save_threshold_rule(self, rule_id: str, rule: ThresholdRule, *, create: bool) -> ThresholdRule:
        try:
            compile_rule(rule_id, rule, self.evaluator.default_interval)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="threshold") from None
        t = tables.threshold_rules
        with self.engine.begin() as conn:
            exists = conn.execute(select(t.c.id).where(t.c.id == rule_id)).first() is not None
            if not create and not exists:
                raise NotFound(f"no alert rule {rule_id!r}", field="id")
            conn.execute(delete(t).where(t.c.id == rule_id))
            conn.execute(
                insert(t).values(id=rule_id, name=rule.name, data=rule.model_dump_json(), updated_at=self.clock.now())
            )
        self.reload()
        return rule

    def delete_threshold_rule(self, rule_id: str) -> None:
        t = tables.threshold_rules
        with self.engine.begin() as conn:
            if conn.execute(delete(t).where(t.c.id == rule_id)).rowcount == 0:
                raise NotFound(f"no alert rule {rule_id!r}", field="id")
        self.reload()

    def file_groups(self) -> list[RuleGroup]:
        return load_rule_files(self.patterns)

    def reload(self) -> None:
        """Read the files and API groups again; on a broken file keep the previous rules and log why."""
        with self._lock:
            self._signature = self._file_signature()
            try:
                groups = self.file_groups() + self.api_groups() + self.threshold_groups()
            except (InvalidInput, OSError) as exc:
                self.last_error = str(exc)
                log.error("rule files not reloaded: %s", exc)
                if self.evaluator.groups:
                    return
                groups = []
            else:
                self.last_error = ""
            seen: set[str] = set()
            unique: list[RuleGroup] = []
            for group in groups:
                if group.name in seen:
                    log.error("rule group %r defined twice (%s); the first one is used", group.name, group.file)
                    continue
                seen.add(group.name)
                unique.append(group)
            self.evaluator.set_groups(unique)
            self._sync_jobs(unique)

    def _sync_jobs(self, groups: list[RuleGroup]) -> None:
        wanted = {JOB_PREFIX + g.name: g for g in groups}
        for status in self.scheduler.statuses():
            if status.name.startswith(JOB_PREFIX) and status.name not in wanted:
                self.scheduler.remove(status.name)
        for name, group in wanted.items():
            self.scheduler.remove(name)
            interval = self.evaluator.interval(group)
            self.scheduler.add(
                Job(
                    name,
                    functools.partial(self._evaluate, group.name),
                    interval=interval,
                    timeout=max(interval, 10.0),
                    # each group at its own point of the interval, as Prometheus does: many groups do not
                    # all fall due at the same instant and queue behind each other
                    offset=zlib.crc32(group.key.encode()) / 2**32 * interval,
                    description=f"Evaluate rule group {group.name!r} ({group.file}).",
                )
            )

    async def _evaluate(self, name: str) -> None:
        # run_in_executor does not carry context variables: copy them, so the evaluation sees its slot time
        context = contextvars.copy_context()
        await asyncio.get_running_loop().run_in_executor(self._executor, context.run, self.evaluator.evaluate, name)

    def close(self) -> None:
        """Drop queued evaluations and wait for the running one, so nothing is written after the storage closes."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def check_files(self) -> None:
        """The watcher job: reload when a rule file appeared, vanished or changed."""
        if self._file_signature() != self._signature:
            log.info("rule files changed; reloading")
            self.reload()

    def prune_history(self) -> None:
        store.prune_history(self.engine, self.clock.now() - self.history_retention)

    def jobs(self) -> list[Job]:
        return [
            Job(
                "rules-reload",
                self.check_files,
                interval=15,
                timeout=60,
                description="Reload the rule files when one changes (also on SIGHUP).",
            ),
            Job(
                "alert-history-prune",
                self.prune_history,
                interval=3600,
                timeout=300,
                jitter=60,
                description="Forget alert state transitions older than alert_history_retention.",
            ),
        ]

    # ---- groups managed through the API ---------------------------------------------------------------------

    def put_group(self, source: str, *, create: bool, name: str | None = None) -> RuleGroup:
        """Store one API group given as rule-file YAML (`groups: [one]`) and reload."""
        groups = parse_rule_file(source, API_SOURCE)
        if len(groups) != 1:
            raise InvalidInput("send exactly one group", field="groups")
        group = groups[0]
        if name is not None and group.name != name:
            raise InvalidInput(f"group name {group.name!r} does not match the path {name!r}", field="name")
        t = tables.rule_groups
        with self.engine.begin() as conn:
            exists = conn.execute(select(t.c.name).where(t.c.name == group.name)).first() is not None
            if create and (exists or group.name in {g.name for g in self.file_groups()}):
                raise Conflict(f"rule group {group.name!r} exists", field="name")
            if not create and not exists:
                raise NotFound(f"no API rule group {group.name!r}", field="name")
            conn.execute(delete(t).where(t.c.name == group.name))
            conn.execute(insert(t).values(name=group.name, source=source, updated_at=self.clock.now()))
        self.reload()
        return group

    def delete_group(self, name: str) -> None:
        t = tables.rule_groups
        with self.engine.begin() as conn:
            if conn.execute(delete(t).where(t.c.name == name)).rowcount == 0:
                raise NotFound(f"no API rule group {name!r}", field="name")
        self.reload()
