"""``/_sandbox/*``: the control plane for tests and the demo (no auth): rate limits, faults,
latency, the request log, contacts and each contact's activity, reset."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.serving import gc_paused

from .errors import error_body
from .render import render_applied_tag, render_contact, render_note
from .state import Fault, IntercomState

Control = Callable[[IntercomState, Request], Awaitable[Response]]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw else {}
    return data if isinstance(data, dict) else {}


async def rate_limit(state: IntercomState, request: Request) -> Response:
    data = await _body(request)
    with state.lock:
        state.rate_limit_remaining = int(data.get("count", 1))
        state.rate_limit_retry_after = int(data.get("retry_after", 1))
    return JSONResponse(
        {"count": state.rate_limit_remaining, "retry_after": state.rate_limit_retry_after}
    )


async def faults(state: IntercomState, request: Request) -> Response:
    if request.method == "DELETE":
        with state.lock:
            state.faults.clear()
    elif request.method == "POST":
        data = await _body(request)
        fault = Fault(
            status=int(data.get("status", 500)),
            count=int(data.get("count", 1)),
            path_prefix=str(data.get("path_prefix", "/")),
            method=(str(data["method"]).upper() if data.get("method") else None),
        )
        with state.lock:
            state.faults.append(fault)
    return JSONResponse({"faults": [vars(f) for f in state.faults]})


async def latency(state: IntercomState, request: Request) -> Response:
    data = await _body(request)
    state.latency_ms = max(int(data.get("ms", 0)), 0)
    return JSONResponse({"ms": state.latency_ms})


async def requests(state: IntercomState, request: Request) -> Response:
    with state.lock:
        if request.method == "DELETE":
            state.requests.clear()
            return JSONResponse({"deleted": True})
        prefix = request.query_params.get("path_prefix", "")
        method = request.query_params.get("method")
        data = [
            r
            for r in state.requests
            if r["path"].startswith(prefix) and (method is None or r["method"] == method.upper())
        ]
        return JSONResponse(
            {"data": data, "intercom_versions_seen": dict(state.intercom_versions_seen)}
        )


async def contacts(state: IntercomState, request: Request) -> Response:
    with state.lock:
        return JSONResponse({"data": [render_contact(state, c) for c in state.contacts.values()]})


async def activity(state: IntercomState, request: Request) -> Response:
    contact_id = request.path_params["contact_id"]
    with state.lock:
        contact = state.contacts.get(contact_id)
        if contact is None:
            return JSONResponse(error_body("not_found", "User Not Found"), 404)
        applied = state.contact_tags.get(contact_id, {})
        return JSONResponse(
            {
                "contact_id": contact_id,
                "email": contact["email"],
                "external_id": contact["external_id"],
                "custom_attributes": dict(contact["custom_attributes"]),
                "tags": [render_applied_tag(state, tid, a) for tid, a in applied.items()],
                "events": [
                    {k: v for k, v in e.items() if k != "type"}
                    for e in state.events
                    if e["contact_id"] == contact_id
                ],
                "notes": [
                    render_note(state, n) for n in state.notes if n["contact_id"] == contact_id
                ],
                "timeline": list(state.activity.get(contact_id, [])),
            }
        )


async def reset(state: IntercomState, request: Request) -> Response:
    with gc_paused():
        state.reset()
    return JSONResponse({"reset": True, "contacts": len(state.contacts)})


def routes(state: IntercomState) -> list[Route]:
    """The control routes, bound to ``state``."""

    def bound(control: Control) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await control(state, request)

        return endpoint

    return [
        Route("/_sandbox/rate_limit", bound(rate_limit), methods=["POST"]),
        Route("/_sandbox/faults", bound(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/latency", bound(latency), methods=["POST"]),
        Route("/_sandbox/requests", bound(requests), methods=["GET", "DELETE"]),
        Route("/_sandbox/contacts", bound(contacts), methods=["GET"]),
        Route("/_sandbox/contacts/{contact_id}/activity", bound(activity), methods=["GET"]),
        Route("/_sandbox/reset", bound(reset), methods=["POST"]),
    ]
