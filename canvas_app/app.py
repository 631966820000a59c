"""The ASGI application: the composition root that wires settings, gateways and edges.

`create_app(settings)` builds an app (tests); `canvas_app.app:app` builds one from the
environment on first use, stopping with a clear message when the configuration is invalid.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from actions import endpoints as fin_endpoints
from automations import webhooks as stripe_webhooks
from inbox import endpoints as inbox
from kernel import metrics
from kernel.http import EXCEPTION_HANDLERS
from kernel.logs import RequestContextMiddleware, configure_logging, protect_logs
from kernel.services import Services
from kernel.settings import Settings, SettingsError, load_settings
from messenger import endpoints as messenger
from messenger import links
from reporting import page as report_page

log = logging.getLogger("canvas_app")
READY_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    # 200 even while the invalidation listener reconnects: the instance still answers correctly
    # (with a cache bounded to SNAPSHOT_CACHE_OFFLINE_SECONDS), so it stays in the balancer.
    bus = request.app.state.services.invalidations
    return JSONResponse({"status": "ok", "invalidations": bus.state if bus else "in-process"})


async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: settings loaded and the database answering (503 otherwise)."""
    services: Services | None = getattr(request.app.state, "services", None)
    checks = {"settings": "ok" if services is not None and services.settings else "missing"}
    try:
        assert services is not None
        await asyncio.wait_for(services.db.ping(), timeout=READY_TIMEOUT_SECONDS)
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("not ready: database unreachable (%s)", type(exc).__name__)
        checks["database"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    # --- the edges: one line each ---
    routes += inbox.routes
    routes += fin_endpoints.routes
    routes += stripe_webhooks.routes
    routes += messenger.routes + links.routes
    routes += report_page.routes + metrics.routes
    return routes


def create_app(settings: Settings, *, services: Services | None = None) -> Starlette:
    services = services or Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        protect_logs()  # again: the server may have (re)configured logging since import
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    routes = _routes()
    app_metrics = metrics.Metrics()
    services.stripe.observe = app_metrics.observe_stripe
    services.billing.observe = app_metrics.observe_cache
    if services.intercom is not None:
        services.intercom.observe = app_metrics.observe_intercom
    app = Starlette(
        routes=routes,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(RequestContextMiddleware, routes=routes, metrics=app_metrics)],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.metrics = app_metrics
    return app


def app_from_environment() -> Starlette:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    configure_logging(settings.log_format)
    return create_app(settings)


_app: Starlette | None = None
protect_logs()


def __getattr__(name: str) -> Any:
    # `canvas_app.app:app` is built lazily so importing this module (tests, tools) needs no env.
    global _app
    if name == "app":
        if _app is None:
            _app = app_from_environment()
        return _app
    raise AttributeError(name)
