"""Structured logs and request ids.

Every request gets an id: the caller's `X-Request-Id` when it is a plausible id (letters, digits,
`.`, `_`, `-`; at most 128), otherwise a new one; it is sent back in the response's
`X-Request-Id` and carried, through a context variable and a logging filter, into every log line
written while the request is handled. Each request ends with one `request` line naming the
route *template* (`/l/{token}`, never the raw path), the status, the duration and the Stripe
customer id if an edge named one (`bind_customer`). `LOG_FORMAT=json` prints one JSON object a
line. Ids only: no emails, names, bodies or tokens.

What other code logs is held to the same rule (`protect_logs`), whatever server runs the app:
- Third-party clients log every request URL at INFO (stripe-python and HTTPX name
  `customers/search?query=email:'…'` and `customers?email=…`; stripe-python logs Stripe's error
  messages, which echo the query): they are held at WARNING.
- A payment link (`/l/<token>`) is a bearer capability for days: uvicorn's access log shows
  `/l/…`. uvicorn configures its loggers before it imports the app, so the filter is attached to
  the access loggers themselves, at import and again at start-up (lifespan).
- Tracebacks are logged with their frames and exception types, not their messages
  (`frames_only`: an exception's text may quote a request or a Stripe error).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from kernel.metrics import Metrics

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
UNMATCHED_ROUTE = "unmatched"

log = logging.getLogger("canvas_app.request")


@dataclass(slots=True)
class RequestContext:
    request_id: str
    customer_id: str | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "canvas_request", default=None
)


def bind_customer(customer_id: str | None) -> None:
    """Name the Stripe customer the current request is about (for its log lines)."""
    context = _current.get()
    if context is not None and customer_id:
        context.customer_id = customer_id


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `customer_id` (or None) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id if context else None
        if not hasattr(record, "customer_id"):
            record.customer_id = context.customer_id if context else None
        return True


# Attributes every LogRecord has; anything else was passed with `extra=` and is printed.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request and customer id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "customer_id": getattr(record, "customer_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in data:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """Install the request-context filter on the root handlers and, for `json`, the JSON
    formatter there and on uvicorn's handlers. In JSON mode uvicorn's access log is switched off:
    our `request` line says the same with the route template instead of the raw path."""
    handlers = list(logging.getLogger().handlers)
    if log_format == "json":
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            handlers += logging.getLogger(name).handlers
        logging.getLogger("uvicorn.access").disabled = True
    for handler in handlers:
        if not any(isinstance(f, RequestContextFilter) for f in handler.filters):
            handler.addFilter(RequestContextFilter())
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
    protect_logs()


def route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The path template of the route that serves `scope` (`/l/{token}`), never the raw path;
    a known path asked with another method (405) keeps its template."""
    partial = UNMATCHED_ROUTE
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", UNMATCHED_ROUTE))
        if match == Match.PARTIAL and partial == UNMATCHED_ROUTE:
            partial = str(getattr(route, "path", UNMATCHED_ROUTE))
    return partial


class RequestContextMiddleware:
    """Request id in and out, one `request` log line and the request metrics per request."""

    def __init__(self, app: ASGIApp, *, routes: list[BaseRoute], metrics: Metrics | None) -> None:
        self.app = app
        self.routes = routes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER)
        request_id = given if given and _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        context = RequestContext(request_id)
        token = _current.set(context)
        route = route_template(self.routes, scope)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != REQUEST_ID_HEADER.encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.observe_request(scope["method"], route, status, duration)
            log.info(
                "%s %s %s %.1f ms",
                scope["method"],
                route,
                status,
                duration * 1000,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 1),
                },
            )
            _current.reset(token)


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


# --- what other code logs ---
# Loggers of libraries that log request URLs (or bodies) at INFO or DEBUG.
QUIET_LOGGERS = ("stripe", "httpx", "httpcore", "intercom", "hpack", "h11", "h2")
# uvicorn's access log (and gunicorn's, for `gunicorn -k uvicorn.workers.UvicornWorker`).
ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access")

_LINK = re.compile(r"/l/[^/?#\s\"']+")
REDACTED_LINK = "/l/…"


def redact_links(text: str) -> str:
    """`/l/<token>/done?x` → `/l/…/done?x`."""
    return _LINK.sub(REDACTED_LINK, text)


class RedactPaymentLinks(logging.Filter):
    """Replaces payment-link tokens in a record's message and arguments (uvicorn's access log
    passes the path as an argument: `'%s - "%s %s HTTP/%s" %d'`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "/l/" in record.msg:
            record.msg = redact_links(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_links(arg) if isinstance(arg, str) and "/l/" in arg else arg
                for arg in record.args
            )
        return True


def protect_logs() -> None:
    """Quiet the chatty clients and redact payment links in access logs. Safe to call again
    (at import, and at start-up after the server configured logging)."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactPaymentLinks) for f in logger.filters):
            logger.addFilter(RedactPaymentLinks())


def frames_only(exc: BaseException) -> str:
    """A traceback with each exception's type and frames, never its message."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.format_list(traceback.extract_tb(current.__traceback__))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__}\n")
        lines.extend(frames)
        current = current.__cause__ or current.__context__
    return "".join(lines).rstrip()
