"""Credentials inside check definitions never leave through the API: a DSN's or URL's password, query
values such as `?token=`, header values and request bodies are masked for every caller, and a definition
sent back with the masks keeps the stored secrets (the shared rules of `auth/redact.py`)."""

from __future__ import annotations

from typing import Any

from nightowl.auth import redact
from nightowl.health.spec import CheckSpec

REDACTIONS: redact.Redactions = {"target": "url", "headers": "headers", "body": "secret"}


def masked(spec: CheckSpec) -> dict[str, Any]:
    """The definition as the API shows it."""
    return redact.redact(spec.model_dump(mode="json"), REDACTIONS)


def restore(new: CheckSpec, current: CheckSpec | None) -> CheckSpec:
    """`new` with masked secrets replaced by the stored ones (a client sent back what it was shown)."""
    previous = current.model_dump(mode="json") if current is not None else None
    sent = new.model_dump(mode="json", include=set(REDACTIONS))
    restored = redact.restore(sent, previous, REDACTIONS)
    return new.model_copy(update=restored)
