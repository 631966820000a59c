"""Prometheus metrics of one app: `GET /metrics` (text format), behind `ADMIN_TOKENS`.

Each app has its own `CollectorRegistry` (tests start many apps in one process). Counters and
histograms are fed where things happen (the request middleware, the Stripe and Intercom gateways'
one call wrapper, the snapshot cache, the webhook endpoint); the webhook backlog and the money
actions are read from the database when scraped, so they hold for every instance sharing it.
Labels are templates and names only (route templates, SDK operations), never ids or paths.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kernel.admin import admin_refusal
from storage.actions import ActionStore
from storage.webhook_events import EventLedger

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "canvas_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "canvas_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.stripe_requests = Counter(
            "canvas_stripe_requests",
            "Stripe API calls by SDK operation and outcome",
            ["operation", "status"],
            registry=registry,
        )
        self.stripe_seconds = Histogram(
            "canvas_stripe_request_duration_seconds",
            "Duration of Stripe API calls (with the SDK's own retries)",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.cache_lookups = Counter(
            "canvas_cache_lookups",
            "Billing cache lookups (snapshots, customer resolutions) by result",
            ["cache", "result"],
            registry=registry,
        )
        self.webhook_events = Counter(
            "canvas_webhook_events",
            "Stripe webhook deliveries by event type and outcome",
            ["type", "outcome"],
            registry=registry,
        )
        self.intercom_requests = Counter(
            "canvas_intercom_requests",
            "Intercom API calls by operation, kind (read/write) and outcome",
            ["operation", "kind", "status"],
            registry=registry,
        )
        self.webhook_backlog_age = Gauge(
            "canvas_webhook_oldest_unhandled_age_seconds",
            "Age of the oldest Stripe event received but not handled yet (0: none)",
            registry=registry,
        )
        self.money_actions = Gauge(
            "canvas_money_actions",
            "Money-moving attempts in the audit trail by kind and outcome (all instances)",
            ["action", "outcome"],
            registry=registry,
        )

        # Each labelled child once: `labels()` validates and locks on every call, and a cold
        # sidebar feeds them a dozen times.
        self._children: dict[tuple[object, ...], Any] = {}

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    # --- hooks handed to the middleware and the gateways ---
    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._child(self.requests, method, route, str(status)).inc()
        self._child(self.request_seconds, method, route).observe(seconds)

    def observe_stripe(self, operation: str, status: str, seconds: float) -> None:
        self._child(self.stripe_requests, operation, status).inc()
        self._child(self.stripe_seconds, operation).observe(seconds)

    def observe_intercom(self, operation: str, status: str) -> None:
        kind = "read" if operation.startswith("GET ") or operation.endswith("/search") else "write"
        self._child(self.intercom_requests, operation, kind, status).inc()

    def observe_cache(self, cache: str, hit: bool) -> None:
        self._child(self.cache_lookups, cache, "hit" if hit else "miss").inc()

    def observe_webhook(self, event_type: str, outcome: str) -> None:
        self._child(self.webhook_events, event_type, outcome).inc()


async def metrics_endpoint(request: Request) -> Response:
    if (refusal := admin_refusal(request)) is not None:
        return refusal
    services = request.app.state.services
    metrics: Metrics = request.app.state.metrics
    oldest = await EventLedger(services.db).oldest_unhandled()
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    metrics.webhook_backlog_age.set(max(age, 0.0))
    metrics.money_actions.clear()
    for action, outcome, count in await ActionStore(services.db).outcome_counts():
        metrics.money_actions.labels(action, outcome).set(count)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
