"""Starlette app that answers like Intercom's REST API 2.14 for the calls our product makes.

Response bodies follow ``intercom-api-2.14.yaml`` (shapes copied from its schemas, not its text) so
the official ``python-intercom`` SDK parses them; ``render`` shapes them, one module per resource
answers its routes (``contacts``, ``tags``, ``events``, ``notes``, ``data_attributes``,
``conversations``). This module does what Intercom's edge does for every API request: auth,
rate limits, injected faults and latency, the request log. ``/_sandbox/*`` (``control``) is a
control plane for tests and the demo (no auth).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import contacts, control, conversations, data_attributes, events, notes, tags
from .errors import SERVER_ERROR_BODIES, ApiFailure, error_body, resource_not_found
from .state import Fault, IntercomState

Handler = Callable[[IntercomState, Request, Any], Awaitable[Response]]

RATE_LIMIT_PER_WINDOW = 1667  # 10,000/min private-app limit, reported per 10-second window
RATE_WINDOW_SECONDS = 10


async def unknown_route(state: IntercomState, request: Request, body: Any) -> Response:
    raise resource_not_found()


# (path, method, handler); the first match wins, as in Starlette's routing.
ROUTES: list[tuple[str, str, Handler]] = [
    ("/contacts/search", "POST", contacts.search_contacts),
    ("/contacts/find_by_external_id/{external_id:path}", "GET", contacts.find_by_external_id),
    ("/contacts/{contact_id}/tags", "POST", tags.attach_tag),
    ("/contacts/{contact_id}/tags", "GET", tags.list_contact_tags),
    ("/contacts/{contact_id}/tags/{tag_id}", "DELETE", tags.detach_tag),
    ("/contacts/{contact_id}/notes", "POST", notes.create_note),
    ("/contacts/{contact_id}/notes", "GET", notes.list_notes),
    ("/contacts/{contact_id}", "GET", contacts.get_contact),
    ("/contacts/{contact_id}", "PUT", contacts.update_contact),
    ("/tags", "POST", tags.create_tag),
    ("/tags", "GET", tags.list_tags),
    ("/events", "POST", events.create_event),
    ("/events", "GET", events.list_events),
    ("/data_attributes", "GET", data_attributes.list_data_attributes),
    ("/data_attributes", "POST", data_attributes.create_data_attribute),
    ("/data_attributes/{data_attribute_id}", "PUT", data_attributes.update_data_attribute),
    ("/conversations/{conversation_id}", "GET", conversations.get_conversation),
    ("/conversations/{conversation_id}/reply", "POST", conversations.reply_conversation),
    ("/me", "GET", conversations.identify_admin),
]
UNKNOWN_ROUTE_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


class RateWindow:
    """The ``X-RateLimit-*`` headers of a request: its count in the current 10-second window."""

    def __init__(self) -> None:
        self.start = 0
        self.count = 0

    def headers(self, now: float) -> dict[str, str]:
        start = int(now // RATE_WINDOW_SECONDS * RATE_WINDOW_SECONDS)
        if self.start != start:
            self.start, self.count = start, 0
        self.count += 1
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT_PER_WINDOW),
            "X-RateLimit-Remaining": str(max(RATE_LIMIT_PER_WINDOW - self.count, 0)),
            "X-RateLimit-Reset": str(start + RATE_WINDOW_SECONDS),
        }


def create_intercom_app(state: IntercomState, *, access_token: str) -> Starlette:
    """Build the ASGI app serving ``state``; requests must carry ``Bearer <access_token>``."""
    window = RateWindow()

    def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await serve(state, request, handler, access_token, window)

        return endpoint

    routes = [
        *control.routes(state),
        *(Route(path, api(handler), methods=[method]) for path, method, handler in ROUTES),
        Route("/{rest:path}", api(unknown_route), methods=UNKNOWN_ROUTE_METHODS),
    ]
    app = Starlette(routes=routes)
    app.state.intercom = state
    return app


async def serve(
    state: IntercomState, request: Request, handler: Handler, access_token: str, window: RateWindow
) -> Response:
    """One API request: latency, then `dispatch`; recorded in the request log with the
    ``Intercom-Version`` it asked for."""
    raw = await request.body()
    body: Any = None
    body_error = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body, body_error = raw.decode("utf-8", "replace"), True
    version = request.headers.get("intercom-version")
    entry: dict[str, Any] = {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "body": body,
        "intercom_version": version,
        "time": time.time(),
    }
    if state.latency_ms:
        await asyncio.sleep(state.latency_ms / 1000)
    response = await dispatch(state, request, handler, body, body_error, access_token, window)
    entry["status"] = response.status_code
    entry["response"] = json.loads(bytes(response.body)) if response.body else None
    with state.lock:
        entry["id"] = len(state.requests) + 1
        state.requests.append(entry)
        key = version or "<missing>"
        state.intercom_versions_seen[key] = state.intercom_versions_seen.get(key, 0) + 1
    return response


async def dispatch(
    state: IntercomState,
    request: Request,
    handler: Handler,
    body: Any,
    body_error: bool | None,
    access_token: str,
    window: RateWindow,
) -> Response:
    """Auth, a 429 while one is asked for, an injected fault, then the handler."""
    auth = request.headers.get("authorization", "")
    if auth != f"Bearer {access_token}":
        return _fail(ApiFailure(401, "unauthorized", "Access Token Invalid"))
    now = time.time()
    with state.lock:
        if state.rate_limit_remaining > 0:
            state.rate_limit_remaining -= 1
            reset = int(now) + state.rate_limit_retry_after
            return _fail(
                ApiFailure(429, "rate_limit_exceeded", "Rate Limit Exceeded"),
                {
                    "X-RateLimit-Limit": str(RATE_LIMIT_PER_WINDOW),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(reset),
                    "Retry-After": str(state.rate_limit_retry_after),
                },
            )
        headers = window.headers(now)
        fault = _take_fault(state, request.method, request.url.path)
    if fault is not None:
        code, message = SERVER_ERROR_BODIES.get(fault.status, ("server_error", "Server Error"))
        return _fail(ApiFailure(fault.status, code, message), headers)
    if body_error:
        return _fail(ApiFailure(400, "parameter_invalid", "Request body is not valid JSON"))
    try:
        with state.lock:
            response = await handler(state, request, body)
    except ApiFailure as exc:
        return _fail(exc, headers)
    response.headers.update(headers)
    return response


def _fail(exc: ApiFailure, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(exc.code, exc.message), exc.status, headers=headers)


def _take_fault(state: IntercomState, method: str, path: str) -> Fault | None:
    for fault in state.faults:
        if path.startswith(fault.path_prefix) and fault.method in (None, method):
            fault.count -= 1
            if fault.count <= 0:
                state.faults.remove(fault)
            return fault
    return None
