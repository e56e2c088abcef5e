"""The durable outbox: every notification is stored before it is sent, then delivered at least once.

The `notify-outbox` job starts one worker per channel with due rows, so a slow or dead channel never
delays another; each send has a timeout. A failed send is retried with exponential backoff and jitter
until it succeeds or expires into the dead-letter list, from where it can be replayed. A claimed row
carries a lease: if the process dies mid-send, the row is due again after a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
from jinja2 import TemplateError
from sqlalchemy import ColumnElement, Connection, Engine, and_, delete, func, insert, select, update

from nightowl.auth.secrets import SecretBox
from nightowl.core.clock import Clock
from nightowl.core.errors import InvalidInput, NotFound
from nightowl.core.ids import new_id
from nightowl.notify import store, tables
from nightowl.notify.channels import channel_class
from nightowl.notify.channels.base import DeliveryResult, SendContext
from nightowl.notify.message import AlertView, Message, from_notification, meets_severity
from nightowl.notify.metrics import DeliveryMetrics
from nightowl.outbound import OutboundDenied, OutboundPolicy, public_error
from nightowl.outbound.http import policy_client
from nightowl.routing.escalations import EscalationNotice
from nightowl.routing.grouping import Notification

log = logging.getLogger(__name__)

LEASE_MARGIN = 60.0


@dataclass(frozen=True)
class OutboxSettings:
    timeout: float = 10.0
    max_age: float = 24 * 3600.0
    backoff_base: float = 5.0
    backoff_max: float = 600.0
    batch: int = 50
    external_url: str = ""
    log_retention: float = 7 * 86400.0


def backoff(attempts: int, settings: OutboxSettings, rng: random.Random) -> float:
    """Exponential backoff with full jitter in its upper half: base * 2^(n-1), capped, times 0.5-1."""
    delay: float = min(settings.backoff_max, settings.backoff_base * 2.0 ** max(0, attempts - 1))
    return delay * (0.5 + rng.random() / 2)


class Outbox:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        box: SecretBox,
        settings: OutboxSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        metrics: DeliveryMetrics | None = None,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.engine = engine
        self.policy = policy or OutboundPolicy()
        self.clock = clock
        self.box = box
        self.settings = settings or OutboxSettings()
        self.transport = transport
        self.rng = rng or random.Random()
        self.metrics = metrics
        self.graphs: Callable[[Message], dict[str, bytes]] | None = None
        self._client: httpx.AsyncClient | None = None
        self._workers: dict[str, asyncio.Task[None]] = {}

    # --- enqueue (inside the caller's transaction) ---

    def enqueue_notification(self, conn: Connection, notification: Notification) -> list[str]:
        """The dispatcher's sink: one outbox row per enabled channel of the receiver that wants it."""
        ids: list[str] = []
        for channel in store.list_channels(conn, notification.receiver):
            if not channel.enabled:
                continue
            message = from_notification(new_id(), notification, self.settings.external_url)
            if message.resolved:
                told = only_told(message, told_firing(conn, channel.id, [notification.group_key]))
                if told is None:
                    continue
                message = told
            if not meets_severity(message, channel.min_severity):
                continue
            if message.status == "resolved" and not channel.send_resolved:
                continue
            if not channel.send_resolved:
                message = replace(message, alerts=tuple(message.firing))
            ids.append(self.enqueue(conn, channel.id, message))
        return ids

    def enqueue_notice(self, conn: Connection, notice: EscalationNotice) -> list[str]:
        """The escalation engine's sink: a step, acknowledgement or resolution to one receiver's channels."""
        status = "resolved" if notice.kind == "resolved" else "firing"
        ids: list[str] = []
        for channel in store.list_channels(conn, notice.receiver):
            message = Message(
                id=new_id(),
                kind="alert" if notice.kind == "resolved" else notice.kind,
                receiver=notice.receiver,
                status=status,
                group_key=f"escalation:{notice.escalation_id}",
                group_labels={"alertname": notice.alert.labels.get("alertname", "")},
                alerts=(AlertView.of(notice.alert, status),),
                external_url=self.settings.external_url,
                note=notice.note,
            )
            if notice.kind == "resolved" and channel.enabled:
                told = told_firing(conn, channel.id, [message.group_key], notice.alert.fingerprint)
                if notice.alert.fingerprint not in told:
                    continue
            if channel.enabled and meets_severity(message, channel.min_severity):
                ids.append(self.enqueue(conn, channel.id, message))
        return ids

    def enqueue(self, conn: Connection, channel_id: str, message: Message) -> str:
        now = self.clock.now()
        conn.execute(
            insert(tables.outbox).values(
                id=message.id,
                channel_id=channel_id,
                receiver=message.receiver,
                group_key=message.group_key,
                kind=message.kind,
                status="pending",
                payload=json.dumps(message.to_json()),
                idempotency_key=message.id,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
                expires_at=now + self.settings.max_age,
            )
        )
        return message.id

    # --- delivery ---

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = policy_client(
                self.policy, transport=self.transport, timeout=self.settings.timeout, follow_redirects=False
            )
        return self._client

    async def close(self) -> None:
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run(self) -> None:
        """The `notify-outbox` job: start a worker for every channel with due rows and none running."""
        channel_ids = await asyncio.to_thread(self._due_channels)
        for channel_id in channel_ids:
            task = self._workers.get(channel_id)
            if task is None or task.done():
                self._workers[channel_id] = asyncio.get_running_loop().create_task(self._work(channel_id))

    async def drain(self) -> None:
        """Wait for every running worker (tests, shutdown)."""
        while any(not t.done() for t in self._workers.values()):
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def deliver_now(self) -> None:
        await self.run()
        await self.drain()

    def _due_channels(self) -> list[str]:
        t = tables.outbox
        with self.engine.connect() as conn:
            query = (
                select(t.c.channel_id)
                .where(t.c.status == "pending", t.c.next_attempt_at <= self.clock.now())
                .group_by(t.c.channel_id)
            )
            return [r[0] for r in conn.execute(query)]

    async def _work(self, channel_id: str) -> None:
        for _ in range(self.settings.batch):
            row = await asyncio.to_thread(self._claim, channel_id)
            if row is None:
                return
            await self._deliver(row)

    def _claim(self, channel_id: str) -> dict[str, Any] | None:
        t = tables.outbox
        now = self.clock.now()
        with self.engine.begin() as conn:
            channel = store.get_channel(conn, channel_id)
            if channel is not None and channel.rate_limit is not None:
                sent = conn.execute(
                    select(func.count())
                    .select_from(t)
                    .where(t.c.channel_id == channel_id, t.c.status == "delivered", t.c.delivered_at > now - 60)
                ).scalar_one()
                if sent >= channel.rate_limit:
                    return None
            row = (
                conn.execute(
                    select(t)
                    .where(t.c.channel_id == channel_id, t.c.status == "pending", t.c.next_attempt_at <= now)
                    .order_by(t.c.created_at, t.c.id)
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            claimed = conn.execute(
                update(t)
                .where(
                    and_(t.c.id == row["id"], t.c.status == "pending", t.c.next_attempt_at == row["next_attempt_at"])
                )
                .values(next_attempt_at=now + self.settings.timeout + LEASE_MARGIN, attempts=row["attempts"] + 1)
            )
            if claimed.rowcount != 1:
                return None
            previous = conn.execute(
                select(t.c.response)
                .where(
                    t.c.channel_id == channel_id,
                    t.c.group_key == row["group_key"],
                    t.c.status == "delivered",
                    t.c.response.is_not(None),
                )
                .order_by(t.c.delivered_at.desc())
                .limit(1)
            ).scalar()
            return {
                **dict(row),
                "attempts": row["attempts"] + 1,
                "channel": channel,
                "previous": json.loads(previous) if previous else None,
            }

    async def _deliver(self, row: dict[str, Any]) -> DeliveryResult:
        channel: store.ChannelRecord | None = row["channel"]
        started = time.perf_counter()
        if channel is None:
            result = DeliveryResult(False, error="the channel was deleted", retryable=False)
        else:
            message = Message.from_json(json.loads(row["payload"]))
            ctx = SendContext(
                http=self.client(),
                now=self.clock.now(),
                timeout=self.settings.timeout,
                previous=row["previous"],
                graphs=self._render_graphs if self.graphs is not None else None,
                policy=self.policy,
            )
            result = await self._send(channel, message, ctx)
        latency_ms = (time.perf_counter() - started) * 1000
        outcome = await asyncio.to_thread(self._record, row, result, latency_ms)
        if self.metrics is not None and channel is not None:
            self.metrics.attempts.labels(channel.kind, outcome).inc()
            self.metrics.latency.labels(channel.kind).observe(latency_ms / 1000)
        return result

    async def _render_graphs(self, message: Message) -> dict[str, bytes]:
        """Graphs query the storage: off the event loop, so other deliveries go on meanwhile."""
        render = self.graphs
        return await asyncio.to_thread(render, message) if render is not None else {}

    async def _send(self, channel: store.ChannelRecord, message: Message, ctx: SendContext) -> DeliveryResult:
        timeout = self.settings.timeout
        try:
            sender = channel_class(channel.kind)()
            config = channel.plain_config(self.box)
            return await asyncio.wait_for(sender.send(message, config, ctx), timeout=timeout)
        except OutboundDenied as exc:  # only a new configuration helps
            return DeliveryResult(False, error=str(exc), retryable=False)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return DeliveryResult(False, error=public_error(exc, where=f"channel {channel.id}"))
        except (TimeoutError, httpx.TimeoutException):
            return DeliveryResult(False, error=f"timed out after {timeout:g}s")
        except httpx.HTTPError as exc:
            return DeliveryResult(False, error=public_error(exc, where=f"channel {channel.id}"))
        except (TemplateError, InvalidInput) as exc:
            return DeliveryResult(False, error=f"cannot render: {exc}", retryable=False)
        except Exception as exc:  # a broken channel must not take the worker down
            log.exception("channel send failed", extra={"channel": channel.id})
            return DeliveryResult(False, error=f"{type(exc).__name__}: {exc}")

    def _record(self, row: dict[str, Any], result: DeliveryResult, latency_ms: float) -> str:
        now = self.clock.now()
        values: dict[str, Any] = {
            "last_status_code": result.status_code,
            "last_latency_ms": round(latency_ms, 3),
            "last_error": result.error,
        }
        if result.ok:
            values.update(status="delivered", delivered_at=now, response=json.dumps(result.response or {}))
        elif not result.retryable or now >= row["expires_at"]:
            values["status"] = "dead"
        else:
            values.update(status="pending", next_attempt_at=now + backoff(row["attempts"], self.settings, self.rng))
        if not result.ok:
            log.warning("notification not delivered", extra={"channel": row["channel_id"], "error": result.error})
        with self.engine.begin() as conn:
            conn.execute(update(tables.outbox).where(tables.outbox.c.id == row["id"]).values(**values))
        return "retry" if values["status"] == "pending" else str(values["status"])

    # --- the delivery log and the dead letters ---

    def counts(self) -> dict[str, float]:
        """Notifications in the outbox by status (pending, delivered, dead), for the metrics endpoint."""
        t = tables.outbox
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
        counts = {"pending": 0.0, "delivered": 0.0, "dead": 0.0}
        counts.update({status: float(n) for status, n in rows})
        return counts

    def oldest_pending_age(self) -> float:
        """Seconds the oldest undelivered notification has waited (0 when none waits): a stuck channel shows."""
        t = tables.outbox
        with self.engine.connect() as conn:
            oldest = conn.execute(select(func.min(t.c.created_at)).where(t.c.status == "pending")).scalar()
        return 0.0 if oldest is None else max(0.0, self.clock.now() - float(oldest))

    def prune(self) -> int:
        """Forget delivered and dead notifications older than the log retention; returns how many."""
        t = tables.outbox
        cutoff = self.clock.now() - self.settings.log_retention
        with self.engine.begin() as conn:
            result = conn.execute(delete(t).where(t.c.status.in_(["delivered", "dead"]), t.c.created_at < cutoff))
            return int(result.rowcount)

    def replay(self, notification_id: str) -> None:
        t = tables.outbox
        now = self.clock.now()
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(t)
                .where(t.c.id == notification_id, t.c.status == "dead")
                .values(status="pending", next_attempt_at=now, expires_at=now + self.settings.max_age, attempts=0)
            ).rowcount
            if changed:
                return
            exists = conn.execute(select(t.c.status).where(t.c.id == notification_id)).scalar()
        if exists is None:
            raise NotFound(f"notification {notification_id!r} not found", field="id")
        raise InvalidInput(f"notification {notification_id!r} is {exists}; only dead letters can be replayed")

    async def send_test(self, channel_id: str, receiver: str) -> dict[str, Any]:
        """Queue a test message to one channel, deliver it now (behind any queued rows) and return its log row."""
        message = test_message(new_id(), receiver, self.clock.now(), self.settings.external_url)

        def queue() -> None:
            with self.engine.begin() as conn:
                self.enqueue(conn, channel_id, message)

        await asyncio.to_thread(queue)
        running = self._workers.get(channel_id)
        if running is not None and not running.done():
            await asyncio.gather(running, return_exceptions=True)
        await self._work(channel_id)
        return await asyncio.to_thread(self.get, message.id)

    def get(self, notification_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(tables.outbox).where(tables.outbox.c.id == notification_id)).mappings().first()
        if row is None:
            raise NotFound(f"notification {notification_id!r} not found", field="id")
        return log_entry(row)

    def log(self, status: str | None = None, channel_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        t = tables.outbox
        query = select(t).order_by(t.c.created_at.desc(), t.c.id).limit(limit)
        if status is not None:
            query = query.where(t.c.status == status)
        if channel_id is not None:
            query = query.where(t.c.channel_id == channel_id)
        with self.engine.connect() as conn:
            return [log_entry(r) for r in conn.execute(query).mappings()]


def told_firing(conn: Connection, channel_id: str, group_keys: list[str], fingerprint: str = "") -> set[str]:
    """Fingerprints of the alerts a channel was sent as firing, read back from its outbox rows.

    Looked up in the rows of `group_keys`, or, with a `fingerprint`, in any of the channel's rows that
    name it (an escalation's alert is first announced by its alert group). The outbox keeps rows
    `log_retention` (7 days); a firing alert is re-sent every `repeat_interval`, so its rows stay.
    """
    where: ColumnElement[bool] = tables.outbox.c.group_key.in_(group_keys)
    if fingerprint:
        where = where | tables.outbox.c.payload.contains(fingerprint)
    rows = conn.execute(
        select(tables.outbox.c.payload).where(
            tables.outbox.c.channel_id == channel_id, tables.outbox.c.kind != "test", where
        )
    )
    told: set[str] = set()
    for (payload,) in rows:
        told.update(a["fingerprint"] for a in json.loads(payload)["alerts"] if a["status"] == "firing")
    return told


def only_told(message: Message, told: set[str]) -> Message | None:
    """The message without the resolved alerts the channel never heard fire (None if nothing is left).

    A channel created (or enabled) after an alert fired gets no RESOLVED notice for it (issue #14).
    """
    resolved = [a for a in message.resolved if a.fingerprint in told]
    if len(resolved) == len(message.resolved):
        return message
    alerts = (*message.firing, *resolved)
    if not alerts:
        return None
    return replace(message, alerts=alerts, status="firing" if message.firing else "resolved")


def log_entry(row: Any) -> dict[str, Any]:
    """One line of the delivery log: channel, alerts, attempts, status code, latency, error."""
    payload = json.loads(row["payload"])
    return {
        "id": row["id"],
        "channel_id": row["channel_id"],
        "receiver": row["receiver"],
        "group_key": row["group_key"],
        "kind": row["kind"],
        "status": row["status"],
        "notification_status": payload.get("status"),
        "alerts": [
            {"fingerprint": a["fingerprint"], "alertname": a["labels"].get("alertname", ""), "status": a["status"]}
            for a in payload.get("alerts", [])
        ],
        "attempts": row["attempts"],
        "status_code": row["last_status_code"],
        "latency_ms": row["last_latency_ms"],
        "error": row["last_error"],
        "created_at": row["created_at"],
        "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
        "delivered_at": row["delivered_at"],
        "expires_at": row["expires_at"],
    }


def test_message(message_id: str, receiver: str, now: float, external_url: str) -> Message:
    alert = AlertView(
        status="firing",
        labels={"alertname": "NightowlTest", "severity": "info"},
        annotations={"summary": "Test notification from Nightowl", "description": "This channel works."},
        starts_at=now,
        ends_at=None,
        generator_url="",
        fingerprint="0000000000000000",
    )
    return Message(
        id=message_id,
        kind="test",
        receiver=receiver,
        status="firing",
        group_key=f"test:{message_id}",
        group_labels={"alertname": "NightowlTest"},
        alerts=(alert,),
        external_url=external_url,
        note="test",
    )
