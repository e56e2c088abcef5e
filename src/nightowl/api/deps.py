"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from fastapi import Request

from nightowl.runtime import Nightowl


def get_nightowl(request: Request) -> Nightowl:
    nightowl: Nightowl = request.app.state.nightowl
    return nightowl
