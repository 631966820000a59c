"""``/_sandbox`` control API (no auth): request log, latency, faults, clock, webhooks, demo."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import billing
from . import objects as ob
from .errors import ApiError
from .state import StripeState


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise ApiError(400, "Body must be JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Body must be a JSON object")
    return data


def _wrap(fn: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await fn(request))
        except ApiError as e:
            return JSONResponse(e.body(), status_code=e.status)

    return endpoint


def routes(state: StripeState) -> list[Route]:
    """All control routes bound to ``state``."""

    async def requests_get(request: Request) -> Any:
        return {"requests": state.request_log}

    async def requests_clear(request: Request) -> Any:
        n = len(state.request_log)
        state.request_log.clear()
        return {"cleared": n}

    async def latency(request: Request) -> Any:
        body = await _body(request)
        state.latency_ms = float(body.get("ms", 0))
        return {"ms": state.latency_ms}

    async def faults_add(request: Request) -> Any:
        body = await _body(request)
        status = body.get("status", 500)
        if status != "hang" and int(status) not in (400, 402, 404, 409, 429, 500, 502, 503, 504):
            raise ApiError(400, "status must be an HTTP error status or 'hang'")
        fault = {
            "path_prefix": body.get("path_prefix") or "/v1",
            "method": body.get("method"),
            "status": status,
            "count": int(body.get("count", 1)),
            "delay_ms": float(body.get("delay_ms", 0)),
            # 429 only: "rate_limit" (default) or "lock_timeout"; an optional Retry-After
            "code": body.get("code"),
            "reason": body.get("reason"),
            "retry_after": body.get("retry_after"),
        }
        # A 4xx as Stripe words it: {"type": "invalid_request_error", "code": ..., "param":
        # ..., "message": ...} (e.g. a search query Stripe can't parse, a malformed id).
        error = body.get("error")
        if error is not None:
            if not isinstance(error, dict) or not isinstance(error.get("message"), str):
                raise ApiError(400, "error must be an object with a message")
            if status == "hang" or int(status) >= 500 or int(status) == 429:
                raise ApiError(400, "error applies to a 4xx status")
            fault["error"] = {
                k: str(error[k]) for k in ("type", "code", "param", "message") if error.get(k)
            }
        state.faults.append(fault)
        return {"faults": state.faults}

    async def rate_limit(request: Request) -> Any:
        body = await _body(request)
        per_second = body.get("per_second")
        state.rate_limit_per_second = float(per_second) if per_second else None
        state.recent_requests.clear()
        return {"per_second": state.rate_limit_per_second}

    async def faults_get(request: Request) -> Any:
        return {"faults": state.faults}

    async def faults_clear(request: Request) -> Any:
        state.faults.clear()
        state.rate_limit_per_second = None
        return {"faults": []}

    async def clock_get(request: Request) -> Any:
        return {"now": state.now(), "offset": state.clock_offset}

    async def clock_advance(request: Request) -> Any:
        body = await _body(request)
        return state.advance_clock(float(body.get("seconds", 0)))

    async def sepa_settle(request: Request) -> Any:
        settled = [
            billing.settle_payment_intent(state, pi["id"])
            for pi in state.all("payment_intent")
            if pi["status"] == "processing"
        ]
        return {"settled": settled}

    async def reset(request: Request) -> Any:
        from .seed import fresh_demo_world

        fresh_demo_world(state)
        return {"ok": True, "customers": len(state.all("customer"))}

    async def summary(request: Request) -> Any:
        out = []
        for c in state.all("customer"):
            subs = [s for s in state.all("subscription") if s["customer"] == c["id"]]
            out.append(
                {
                    "id": c["id"],
                    "email": c["email"],
                    "name": c["name"],
                    "balance": c["balance"],
                    "delinquent": c["delinquent"],
                    "subscriptions": [{"id": s["id"], "status": s["status"]} for s in subs],
                }
            )
        return {"now": state.now(), "customers": out, "events": len(state.events)}

    async def webhook_add(request: Request) -> Any:
        body = await _body(request)
        if not body.get("url") or not body.get("secret"):
            raise ApiError(400, "url and secret are required")
        return state.webhooks.add_endpoint(body["url"], body["secret"])

    async def webhook_forget(request: Request) -> Any:
        await state.webhooks.forget()
        return {"endpoints": []}

    async def webhook_list(request: Request) -> Any:
        return {"endpoints": state.webhooks.endpoints}

    async def deliveries(request: Request) -> Any:
        return {"deliveries": state.webhooks.deliveries}

    async def alert_trigger(request: Request) -> Any:
        body = await _body(request)
        cus = state.get("customer", body.get("customer", ""), "customer")
        meter = state.get("billing.meter", body.get("meter", ""), "meter")
        value = int(body.get("value", 0))
        obj = ob.alert_triggered(
            alert_id=body.get("alert") or state.new_id("alrt"),
            meter_obj=meter,
            customer=cus["id"],
            gte=int(body.get("gte", value)),
            value=value,
            created=state.now(),
        )
        evt = state.emit("billing.alert.triggered", obj)
        return evt or {}

    async def fail_payment(request: Request) -> Any:
        body = await _body(request)
        inv = billing.fail_renewal(state, body.get("customer", ""))
        return state.render(inv)

    spec: list[tuple[str, str, Callable[[Request], Awaitable[Any]]]] = [
        ("/_sandbox/requests", "GET", requests_get),
        ("/_sandbox/requests", "DELETE", requests_clear),
        ("/_sandbox/latency", "POST", latency),
        ("/_sandbox/faults", "POST", faults_add),
        ("/_sandbox/faults", "GET", faults_get),
        ("/_sandbox/faults", "DELETE", faults_clear),
        ("/_sandbox/rate_limit", "POST", rate_limit),
        ("/_sandbox/clock", "GET", clock_get),
        ("/_sandbox/clock/advance", "POST", clock_advance),
        ("/_sandbox/sepa/settle", "POST", sepa_settle),
        ("/_sandbox/reset", "POST", reset),
        ("/_sandbox/state/summary", "GET", summary),
        ("/_sandbox/webhook_endpoints", "POST", webhook_add),
        ("/_sandbox/webhook_endpoints", "GET", webhook_list),
        ("/_sandbox/webhook_endpoints", "DELETE", webhook_forget),
        ("/_sandbox/deliveries", "GET", deliveries),
        ("/_sandbox/billing_alerts/trigger", "POST", alert_trigger),
        ("/_sandbox/demo/fail_payment", "POST", fail_payment),
    ]
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Any]]]] = {}
    for path, method, fn in spec:
        by_path.setdefault(path, {})[method] = fn

    def make(
        methods: dict[str, Callable[[Request], Awaitable[Any]]],
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            return await _wrap(methods[request.method])(request)

        return endpoint

    return [Route(p, make(m), methods=list(m)) for p, m in by_path.items()]
