"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from starlette.requests import HTTPConnection

from nightowl.api.authn import CHALLENGES, PRINCIPAL_SCOPE_KEY
from nightowl.auth.principal import Permission, Principal
from nightowl.core.errors import Forbidden, Unauthorized
from nightowl.runtime import Nightowl

__all__ = ["Permission", "Principal", "get_nightowl", "requires"]


def get_nightowl(request: Request) -> Nightowl:
    nightowl: Nightowl = request.app.state.nightowl
    return nightowl


def requires(permission: Permission) -> Callable[[HTTPConnection], Principal]:
    """Dependency factory: `Depends(requires("ingest"))` guards a route and yields the caller.

    The `Authentication` middleware has already identified the caller (or answered 401); this checks the
    caller's permissions: roles viewer {read}, editor {read, write}, admin {all}; API keys by scope.
    """

    def dependency(connection: HTTPConnection) -> Principal:
        principal = connection.scope.get(PRINCIPAL_SCOPE_KEY)
        if not isinstance(principal, Principal) or (principal.kind == "anonymous" and not principal.permissions):
            raise Unauthorized(
                "authentication required: send an API key or log in", headers={"WWW-Authenticate": CHALLENGES[0]}
            )
        if permission not in principal.permissions:
            held = ", ".join(sorted(principal.permissions)) or "none"
            raise Forbidden(f"this needs the '{permission}' permission; {principal.actor} has: {held}")
        return principal

    return dependency
