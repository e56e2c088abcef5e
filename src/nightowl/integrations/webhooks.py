"""Event webhook subscriptions: stored, and delivered through their own durable queue with retries.

Every event a subscription wants becomes a row before anything is sent, so a restart loses nothing.
Bodies are signed exactly like the notification webhook channel (`X-Nightowl-Timestamp`,
`X-Nightowl-Signature: sha256=HMAC(secret, "<timestamp>.<body>")`), with that channel's `sign`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from nightowl.auth import redact
from nightowl.auth.secrets import SecretBox
from nightowl.core.clock import Clock
from nightowl.core.errors import InvalidInput, NotFound
from nightowl.core.ids import new_id
from nightowl.integrations import tables
from nightowl.integrations.events import EVENT_TYPES, Event
from nightowl.notify.channels.base import DeliveryResult, http_result
from nightowl.notify.channels.webhook import sign
from nightowl.notify.outbox import OutboxSettings, backoff
from nightowl.outbound import OutboundDenied, public_error

log = logging.getLogger(__name__)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True)
class Subscription:
    id: str
    name: str
    url: str
    events: tuple[str, ...]
    headers: dict[str, str]
    secret: str | None  # encrypted with the SecretBox
    enabled: bool
    created_at: float
    updated_at: float

    def wants(self, event_type: str) -> bool:
        return self.enabled and ("*" in self.events or event_type in self.events)

    def public(self) -> dict[str, Any]:
        """What the API shows: the secret as a mask, the URL past its host and the headers masked."""
        return {
            "id": self.id,
            "name": self.name,
            "url": redact.redact_value("secret_url", self.url),
            "events": list(self.events),
            "headers": redact.redact_value("headers", self.headers),
            "secret": redact.redact_value("secret", self.secret),
            "enabled": self.enabled,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def validate(url: str, events: list[str]) -> tuple[str, ...]:
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"url {url!r} must start with http:// or https://", field="url")
    if not events:
        raise InvalidInput("events must name at least one event type (or '*')", field="events")
    for name in events:
        if name != "*" and name not in EVENT_TYPES:
            raise InvalidInput(f"unknown event type {name!r}; known: {', '.join(EVENT_TYPES)}", field="events")
    return tuple(dict.fromkeys(events))


def _row(row: Any) -> Subscription:
    return Subscription(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        events=tuple(json.loads(row["events"])),
        headers=json.loads(row["headers"]),
        secret=row["secret"],
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.attempts = Counter(
            "nightowl_integration_webhook_attempts_total",
            "Event webhook delivery attempts, by result: delivered, retry, dead.",
            ["result"],
            registry=registry,
        )


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header in its delay-seconds form; None when absent or a date."""
    value = response.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class Webhooks:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        box: SecretBox,
        http: Callable[[], httpx.AsyncClient],
        *,
        settings: OutboxSettings | None = None,
        registry: CollectorRegistry | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.box = box
        self.http = http
        self.settings = settings or OutboxSettings()
        self.metrics = WebhookMetrics(registry)
        self.rng = rng or random.Random()
        self._running = asyncio.Lock()

    # --- subscriptions ---

    def all(self) -> list[Subscription]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tables.webhooks).order_by(tables.webhooks.c.created_at)).mappings()
            return [_row(r) for r in rows]

    def get(self, webhook_id: str) -> Subscription:
        with self.engine.connect() as conn:
            row = conn.execute(select(tables.webhooks).where(tables.webhooks.c.id == webhook_id)).mappings().first()
        if row is None:
            raise NotFound(f"webhook {webhook_id!r} not found", field="id")
        return _row(row)

    def save(
        self,
        webhook_id: str | None,
        *,
        name: str,
        url: str,
        events: list[str],
        headers: dict[str, str],
        secret: str | None,
        enabled: bool,
    ) -> Subscription:
        """Create (no id) or replace; an omitted or masked secret keeps the stored one, "" removes it."""
        wanted = validate(url, events)
        now = self.clock.now()
        previous = self.get(webhook_id) if webhook_id is not None else None
        if secret is None or redact.is_mask(secret):
            stored = previous.secret if previous else None
        else:
            stored = self.box.encrypt(secret) if secret else None
        url = redact.restore_value("secret_url", url, previous.url if previous else None, "url")
        headers = redact.restore_value("headers", headers, previous.headers if previous else None, "headers")
        values = {
            "name": name,
            "url": url,
            "events": json.dumps(list(wanted)),
            "headers": json.dumps(headers),
            "secret": stored,
            "enabled": enabled,
            "updated_at": now,
        }
        t = tables.webhooks
        with self.engine.begin() as conn:
            if previous is None:
                webhook_id = new_id()
                conn.execute(insert(t).values(id=webhook_id, created_at=now, **values))
            else:
                conn.execute(update(t).where(t.c.id == previous.id).values(**values))
        assert webhook_id is not None
        return self.get(webhook_id)

    def delete(self, webhook_id: str) -> None:
        self.get(webhook_id)
        with self.engine.begin() as conn:
            conn.execute(delete(tables.deliveries).where(tables.deliveries.c.webhook_id == webhook_id))
            conn.execute(delete(tables.webhooks).where(tables.webhooks.c.id == webhook_id))

    # --- the queue ---

    def on_event(self, event: Event) -> None:
        """The bus subscriber: queue one delivery per subscription that wants this event."""
        wanting = [s for s in self.all() if s.wants(event.type)]
        if not wanting:
            return
        body = json.dumps(event.envelope(), separators=(",", ":"))
        with self.engine.begin() as conn:
            for sub in wanting:
                conn.execute(
                    insert(tables.deliveries).values(
                        id=new_id(),
                        webhook_id=sub.id,
                        event_id=event.id,
                        event_type=event.type,
                        body=body,
                        status=PENDING,
                        attempts=0,
                        created_at=event.at,
                        next_attempt_at=event.at,
                        expires_at=event.at + self.settings.max_age,
                    )
                )

    def deliveries(self, webhook_id: str, limit: int = 100) -> list[dict[str, Any]]:
        self.get(webhook_id)
        t = tables.deliveries
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t).where(t.c.webhook_id == webhook_id).order_by(t.c.created_at.desc()).limit(limit)
            ).mappings()
            return [{k: row[k] for k in row.keys() if k != "body"} | {"event": json.loads(row["body"])} for row in rows]

    def counts(self) -> dict[str, float]:
        t = tables.deliveries
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
        found = {row[0]: int(row[1]) for row in rows}
        return {status: float(found.get(status, 0)) for status in (PENDING, DELIVERED, DEAD)}

    def prune(self) -> int:
        """Forget delivered and dead deliveries older than the log retention (7 days)."""
        t = tables.deliveries
        cutoff = self.clock.now() - self.settings.log_retention
        with self.engine.begin() as conn:
            done = conn.execute(delete(t).where(t.c.status != PENDING, t.c.created_at < cutoff))
        return done.rowcount or 0

    async def run(self) -> None:
        """The `integration-webhooks` job: send every due delivery, concurrently, each with a timeout.

        Runs one at a time, so a delivery is never sent twice by overlapping runs."""
        async with self._running:
            await self._run()

    async def _run(self) -> None:
        now = self.clock.now()
        t = tables.deliveries
        with self.engine.connect() as conn:
            due = (
                conn.execute(
                    select(t)
                    .where(t.c.status == PENDING, t.c.next_attempt_at <= now)
                    .order_by(t.c.next_attempt_at)
                    .limit(self.settings.batch)
                )
                .mappings()
                .all()
            )
        subs = {s.id: s for s in self.all()}
        await asyncio.gather(*(self._deliver(dict(row), subs.get(row["webhook_id"])) for row in due))

    async def _deliver(self, row: dict[str, Any], sub: Subscription | None) -> None:
        if sub is None or not sub.enabled:
            with self.engine.begin() as conn:
                self._finish(conn, row, DEAD, None, "subscription removed or disabled")
            return
        result, wait = await self._post(sub, row["body"].encode(), row["id"], row["event_type"])
        now = self.clock.now()
        with self.engine.begin() as conn:
            if result.ok:
                self._finish(conn, row, DELIVERED, result.status_code, None, delivered_at=now)
                self.metrics.attempts.labels(DELIVERED).inc()
            elif not result.retryable or now >= row["expires_at"]:
                self._finish(conn, row, DEAD, result.status_code, result.error)
                self.metrics.attempts.labels(DEAD).inc()
            else:
                delay = max(backoff(row["attempts"] + 1, self.settings, self.rng), wait or 0.0)
                self._finish(conn, row, PENDING, result.status_code, result.error, next_attempt_at=now + delay)
                self.metrics.attempts.labels("retry").inc()

    def _finish(
        self, conn: Connection, row: dict[str, Any], status: str, code: int | None, error: str | None, **extra: float
    ) -> None:
        t = tables.deliveries
        conn.execute(
            update(t)
            .where(t.c.id == row["id"])
            .values(status=status, attempts=row["attempts"] + 1, last_status_code=code, last_error=error, **extra)
        )

    async def _post(
        self, sub: Subscription, body: bytes, delivery_id: str, event_type: str
    ) -> tuple[DeliveryResult, float | None]:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": delivery_id,
            "X-Nightowl-Event": event_type,
        }
        headers.update(sub.headers)
        if sub.secret:
            timestamp = int(self.clock.now())
            headers["X-Nightowl-Timestamp"] = str(timestamp)
            headers["X-Nightowl-Signature"] = sign(self.box.decrypt(sub.secret), timestamp, body)
        try:
            response = await self.http().post(sub.url, content=body, headers=headers, timeout=self.settings.timeout)
        except OutboundDenied as exc:  # only a new configuration helps
            return DeliveryResult(False, None, str(exc), retryable=False), None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return DeliveryResult(False, None, public_error(exc, where=f"webhook {sub.id}")), None
        except httpx.TimeoutException:
            return DeliveryResult(False, None, f"timed out after {self.settings.timeout}s"), None
        except httpx.HTTPError as exc:
            return DeliveryResult(False, None, public_error(exc, where=f"webhook {sub.id}")), None
        return http_result(response), retry_after(response)

    async def send_test(self, webhook_id: str) -> dict[str, Any]:
        """POST an `integration.test` event right now, outside the queue, and say what the receiver answered."""
        sub = self.get(webhook_id)
        event = Event(new_id(), "integration.test", self.clock.now(), {"webhook": sub.name})
        body = json.dumps(event.envelope(), separators=(",", ":")).encode()
        result, _ = await self._post(sub, body, event.id, event.type)
        return {"ok": result.ok, "status_code": result.status_code, "error": result.error}
