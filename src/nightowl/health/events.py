"""The hook alerting and notifications subscribe to: one `CheckEvent` per change of a check's state.

Suppressed events (a parent service is down, or a maintenance window covers the check) are still
delivered, flagged `suppressed`, so a subscriber can record them without notifying anyone.
Recoveries are never suppressed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from nightowl.health.model import EventKind, State

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckEvent:
    kind: EventKind
    check_id: str
    check_name: str
    check_type: str
    service: str | None
    at: float
    previous: State
    state: State
    reason: str
    suppressed: bool
    suppressed_by: str | None
    labels: dict[str, str] = field(default_factory=dict)


CheckListener = Callable[[CheckEvent], None]


@dataclass
class CheckEvents:
    """Listeners called in order on the event loop; a failing listener is logged and the others still run."""

    listeners: list[CheckListener] = field(default_factory=list)

    def subscribe(self, listener: CheckListener) -> None:
        self.listeners.append(listener)

    def publish(self, event: CheckEvent) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:
                log.exception("check event listener failed", extra={"event": event.kind, "check": event.check_name})
