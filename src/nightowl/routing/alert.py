"""The alert as Alertmanager receives it: the input of routing, whoever produced it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LabelSet = Mapping[str, str]


def fingerprint(labels: LabelSet) -> str:
    """FNV-1a 64 over sorted names and values with 0xff separators, as Prometheus' model.Fingerprint."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode():
                h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
            h = ((h ^ 0xFF) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def format_labels(labels: LabelSet) -> str:
    """`{a="b", c="d"}`: Prometheus' LabelSet.String(), used in group keys."""
    inner = ", ".join(f'{k}="{_escape(labels[k])}"' for k in sorted(labels))
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class Alert:
    """One alert instance. Resolved when `ends_at` is set and not in the future."""

    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: float = 0.0
    ends_at: float | None = None
    generator_url: str = ""
    updated_at: float = 0.0
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self.labels))

    def resolved(self, now: float) -> bool:
        return self.ends_at is not None and self.ends_at <= now

    def status(self, now: float) -> str:
        return "resolved" if self.resolved(now) else "firing"

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")


def merge(old: Alert, new: Alert) -> Alert:
    """Combine a re-sent alert with the stored one, as Alertmanager does for overlapping alerts.

    An alert re-sent while still active keeps its original start; a new occurrence after the old one
    ended starts afresh.
    """
    overlapping = old.ends_at is None or new.starts_at <= old.ends_at
    if not overlapping:
        return new
    return Alert(
        labels=new.labels,
        annotations=new.annotations,
        starts_at=min(old.starts_at, new.starts_at),
        ends_at=new.ends_at,
        generator_url=new.generator_url or old.generator_url,
        updated_at=new.updated_at,
        fingerprint=new.fingerprint,
    )
