"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from nightowl.runtime import Nightowl

Permission = Literal["read", "write", "ingest", "admin"]


def get_nightowl(request: Request) -> Nightowl:
    nightowl: Nightowl = request.app.state.nightowl
    return nightowl


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (by role) or an API key (by scopes)."""

    kind: Literal["user", "key", "anonymous"]
    name: str
    permissions: frozenset[str]


def requires(permission: Permission) -> Callable[[Request], Principal]:
    """Dependency factory: `Depends(requires("ingest"))` guards a route.

    Until authentication lands (issue #3) every caller is let through as anonymous.
    """

    def dependency(request: Request) -> Principal:
        return Principal("anonymous", "anonymous", frozenset({"read", "write", "ingest", "admin"}))

    return dependency
