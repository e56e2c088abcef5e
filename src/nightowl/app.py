"""create_app(settings) -> FastAPI: wires the runtime, the middleware, the error answers and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from nightowl import __version__
from nightowl.api import (
    alert_rules,
    alerts,
    alerts_v2,
    audit,
    auth,
    channels,
    checks,
    demo,
    escalations,
    federate,
    graph,
    health_services,
    heartbeats,
    ingest_prometheus,
    integrations,
    keys,
    lifecycle,
    metrics_json,
    notifications,
    otlp,
    prometheus,
    prometheus_rules,
    prometheus_status,
    remote_read,
    routes,
    status,
    status_pages,
    targets,
    users,
    workers,
    ws,
)
from nightowl.api.authn import Authentication, install_openapi_security
from nightowl.api.docs import install_docs
from nightowl.api.middleware import AccessLog, BodyLimit, Cors, RequestMetrics
from nightowl.api.problems import AlertmanagerErrors, install_problem_handlers
from nightowl.config import Settings
from nightowl.core.clock import Clock, SystemClock
from nightowl.demo.app import demo_app
from nightowl.runtime import Nightowl
from nightowl.web.serve import SinglePageApp


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    nightowl = Nightowl(settings=settings, clock=clock or SystemClock())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not nightowl.migrated:
            await run_in_threadpool(nightowl.prepare)
        await nightowl.start()
        try:
            yield
        finally:
            await nightowl.stop()

    app = FastAPI(
        title="Nightowl",
        version=__version__,
        description="Self-hosted monitoring: metrics, PromQL, checks, alerts, dashboards and reports.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.nightowl = nightowl
    install_problem_handlers(app)
    install_docs(app)
    app.include_router(status.router)
    app.include_router(workers.router)
    app.include_router(lifecycle.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(keys.router)
    app.include_router(audit.router)
    app.include_router(ingest_prometheus.router)
    app.include_router(checks.router)
    app.include_router(heartbeats.router)
    app.include_router(health_services.router)
    app.include_router(status_pages.router)
    app.include_router(status_pages.public_router)
    app.include_router(alerts_v2.router)
    app.include_router(channels.router)
    app.include_router(notifications.router)
    app.include_router(routes.router)
    app.include_router(escalations.router)
    app.include_router(prometheus.router)
    app.include_router(graph.router)
    app.include_router(prometheus_rules.router)
    app.include_router(remote_read.router)
    app.include_router(prometheus_status.router)
    app.include_router(federate.router)
    app.include_router(alerts.router)
    app.include_router(alert_rules.router)
    app.include_router(otlp.router)
    app.include_router(metrics_json.router)
    app.include_router(targets.router)
    if nightowl.demo is not None:
        app.mount("/demo", demo_app(nightowl.demo, nightowl.clock))
    app.include_router(demo.router)
    app.include_router(integrations.router)
    app.include_router(ws.router)
    app.add_middleware(prometheus.QueryFastPath, nightowl=nightowl)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Authentication, nightowl=nightowl)
    app.add_middleware(AlertmanagerErrors)
    install_openapi_security(app, nightowl)
    if settings.cors_allowed_origins:
        app.add_middleware(
            Cors,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining"],
        )
    app.add_middleware(SinglePageApp, router=app.router)
    app.add_middleware(RequestMetrics, telemetry=nightowl.telemetry)
    if settings.access_log:
        app.add_middleware(AccessLog)
    return app
