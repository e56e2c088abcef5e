"""Who is calling and what they may do: roles and API key scopes both resolve to a set of permissions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Permission = Literal["read", "write", "ingest", "admin"]
Role = Literal["admin", "editor", "viewer"]

PERMISSIONS: tuple[str, ...] = ("read", "write", "ingest", "admin")
ROLES: tuple[str, ...] = ("admin", "editor", "viewer")
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "editor": frozenset({"read", "write"}),
    "admin": frozenset(PERMISSIONS),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (by role) or an API key (by scopes)."""

    kind: Literal["user", "key", "anonymous"]
    name: str
    permissions: frozenset[str]
    id: str = ""
    session_id: str = ""
    rate_limit: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.kind}:{self.name}"


ANONYMOUS = Principal("anonymous", "anonymous", frozenset())


def scope_permissions(scopes: Iterable[str]) -> frozenset[str]:
    """An API key's scopes are permissions; `admin` implies every other one."""
    granted = frozenset(scopes)
    return frozenset(PERMISSIONS) if "admin" in granted else granted


def parse_scopes(scopes: Iterable[str]) -> list[str]:
    """Validate and normalise scopes (deduplicated, in canonical order); raise ValueError naming a bad one."""
    wanted = {s.strip() for s in scopes if s.strip()}
    unknown = sorted(wanted - set(PERMISSIONS))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}: allowed scopes are {', '.join(PERMISSIONS)}")
    if not wanted:
        raise ValueError(f"at least one scope is required: {', '.join(PERMISSIONS)}")
    return [p for p in PERMISSIONS if p in wanted]
