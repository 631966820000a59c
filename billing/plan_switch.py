"""Confirm a quoted plan switch (the Messenger's savings card), once: a second confirmation of
the same quote answers with the first result, and a switch whose payment fails keeps the old plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from billing.errors import BillingError, StripeRejected, StripeUnavailable
from billing.failed_invoices import attempt_keys, load_invoice
from billing.money import Money, to_datetime
from billing.quotes import PlanChangeQuote, apply_plan_change
from gateways.stripe import StripeGateway, id_of, in_flight_elsewhere
from storage.actions import ActionStore, Actor, Attempt

SWITCH_ACTION = "subscription_update"

# Plans change only on a subscription in good standing: past_due or unpaid ones owe money first.
SWITCHABLE_STATUSES = ("active", "trialing")

SwitchKind = Literal[
    "switched",  # the new plan applies (see `charged` / `payment_open`)
    "already_switched",
    "plan_changed",  # the plan is not the quoted one any more
    "not_switchable",  # the subscription owes money (past_due, unpaid, ...)
    "payment_failed",  # Stripe kept the old plan: the payment for the switch failed
    "in_progress",
    "rejected",  # Stripe refused the update (nothing changed)
    "unavailable",
]


@dataclass(frozen=True, slots=True)
class PlanSwitchResult:
    kind: SwitchKind
    quote: PlanChangeQuote
    next_renewal: datetime | None = None
    message: str | None = None  # Stripe's words, for logs and agents only
    charged: Money | None = None  # collected for the switch (the invoice is paid)
    payment_open: Money | None = None  # invoiced for the switch but not yet paid
    failure_code: str | None = None  # why the payment for the switch failed


async def confirm_plan_change(
    gateway: StripeGateway,
    store: ActionStore,
    quote: PlanChangeQuote,
    *,
    quote_id: str,
    actor: Actor,
) -> PlanSwitchResult:
    """Apply a quote the customer confirmed, with the quote's `proration_date` (so the charge is
    the quoted one), once: a second confirmation of the same quote returns the first result.

    The update is a pending one (`apply_plan_change`): if the payment fails, Stripe keeps the
    old plan, and so do we say."""
    key = f"switch:{quote_id}"
    held = await store.claim(key, SWITCH_ACTION)
    if not held.owned:
        if held.status == "done" and held.result:
            return _switch_from_record(quote, held.result)
        return PlanSwitchResult("in_progress", quote)
    try:
        subscription = await gateway.retrieve_subscription(quote.subscription_id)
    except StripeUnavailable:
        await store.release(key)
        return PlanSwitchResult("unavailable", quote)
    if (standing := _not_applicable(subscription, quote)) is not None:
        await store.release(key)
        return standing
    latest_before = id_of(subscription.latest_invoice)

    history = await store.history(action=SWITCH_ACTION, object_id=quote.subscription_id, key=key)
    token, idempotency_key = attempt_keys(history, key, key, now=datetime.now(UTC))
    slot = await store.begin(
        Attempt(
            actor=actor,
            action=SWITCH_ACTION,
            customer_id=quote.customer_id,
            object_id=quote.subscription_id,
            amount=quote.amount_now.amount,
            currency=quote.amount_now.currency,
            reason=f"{quote.current.price_id} -> {quote.target.price_id} (savings card)",
            token_id=token,
        )
    )
    try:
        updated = await apply_plan_change(gateway, quote, idempotency_key=idempotency_key)
    except StripeUnavailable as exc:
        await store.settle(
            key, slot.entry_id, "failed", result=None, error_code="stripe_unavailable"
        )
        if in_flight_elsewhere(exc):
            # An earlier attempt with this key (one that timed out on our side) is still being
            # applied by Stripe and may well switch the plan: not "nothing happened". Trying
            # again in a moment replays its result.
            return PlanSwitchResult("in_progress", quote)
        return PlanSwitchResult("unavailable", quote)
    except StripeRejected as exc:
        await store.settle(
            key, slot.entry_id, "failed", result=None, error_code=exc.code, reason=str(exc)
        )
        return await _rejected_switch(gateway, quote, str(exc))

    new_item = next((i for i in updated.items.data if i.id == quote.item_id), None)
    applied = (
        not getattr(updated, "pending_update", None)
        and new_item is not None
        and new_item.price.id == quote.target.price_id
    )
    latest = updated.latest_invoice
    invoice = latest if id_of(latest) != latest_before and not isinstance(latest, str) else None
    if not applied:
        result = await _switch_payment_failed(gateway, quote, invoice)
        await store.settle(
            key,
            slot.entry_id,
            "failed",
            result=_switch_record(result),
            error_code=result.failure_code or "payment_failed",
            stripe_id=invoice.id if invoice is not None else None,
        )
        return result
    renewal = new_item.current_period_end if new_item is not None else None
    charged = payment_open = None
    if invoice is not None and invoice.status == "paid" and invoice.amount_paid > 0:
        charged = Money(invoice.amount_paid, invoice.currency)
    elif invoice is not None and invoice.status == "open" and invoice.amount_remaining > 0:
        payment_open = Money(invoice.amount_remaining, invoice.currency)
    result = PlanSwitchResult(
        "switched", quote, to_datetime(renewal), charged=charged, payment_open=payment_open
    )
    await store.settle(
        key, slot.entry_id, "succeeded", result=_switch_record(result), stripe_id=updated.id
    )
    return result


def _not_applicable(subscription: Any, quote: PlanChangeQuote) -> PlanSwitchResult | None:
    """What confirming `quote` answers without calling Stripe, given the subscription as it is
    now: None while it still has the quoted plan and is in good standing."""
    item = next((i for i in subscription.items.data if i.id == quote.item_id), None)
    item_price = item.price.id if item is not None else None
    if item is not None and item_price == quote.target.price_id:
        return PlanSwitchResult("already_switched", quote, to_datetime(item.current_period_end))
    if item_price != quote.current.price_id:
        return PlanSwitchResult("plan_changed", quote)
    if subscription.status not in SWITCHABLE_STATUSES:
        return PlanSwitchResult("not_switchable", quote)
    return None


async def _rejected_switch(
    gateway: StripeGateway, quote: PlanChangeQuote, message: str
) -> PlanSwitchResult:
    """Stripe refused this update. The answer is read from the subscription after it: if the
    plan is the quoted one by now (a confirmation racing this one switched it), it says so
    instead of "the switch didn't go through"."""
    try:
        subscription = await gateway.retrieve_subscription(quote.subscription_id)
    except BillingError:
        return PlanSwitchResult("rejected", quote, message=message)
    item = next((i for i in subscription.items.data if i.id == quote.item_id), None)
    if item is not None and item.price.id == quote.target.price_id:
        return PlanSwitchResult("already_switched", quote, to_datetime(item.current_period_end))
    return PlanSwitchResult("rejected", quote, message=message)


async def _switch_payment_failed(
    gateway: StripeGateway, quote: PlanChangeQuote, invoice: Any | None
) -> PlanSwitchResult:
    """The switch is pending at Stripe because its invoice wasn't paid: why, if Stripe says."""
    code = None
    amount = quote.amount_now
    if invoice is not None:
        amount = Money(invoice.amount_remaining, invoice.currency)
        try:
            code = (await load_invoice(gateway, invoice.id)).failure_code
        except BillingError:  # the switch is settled either way; only the reason is missing
            code = None
    return PlanSwitchResult("payment_failed", quote, failure_code=code, payment_open=amount)


def _switch_record(result: PlanSwitchResult) -> dict[str, Any]:
    """What a finished switch leaves in its claim, for a second confirmation to show."""

    def money(value: Money | None) -> dict[str, Any] | None:
        return {"amount": value.amount, "currency": value.currency} if value is not None else None

    return {
        "kind": result.kind,
        "next_renewal": int(result.next_renewal.timestamp()) if result.next_renewal else None,
        "charged": money(result.charged),
        "payment_open": money(result.payment_open),
        "failure_code": result.failure_code,
    }


def _switch_from_record(quote: PlanChangeQuote, record: dict[str, Any]) -> PlanSwitchResult:
    def money(value: Any) -> Money | None:
        if not isinstance(value, dict):
            return None
        return Money(int(value["amount"]), str(value["currency"]))

    kind = record.get("kind")
    return PlanSwitchResult(
        kind if kind == "payment_failed" else "switched",
        quote,
        to_datetime(record.get("next_renewal")),
        charged=money(record.get("charged")),
        payment_open=money(record.get("payment_open")),
        failure_code=record.get("failure_code"),
    )
