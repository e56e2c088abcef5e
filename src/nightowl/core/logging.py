"""Structured logging: human-readable lines by default, JSON lines when asked (for log shippers)."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nightowl.core.clock import Clock

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS and not k.startswith("_")}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


@dataclass
class _Tally:
    logged_at: float
    suppressed: int = 0


@dataclass
class FailureLog:
    """Repeated failures from one client in few lines: the first is logged, later ones within `window` seconds
    are counted and the count rides on the next line, so a password-guessing client cannot flood the log.

    Only the client address, the reason and the count are logged, never the credential presented.
    """

    clock: Clock
    logger: logging.Logger
    message: str = "authentication failed"
    window: float = 60.0
    max_clients: int = 10_000
    _tallies: dict[str, _Tally] = field(default_factory=dict)

    def record(self, client: str | None, reason: str) -> bool:
        """Count one failure; returns whether a line was written."""
        now, key = self.clock.now(), client or "unknown"
        tally = self._tallies.get(key)
        if tally is not None and now - tally.logged_at < self.window:
            tally.suppressed += 1
            return False
        count = 1 + (tally.suppressed if tally is not None else 0)
        if len(self._tallies) >= self.max_clients:
            self._forget_before(now - self.window)
        self._tallies[key] = _Tally(now)
        since = ""
        if tally is not None and tally.suppressed:
            since = f" ({count} failures in the last {now - tally.logged_at:.0f}s)"
        self.logger.warning(
            "%s from %s: %s%s", self.message, key, reason, since, extra={"client": key, "failures": count}
        )
        return True

    def _forget_before(self, cutoff: float) -> None:
        for key in [k for k, t in self._tallies.items() if t.logged_at < cutoff]:
            del self._tallies[key]
        if len(self._tallies) >= self.max_clients:
            self._tallies.clear()
