"""Credentials inside check definitions (a DSN's password, an Authorization header) never leave
through the API: views mask them, and a definition sent back with the mask keeps the stored secret."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from nightowl.health.spec import CheckSpec

MASK = "****"
_SENSITIVE_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "key", "password", "auth")


def sensitive_header(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SENSITIVE_HEADER_WORDS)


def _with_password(url: str, password: str | None) -> str:
    parts = urlsplit(url)
    if parts.password is None or password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def masked(spec: CheckSpec) -> dict[str, Any]:
    """The definition as the API shows it."""
    view = spec.model_dump(mode="json")
    view["target"] = _with_password(spec.target, MASK)
    view["headers"] = {k: (MASK if sensitive_header(k) else v) for k, v in spec.headers.items()}
    return view


def restore(new: CheckSpec, current: CheckSpec) -> CheckSpec:
    """`new` with masked secrets replaced by the stored ones (a client sent back what it was shown)."""
    target = new.target
    current_password = urlsplit(current.target).password
    if urlsplit(target).password == MASK and current_password is not None:
        target = _with_password(target, current_password)
    headers = {k: (current.headers[k] if v == MASK and k in current.headers else v) for k, v in new.headers.items()}
    return new.model_copy(update={"target": target, "headers": headers})
