"""Credentials inside check definitions never leave through the API: a DSN's or URL's password, query
values such as `?token=`, header values and request bodies are masked for every caller, and a definition
sent back with the masks keeps the stored secrets (the shared rules of `auth/redact.py`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from nightowl.auth import redact
from nightowl.core.errors import InvalidInput
from nightowl.health.spec import CheckSpec

REDACTIONS: redact.Redactions = {"target": "url", "headers": "headers", "body": "secret"}


def masked(spec: CheckSpec) -> dict[str, Any]:
    """The definition as the API shows it."""
    return redact.redact(spec.model_dump(mode="json"), REDACTIONS)


def restore(new: CheckSpec, current: CheckSpec | None) -> CheckSpec:
    """`new` with masked secrets replaced by the stored ones (a client sent back what it was shown)."""
    previous = current.model_dump(mode="json") if current is not None else None
    sent = new.model_dump(mode="json", include=set(REDACTIONS))
    if current is not None and _destination(str(new.target)) != _destination(str(current.target)):
        # stored credentials stay with the host they were given for: otherwise an editor could point an
        # admin's check at a host of theirs, keep the masks, and receive the check's secrets there
        for name in REDACTIONS:
            if redact.contains_mask(sent.get(name)):
                raise InvalidInput(
                    f"{name}: the check now points at another destination; send its secrets again "
                    "(stored secrets are only sent where they were set for)",
                    field=name,
                )
    restored = redact.restore(sent, previous, REDACTIONS)
    return new.model_copy(update=restored)


def _destination(target: str) -> str:
    """Where a check connects: scheme, host and port (a changed path on the same host is the same place)."""
    parts = urlsplit(target)
    if parts.netloc:
        try:
            port = parts.port
        except ValueError:
            port = None
        return f"{parts.scheme}://{parts.hostname}:{port}"
    return target.split("?", 1)[0]
