"""The HTTP face of the sandbox: ``/v1`` Stripe API, ``/_sandbox`` controls, hosted pages.

One catch-all ``/v1`` endpoint does what Stripe's edge does for every request (auth, request
id, idempotency, injected latency/faults, request log, expand) and dispatches to handlers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import checkout_pages, control, invoice_pages, portal_pages
from .errors import ApiError
from .forms import FormError, decode, parse_pairs
from .handlers import ROUTES
from .objects import API_VERSION
from .state import StripeState, request_context

IDEMPOTENCY_TTL = 24 * 3600


@dataclass
class Ctx:
    """Everything a handler needs about the request it serves."""

    state: StripeState
    request: Request
    params: dict[str, Any]
    path: dict[str, str]
    base: str
    request_id: str


def _mask(key: str) -> str:
    return (key[:8] if key.startswith(("sk_", "rk_")) else "") + "****" + key[-4:]


def _auth_error(header: str | None, api_key: str) -> ApiError | None:
    if not header:
        return ApiError(
            401,
            "You did not provide an API key. You need to provide your API key "
            "in the Authorization header, using Bearer auth (e.g. "
            "'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
            "for details, or we can help at https://support.stripe.com/.",
        )
    scheme, _, given = header.partition(" ")
    given = given.strip()
    if scheme.lower() == "basic":  # `curl -u sk_test_x:` works against real Stripe too
        try:
            given = base64.b64decode(given).decode().split(":", 1)[0]
            scheme = "Bearer"
        except (ValueError, UnicodeDecodeError):
            pass
    if scheme.lower() != "bearer" or given != api_key:
        return ApiError(401, f"Invalid API Key provided: {_mask(given or scheme)}")
    return None


def _rate_limit_error(fault: dict[str, Any]) -> ApiError:
    """Stripe's two 429s: its rate limiter (`Stripe-Rate-Limited-Reason`, no retry advice: the
    client backs off) and a lock timeout on a busy object (`Stripe-Should-Retry: true`). Stripe
    documents no `Retry-After`; a fault may add one (proxies and gateways in front of it do)."""
    headers: dict[str, str] = {}
    if fault.get("retry_after") is not None:
        headers["Retry-After"] = str(fault["retry_after"])
    if fault.get("code") == "lock_timeout":
        headers["Stripe-Should-Retry"] = "true"
        return ApiError(
            429,
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it. If you see this error intermittently, retry the "
            "request. If you see this error frequently and are making multiple concurrent "
            "requests to a single object, make your requests serially or at a lower rate. See "
            "https://stripe.com/docs/rate-limits for more information.",
            code="lock_timeout",
            headers=headers,
        )
    headers["Stripe-Rate-Limited-Reason"] = fault.get("reason") or "global-rate"
    return ApiError(
        429,
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
        headers=headers,
    )


def _fault_error(fault: dict[str, Any]) -> ApiError:
    status = int(fault["status"])
    error = fault.get("error")
    if error is not None:  # a 4xx as Stripe words it (e.g. a search it can't parse)
        return ApiError(
            status,
            error["message"],
            type=error.get("type", "invalid_request_error"),
            code=error.get("code"),
            param=error.get("param"),
        )
    if status == 429:
        return _rate_limit_error(fault)
    if status == 503:
        return ApiError(
            503, "The server is temporarily unavailable. Please try again later.", type="api_error"
        )
    return ApiError(status, "An unknown error occurred", type="api_error")


def _json(body: Any, status: int, headers: dict[str, str]) -> Response:
    return Response(
        json.dumps(body, indent=2),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def create_stripe_app(
    state: StripeState, *, api_key: str, latency_ms: float | None = None, seed: bool = False
) -> Starlette:
    """A Starlette app serving ``state`` as the Stripe API at its root (SDK base address)."""
    if latency_ms is not None:
        state.latency_ms = latency_ms
    if seed:
        from .seed import seed_demo_world

        seed_demo_world(state)

    async def v1(request: Request) -> Response:
        st = state
        started = time.monotonic()
        req_id = st.new_id("req", 14)
        path = request.url.path
        method = request.method
        idem_key = request.headers.get("idempotency-key") if method == "POST" else None
        entry: dict[str, Any] = {
            "id": req_id,
            "method": method,
            "path": path,
            "query": request.url.query,
            "start": started,
            "end": None,
            "status": None,
            "idempotency_key": idem_key,
            "stripe_version": request.headers.get("stripe-version"),
            # What the SDK tells Stripe about us beyond the request: the previous request's
            # timing (telemetry) and the client's description (`X-Stripe-Client-User-Agent`).
            "telemetry": request.headers.get("x-stripe-client-telemetry"),
            "client_user_agent": request.headers.get("x-stripe-client-user-agent"),
        }
        st.request_log.append(entry)
        if st.public_base_url is None:
            st.public_base_url = str(request.base_url).rstrip("/")
        headers = {"Request-Id": req_id, "Stripe-Version": API_VERSION}
        if idem_key:
            headers["Idempotency-Key"] = idem_key
        idem_slot: dict[str, Any] | None = None
        status, body = 500, {}
        try:
            err = _auth_error(request.headers.get("authorization"), api_key)
            if err:
                raise err
            raw = (await request.body()).decode() if method == "POST" else request.url.query
            pairs = parse_pairs(raw)
            if method == "POST" and request.url.query:
                pairs += parse_pairs(request.url.query)
            if idem_key:
                fp = json.dumps([method, path, sorted(pairs)])
                slot = st.idempotency.get(idem_key)
                if slot and slot["created"] + IDEMPOTENCY_TTL < st.now():
                    slot = None
                if slot is not None:
                    if slot["in_flight"]:
                        raise ApiError(
                            409,
                            "There is currently another in-progress request using "
                            "this Idempotent Key (that probably means you submitted "
                            "twice, and the other request is still going through): "
                            f"{idem_key}. Please try again later.",
                            type="idempotency_error",
                            code="idempotency_key_in_use",
                        )
                    if slot["fingerprint"] != fp:
                        raise ApiError(
                            400,
                            "Keys for idempotent requests can only be used with the "
                            "same parameters they were first used with. Try using a "
                            "key other than '" + idem_key + "' if you meant to "
                            "execute a different request.",
                            type="idempotency_error",
                        )
                    replay_headers = {
                        **headers,
                        "Idempotent-Replayed": "true",
                        "Original-Request": slot["request_id"],
                    }
                    status = slot["status"]
                    entry.update(status=status, end=time.monotonic(), replayed=True)
                    return _json(slot["body"], status, replay_headers)
                idem_slot = {
                    "fingerprint": fp,
                    "in_flight": True,
                    "created": st.now(),
                    "request_id": req_id,
                    "status": None,
                    "body": None,
                }
                st.idempotency[idem_key] = idem_slot
            if st.latency_ms:
                await asyncio.sleep(st.latency_ms / 1000)
            if st.over_rate_limit():
                raise _rate_limit_error({"reason": "global-rate"})
            fault = _take_fault(st, method, path)
            if fault is not None:
                if fault.get("delay_ms"):
                    await asyncio.sleep(fault["delay_ms"] / 1000)
                if fault["status"] != "hang":
                    if idem_slot is not None and idem_key is not None:
                        st.idempotency.pop(idem_key, None)
                        idem_slot = None
                    raise _fault_error(fault)
            params = decode(pairs)
            handler, pp = _route(method, path)
            ctx = Ctx(st, request, params, pp, st.base_url(str(request.base_url)), req_id)
            token = request_context.set((req_id, idem_key))
            try:
                result = handler(ctx)
                if asyncio.iscoroutine(result):
                    result = await result
            finally:
                request_context.reset(token)
            expand = params.get("expand")
            if expand:
                paths = expand if isinstance(expand, list) else [expand]
                result = st.expand(
                    result, [p for p in paths if isinstance(p, str) and p != "total_count"]
                )
            status, body = 200, result
        except ApiError as e:
            status, body = e.status, e.body(req_id)
            headers.update(e.headers)
            if e.status == 409:
                idem_slot = None  # the in-flight owner keeps its slot
        except FormError as e:
            status = 400
            body = ApiError(400, str(e), param=e.param).body(req_id)
        except Exception as e:  # a sandbox bug must still look like Stripe's 500
            status = 500
            body = ApiError(
                500, f"An unknown error occurred ({type(e).__name__}: {e})", type="api_error"
            ).body(req_id)
        if idem_slot is not None and idem_key is not None:
            if status >= 500 or status == 429:
                st.idempotency.pop(idem_key, None)
            else:
                idem_slot.update(in_flight=False, status=status, body=body)
        if status >= 500:
            headers["Stripe-Should-Retry"] = "true"
        entry.update(status=status, end=time.monotonic())
        return _json(body, status, headers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.webhooks.start()
        try:
            yield
        finally:
            await state.webhooks.stop()

    routes = [
        Route("/v1/{rest:path}", v1, methods=["GET", "POST", "DELETE"]),
        *control.routes(state),
        *checkout_pages.routes(state),
        *portal_pages.routes(state),
        *invoice_pages.routes(state),
        Route("/", lambda r: JSONResponse({"sandbox": "stripe", "api_version": API_VERSION})),
    ]

    async def unrouted(request: Request, exc: Exception) -> Response:
        # Like Stripe's edge, a URL no route takes (e.g. an id with a line break in it, which
        # `{rest:path}` does not match) is Stripe's JSON 404, not a bare "Not Found".
        path = request.url.path
        if not path.startswith("/v1/"):
            return Response("Not Found", status_code=404)
        error = ApiError(
            404,
            f"Unrecognized request URL ({request.method}: {path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )
        return _json(error.body(state.new_id("req", 14)), 404, {"Stripe-Version": API_VERSION})

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: unrouted})
    app.state.stripe_state = state
    app.add_middleware(_WorldWatch, state=state)
    return app


# Requests that leave the world (objects, events, idempotency keys, clock) as it was: the API's
# reads, `create_preview` (a read sent as POST), the control API's reads and its knobs.
_WORLD_READS = {("POST", "/v1/invoices/create_preview")}
_KNOBS = {
    "/_sandbox/requests",
    "/_sandbox/latency",
    "/_sandbox/faults",
    "/_sandbox/rate_limit",
    "/_sandbox/webhook_endpoints",
    "/_sandbox/reset",
}


class _WorldWatch:
    """Marks the world touched (`StripeState.untouched`) before any request that may change
    it is served, so that a reset of an untouched world can keep it (`seed.fresh_demo_world`)."""

    def __init__(self, app: Any, state: StripeState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.state.untouched:
            method, path = scope["method"], scope["path"]
            read = method in ("GET", "HEAD") and path.startswith(("/v1/", "/_sandbox/"))
            if not (read or path in _KNOBS or (method, path) in _WORLD_READS):
                self.state.untouched = False
        await self.app(scope, receive, send)


def _take_fault(state: StripeState, method: str, path: str) -> dict[str, Any] | None:
    for f in state.faults:
        if f["count"] <= 0:
            continue
        if not path.startswith(f.get("path_prefix") or "/v1"):
            continue
        if f.get("method") and f["method"].upper() != method:
            continue
        f["count"] -= 1
        return f
    return None


def _route(method: str, path: str) -> tuple[Callable[[Ctx], Any], dict[str, str]]:
    for m, pattern, handler in ROUTES:
        if m != method:
            continue
        match = pattern.fullmatch(path)
        if match:
            return handler, match.groupdict()
    raise ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )


_ = re  # patterns are compiled in handlers.ROUTES
