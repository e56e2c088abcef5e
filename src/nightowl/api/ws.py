"""`/api/v1/ws`: live updates for the UI over a WebSocket.

The `Authentication` middleware has admitted the caller (session cookie from our own origin, or an API
key); this needs `read`. The client sends `{"type": "subscribe", "topics": ["alerts", "health"]}` (again
whenever its set changes) and receives `{"type": "event", "topic", "event", "at", "data"}` messages and
a `{"type": "heartbeat"}` every `HEARTBEAT` seconds, by which it notices a dead connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Hashable
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from sqlalchemy import func, select

from nightowl.alerting import tables
from nightowl.api.authn import PRINCIPAL_SCOPE_KEY
from nightowl.auth.principal import Principal
from nightowl.integrations.events import Event
from nightowl.realtime.hub import TOPICS, LiveHub, Subscriber
from nightowl.runtime import Nightowl

router = APIRouter()
HEARTBEAT = 15.0
WATCH_INTERVAL = 2.0


def _alerts_snapshot(nightowl: Nightowl) -> Hashable:
    rules = frozenset(
        (i.fingerprint, i.state, i.acknowledged_at, i.snoozed_until)
        for _, i in nightowl.rules.evaluator.all_instances()
    )
    received = frozenset(
        (a.fingerprint, a.ends_at, tuple(s.silenced_by)) for a, s in nightowl.pipeline.dispatcher.alerts()
    )
    with nightowl.engine.connect() as conn:  # every transition, acknowledgement and snooze adds a row
        last_change = conn.execute(select(func.max(tables.history.c.id))).scalar()
    return rules, received, last_change


def _targets_snapshot(nightowl: Nightowl) -> Hashable:
    return frozenset(
        (job, key, state.health) for job, pool in nightowl.scraper.pools.items() for key, state in pool.targets.items()
    )


def live_hub(app: FastAPI) -> LiveHub:
    """The app's hub, made on first use: it listens to the event bus and watches alerts and targets."""
    hub: LiveHub | None = getattr(app.state, "live_hub", None)
    if hub is None:
        nightowl: Nightowl = app.state.nightowl
        hub = LiveHub(nightowl.clock)
        hub.watchers["alerts"] = lambda: _alerts_snapshot(nightowl)
        hub.watchers["targets"] = lambda: _targets_snapshot(nightowl)
        live = hub

        def forward(event: Event) -> None:
            live.on_bus_event(event.type, event.payload)

        nightowl.integrations.bus.subscribe(forward)
        app.state.live_hub = hub
    return hub


async def _watch_loop(hub: LiveHub) -> None:
    while hub.subscribers:
        await asyncio.sleep(WATCH_INTERVAL)
        await asyncio.to_thread(hub.watch)


def _ensure_watching(app: FastAPI, hub: LiveHub) -> None:
    task: asyncio.Task[None] | None = getattr(app.state, "live_watch", None)
    if task is None or task.done():
        app.state.live_watch = asyncio.get_running_loop().create_task(_watch_loop(hub))


async def _receive(ws: WebSocket, sub: Subscriber) -> None:
    while True:
        text = await ws.receive_text()
        try:
            message: Any = json.loads(text)
        except ValueError:
            await ws.send_json({"type": "error", "detail": "messages must be JSON"})
            continue
        if not isinstance(message, dict) or message.get("type") != "subscribe":
            await ws.send_json({"type": "error", "detail": 'send {"type": "subscribe", "topics": [...]}'})
            continue
        wanted = message.get("topics")
        if not isinstance(wanted, list) or any(t not in TOPICS for t in wanted):
            await ws.send_json({"type": "error", "field": "topics", "detail": f"topics must be a list of {TOPICS}"})
            continue
        sub.topics = set(wanted)
        await ws.send_json({"type": "subscribed", "topics": sorted(sub.topics)})


async def _send(ws: WebSocket, sub: Subscriber) -> None:
    while True:
        try:
            message = await asyncio.wait_for(sub.queue.get(), HEARTBEAT)
        except TimeoutError:
            message = {"type": "heartbeat"}
        await ws.send_json(message)


@router.websocket("/api/v1/ws")
async def live(ws: WebSocket) -> None:
    principal = ws.scope.get(PRINCIPAL_SCOPE_KEY)
    if not isinstance(principal, Principal) or "read" not in principal.permissions:
        await ws.close(code=1008, reason="this needs the 'read' permission")
        return
    app: FastAPI = ws.app
    hub = live_hub(app)
    await ws.accept()
    sub = hub.subscribe()
    _ensure_watching(app, hub)
    tasks = [asyncio.create_task(_receive(ws, sub)), asyncio.create_task(_send(ws, sub))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hub.unsubscribe(sub)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
