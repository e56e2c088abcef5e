"""The demo services' HTTP surface, served in-process under `/demo` on Nightowl's own server:
`/demo/<service>/metrics` (text exposition; 503 while the service is down), `/demo/<service>/health`
(200 ok, 200 degraded during a latency spike or failure burst, 503 down) and `/demo/` (an overview)."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from nightowl.core.clock import Clock
from nightowl.demo.exposition import render
from nightowl.demo.simulation import Platform

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def demo_app(platform: Platform, clock: Clock) -> Starlette:
    async def respond_slowly(name: str, now: float) -> None:
        # A real wait, not the clock's: health checks and scrapes should see a slow service.
        delay = platform.response_delay(name, now)
        if delay > 0:
            await asyncio.sleep(delay)

    def service_name(request: Request) -> str | None:
        name = str(request.path_params["service"])
        return name if name in platform.services else None

    async def overview(request: Request) -> Response:
        now = clock.now()
        platform.advance(now)
        return JSONResponse(
            {
                "services": [
                    {
                        "name": name,
                        "metrics": f"/demo/{name}/metrics",
                        "health": f"/demo/{name}/health",
                        "status": "down" if platform.is_down(name, now) else "up",
                    }
                    for name in platform.services
                ],
                "incidents": [
                    {"service": i.service, "kind": i.kind, "start": i.start, "end": i.end}
                    for i in platform.active_incidents(now)
                ],
            }
        )

    async def metrics(request: Request) -> Response:
        name = service_name(request)
        if name is None:
            return PlainTextResponse("no such demo service\n", status_code=404)
        now = clock.now()
        platform.advance(now)
        if platform.is_down(name, now):
            return PlainTextResponse("service unavailable\n", status_code=503)
        await respond_slowly(name, now)
        return PlainTextResponse(render(platform.services[name]), media_type=CONTENT_TYPE)

    async def health(request: Request) -> Response:
        name = service_name(request)
        if name is None:
            return JSONResponse({"status": "unknown", "detail": "no such demo service"}, status_code=404)
        now = clock.now()
        platform.advance(now)
        incident = platform.incident_of(name, now)
        if incident is not None and incident.kind == "down":
            return JSONResponse({"status": "down", "service": name, "detail": "connection refused by upstream"}, 503)
        await respond_slowly(name, now)
        checks = {"database": "ok" if platform.services[name].spec.db else "n/a", "dependencies": "ok"}
        if incident is not None:
            detail = "high latency" if incident.kind == "latency_spike" else "elevated error rate"
            return JSONResponse({"status": "degraded", "service": name, "detail": detail, "checks": checks})
        return JSONResponse({"status": "ok", "service": name, "checks": checks})

    return Starlette(
        routes=[
            Route("/", overview),
            Route("/{service}/metrics", metrics),
            Route("/{service}/health", health),
        ]
    )
