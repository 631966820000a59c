"""`POST /webhooks/stripe`: verified, recorded once by event id, handled until it succeeds.

- No `Stripe-Signature`, a bad one, one older than 300 s, or no configured secret → 400, and
  nothing is recorded or changed.
- Every verified event gets a ledger row (type, received, handled, attempts, outcome, error).
  A delivery of an event that was handled before answers 200 `duplicate` without touching
  Stripe or Intercom.
- Event types we don't act on are acknowledged (200 `ignored`) so Stripe stops sending them.
- If Stripe or Intercom fails while handling, the error is recorded and the answer is non-2xx,
  so Stripe redelivers (for up to three days); every effect is safe to repeat. That includes
  Stripe's rate limit: handling waits on a 429 for at most `RATE_LIMIT_WAIT_SECONDS` in all,
  then answers 503 (Stripe redelivers later, when the account's limit has room again).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from automations.handling import (
    CACHE_EVENT_TYPES,
    HANDLED_EVENT_TYPES,
    Automations,
    HandlingResult,
    customer_id_of,
)
from billing.errors import BillingError, InvalidWebhook, StripeUnavailable
from billing.payment_failure_facts import record_invoice_facts
from gateways.intercom import IntercomRejected, IntercomUnavailable
from gateways.stripe_budget import wait_budget
from gateways.stripe_events import StripeEvent, StripeObject
from kernel.http import error_response, read_body
from kernel.logs import bind_customer, frames_only
from kernel.services import Services
from storage.webhook_events import EventLedger

log = logging.getLogger(__name__)

RATE_LIMIT_WAIT_SECONDS = 8.0  # well within the time Stripe waits for our answer


async def stripe_webhook(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    secret = services.settings.stripe_webhook_secret.get_secret_value()
    payload = await read_body(request)
    signature = request.headers.get("stripe-signature")
    if not secret:
        # An endpoint without a secret would accept anyone's events: verify nothing instead.
        log.error("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set")
        return error_response(400, "webhook_not_configured", "Webhook secret not configured.")
    if not signature:
        return error_response(400, "missing_signature", "Stripe-Signature header missing.")
    try:
        event = services.stripe.construct_event(payload, signature, secret)
    except InvalidWebhook as exc:
        return error_response(400, exc.code, exc.message)
    if not _is_event(event):
        # Signed with our secret, yet not shaped like anything Stripe sends.
        return error_response(400, "invalid_payload", "Not a Stripe event.")

    ledger = EventLedger(services.db)
    bind_customer(customer_id_of(event))
    entry = await ledger.receive(event.id, event.type, customer_id_of(event), now=datetime.now(UTC))
    if entry.handled:
        _count(request, event, "duplicate")
        return JSONResponse({"status": "duplicate", "outcome": entry.outcome})
    if event.type in CACHE_EVENT_TYPES:
        # Nothing to tell Intercom, but what we keep about the customer (its lifetime value,
        # cached for long) is stale: a refund made in the Stripe dashboard.
        if customer_id := customer_id_of(event):
            services.billing.invalidate(customer_id)
        await ledger.finish(event.id, "cache_dropped", now=datetime.now(UTC))
        _count(request, event, "cache_dropped")
        return JSONResponse({"status": "cache_dropped"})
    if event.type not in HANDLED_EVENT_TYPES:
        await ledger.finish(event.id, "ignored", now=datetime.now(UTC))
        _count(request, event, "ignored")
        return JSONResponse({"status": "ignored"})
    automations = Automations.from_services(services)

    async def tell_intercom() -> HandlingResult | None:
        if automations is None:
            return None
        with wait_budget(RATE_LIMIT_WAIT_SECONDS):
            return await automations.handle(event)

    # The report's facts (what failed, how it ended) are recorded whether or not Intercom is set
    # up, side by side with the automations: both are safe to repeat when Stripe redelivers.
    recorded, handled = await asyncio.gather(
        record_invoice_facts(services.stripe, services.db, event),
        tell_intercom(),
        return_exceptions=True,
    )
    for outcome in (recorded, handled):
        if isinstance(outcome, BaseException):
            _count(request, event, "failed")
            return await _handling_failed(ledger, event, outcome)
    if not isinstance(handled, HandlingResult):
        customer_id = customer_id_of(event)
        if customer_id:
            services.billing.invalidate(customer_id)
        await ledger.finish(event.id, "intercom_not_configured", now=datetime.now(UTC))
        _count(request, event, "intercom_not_configured")
        return JSONResponse({"status": "intercom_not_configured"})
    result = handled
    await ledger.finish(event.id, result.outcome, now=datetime.now(UTC))
    _count(request, event, result.outcome)
    log.info("stripe event %s %s: %s %s", event.id, event.type, result.outcome, result.reason)
    return JSONResponse({"status": result.outcome, "writes": len(result.writes)})


async def _handling_failed(
    ledger: EventLedger, event: StripeEvent, exc: BaseException
) -> JSONResponse:
    if isinstance(exc, IntercomUnavailable | StripeUnavailable):
        return await _failed(ledger, event, exc, status=503)
    if isinstance(exc, IntercomRejected | BillingError):
        # Stripe or Intercom refused a request the event led to (424 Failed Dependency): not a
        # fault of ours; recorded, and Stripe redelivers as after any non-2xx answer.
        return await _failed(ledger, event, exc, status=424)
    if not isinstance(exc, Exception):
        raise exc  # cancellation and the like are not ours to answer
    log.error("handling Stripe event %s (%s) failed\n%s", event.id, event.type, frames_only(exc))
    return await _failed(ledger, event, exc, status=500, detail=False)


def _count(request: Request, event: StripeEvent, outcome: str) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.observe_webhook(event.type, outcome)


async def _failed(
    ledger: EventLedger,
    event: StripeEvent,
    exc: BaseException,
    *,
    status: int,
    detail: bool = True,
) -> JSONResponse:
    # Our errors name the operation and status only (never bodies, emails or names); an
    # unexpected one is recorded by type, since its text could hold anything.
    error = f"{type(exc).__name__}: {exc}" if detail else type(exc).__name__
    log.warning(
        "stripe event %s %s not handled (%s); Stripe will redeliver", event.id, event.type, error
    )
    await ledger.fail(event.id, error)
    return error_response(status, "not_handled", "Event not handled yet; please redeliver.")


INVOICE_AMOUNTS = ("amount_due", "amount_paid", "amount_remaining")


def _is_event(event: StripeEvent) -> bool:
    """An event as Stripe sends it: string id and type, integer `created`, `data.object` an
    object, its `customer` (when present) a string or an expanded object with a string id; for
    the types we handle, what handling reads: the object's string `id` (a billing alert has
    none: its numeric `value`), an invoice's amounts, currency and customer. Types we don't handle are
    only acknowledged, so little is asked of them."""
    event_type = getattr(event, "type", None)
    if not isinstance(getattr(event, "id", None), str) or not isinstance(event_type, str):
        return False
    created = getattr(event, "created", None)
    if not isinstance(created, int) or isinstance(created, bool):
        return False
    obj = getattr(getattr(event, "data", None), "object", None)
    if not isinstance(obj, StripeObject):
        return False
    obj_id = getattr(obj, "id", None)
    if obj_id is not None and not isinstance(obj_id, str):
        return False
    if getattr(obj, "object", None) == "customer" and obj_id is None:
        return False
    if event_type == "billing.alert.triggered":
        value = getattr(obj, "value", None)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
    elif event_type in HANDLED_EVENT_TYPES and obj_id is None:
        return False
    if event_type.startswith("invoice.") and event_type in HANDLED_EVENT_TYPES:
        # The report records amounts from the payload (billing.payment_failure_facts), as Stripe sends them.
        amounts = [getattr(obj, key, None) for key in INVOICE_AMOUNTS]
        if any(not isinstance(a, int) or isinstance(a, bool) for a in amounts):
            return False
        if not isinstance(getattr(obj, "currency", None), str):
            return False
        if getattr(obj, "customer", None) is None:  # every invoice has its customer
            return False
    customer = getattr(obj, "customer", None)
    if isinstance(customer, StripeObject):
        return isinstance(getattr(customer, "id", None), str)
    return customer is None or isinstance(customer, str)


routes = [Route("/webhooks/stripe", stripe_webhook, methods=["POST"])]
