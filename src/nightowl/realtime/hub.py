"""The in-process live hub: topics (alerts, health, targets), subscribers with bounded queues, watchers.

Events come from two places: the event bus (alert.firing, check.down... published from any thread) and
watchers, functions that return a snapshot of some state; when a snapshot differs from the previous one
the hub publishes `<topic>.changed`. Watchers catch what the bus does not announce (an alert turning
pending, an acknowledgement, a scrape target going down) without touching those capabilities.
A slow subscriber loses its oldest events, never blocks the publisher.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

from nightowl.core.clock import Clock

log = logging.getLogger(__name__)

Topic = Literal["alerts", "health", "targets"]
TOPICS: tuple[Topic, ...] = ("alerts", "health", "targets")
QUEUE_LIMIT = 256
BUS_TOPICS: dict[str, Topic] = {"alert": "alerts", "check": "health"}


def topic_of(event_type: str) -> Topic | None:
    """`alert.firing` -> alerts, `check.down` -> health; other bus events are not live topics."""
    return BUS_TOPICS.get(event_type.partition(".")[0])


@dataclass(eq=False)
class Subscriber:
    """One WebSocket's queue; compared by identity (it lives in the hub's set)."""

    queue: asyncio.Queue[dict[str, Any]]
    loop: asyncio.AbstractEventLoop
    topics: set[Topic] = field(default_factory=set)
    dropped: int = 0

    def offer(self, message: dict[str, Any]) -> None:
        """Called on the subscriber's loop: enqueue, dropping the oldest message when full."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)


@dataclass
class LiveHub:
    clock: Clock
    watchers: dict[Topic, Callable[[], Hashable]] = field(default_factory=dict)
    subscribers: set[Subscriber] = field(default_factory=set)
    snapshots: dict[Topic, Hashable] = field(default_factory=dict)

    def subscribe(self) -> Subscriber:
        sub = Subscriber(asyncio.Queue(QUEUE_LIMIT), asyncio.get_running_loop())
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def publish(self, topic: Topic, event: str, data: dict[str, Any]) -> int:
        """Deliver to every subscriber of the topic; safe from any thread. Returns how many were offered it."""
        message = {"type": "event", "topic": topic, "event": event, "at": self.clock.now(), "data": data}
        count = 0
        for sub in list(self.subscribers):
            if topic not in sub.topics:
                continue
            try:
                sub.loop.call_soon_threadsafe(sub.offer, message)
                count += 1
            except RuntimeError:  # the subscriber's loop has closed
                self.subscribers.discard(sub)
        return count

    def on_bus_event(self, event_type: str, payload: dict[str, Any]) -> None:
        topic = topic_of(event_type)
        if topic is not None:
            self.publish(topic, event_type, payload)

    def watch(self) -> list[Topic]:
        """Take each watched snapshot (only for topics someone follows); publish `<topic>.changed` on a change."""
        followed = {t for sub in self.subscribers for t in sub.topics}
        changed: list[Topic] = []
        for topic, snapshot in self.watchers.items():
            if topic not in followed:
                self.snapshots.pop(topic, None)
                continue
            try:
                now = snapshot()
            except Exception:
                log.exception("live watcher failed", extra={"topic": topic})
                continue
            before = self.snapshots.get(topic)
            self.snapshots[topic] = now
            if before is not None and before != now:
                changed.append(topic)
                self.publish(topic, f"{topic}.changed", {})
        return changed
