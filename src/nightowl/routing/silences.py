"""Silences: matchers muting alerts between a start and an end, with who and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from nightowl.core.errors import InvalidInput
from nightowl.routing.alert import Alert
from nightowl.routing.matchers import Matcher, matches_all


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str
    updated_at: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    def state(self, now: float) -> str:
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def mutes(self, alert: Alert, now: float) -> bool:
        return self.state(now) == "active" and matches_all(self.matchers, alert.labels)


def validate_silence(silence: Silence) -> None:
    if not silence.matchers:
        raise InvalidInput("a silence needs at least one matcher", field="matchers")
    if all(m.matches({}) for m in silence.matchers):
        raise InvalidInput(
            "the matchers would silence every alert: at least one must not match an empty label set", field="matchers"
        )
    if silence.ends_at <= silence.starts_at:
        raise InvalidInput("endsAt must be after startsAt", field="endsAt")
    if not silence.created_by.strip():
        raise InvalidInput("createdBy is required", field="createdBy")
    if not silence.comment.strip():
        raise InvalidInput("comment is required", field="comment")


def silenced_by(alert: Alert, silences: Iterable[Silence], now: float) -> list[str]:
    return [s.id for s in silences if s.mutes(alert, now)]
