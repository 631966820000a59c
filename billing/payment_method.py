"""Pay a failed invoice by card instead, or add a card before a trial ends: the payment method
the customer added on a Stripe-hosted page (`billing.collection_pages`) becomes their default and
pays the open invoice, once.

`pay_with_checkout_card` and `pay_with_portal_card` are the whole way back from Stripe's page:
the edge (`messenger.links`) verifies the link and renders what they answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from billing.collection_pages import (
    NewPaymentMethod,
    collected_payment_method,
    portal_payment_method,
)
from billing.errors import NotFound
from billing.failed_invoices import RETRY_ACTION, InvoiceRecovery, attempt_keys, load_invoice
from billing.retry import collect
from billing.snapshot import LIVE_STATUSES
from gateways.stripe import StripeGateway, gather_all, id_of
from storage.actions import ActionStore, Actor, Attempt

PAYMENT_METHOD_ACTION = "payment_method_update"
CardSwitchKind = Literal[
    "paid", "declined", "already_paid", "processing", "saved", "in_progress", "unavailable"
]


def _card_kind(retry_kind: str) -> CardSwitchKind:
    """How a payment attempt's outcome reads on the pay-by-card page."""
    if retry_kind == "paid":
        return "paid"
    if retry_kind in ("processing", "still_processing"):
        return "processing"
    if retry_kind == "unavailable":
        return "unavailable"
    if retry_kind == "already_paid":
        return "already_paid"
    if retry_kind == "in_progress":
        return "in_progress"
    return "declined"


@dataclass(frozen=True, slots=True)
class CardSwitchResult:
    kind: CardSwitchKind
    brand: str | None
    last4: str | None
    invoice: InvoiceRecovery | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class PortalOffer:
    """A card the customer added through the Billing Portal and the invoice it would pay: the
    customer confirms before anything is charged."""

    card: NewPaymentMethod
    invoice: InvoiceRecovery


async def pay_with_checkout_card(
    gateway: StripeGateway,
    store: ActionStore,
    *,
    customer_id: str,
    session_id: str,
    kind: str,
    invoice_id: str | None,
    actor: Actor,
) -> CardSwitchResult | None:
    """Back from Checkout: the payment method the session collected becomes the default and
    pays the link's invoice, once per session however often the page is reloaded. None while
    the session isn't complete; NotFound for a session that isn't this link's."""
    pm_id = await collected_payment_method(
        gateway, customer_id=customer_id, session_id=session_id, kind=kind, invoice_id=invoice_id
    )
    if pm_id is None:
        return None
    invoice = await _invoice_of(gateway, customer_id, invoice_id)
    return await _switch(
        gateway,
        store,
        customer_id=customer_id,
        payment_method_id=pm_id,
        invoice=invoice,
        attempt_key=session_id,
        actor=actor,
    )


async def pay_with_portal_card(
    gateway: StripeGateway,
    store: ActionStore,
    *,
    customer_id: str,
    invoice_id: str | None,
    issued_at: datetime | None,
    default_when_issued: str | None,
    confirmed: str | None,
    actor: Actor,
) -> CardSwitchResult | PortalOffer | None:
    """Back from the Billing Portal, which leaves no session to show for itself: the card the
    customer added through the link (`portal_payment_method`) pays the invoice once they
    confirmed paying with it (`confirmed`: the payment method their confirmation names; None
    when they haven't confirmed yet, then the answer is the `PortalOffer` to confirm). A trial
    link saves the card without a payment. None: no new card, or not the one confirmed."""
    invoice = await _invoice_of(gateway, customer_id, invoice_id)
    if invoice is not None and invoice.state in ("paid", "closed"):
        return CardSwitchResult("already_paid", None, None, invoice)
    if issued_at is None:
        return None
    card = await portal_payment_method(
        gateway,
        customer_id=customer_id,
        issued_at=issued_at,
        excluded=(default_when_issued, invoice.payment_method_id if invoice else None),
    )
    if card is None:
        return None
    if invoice is not None and confirmed is None:
        return PortalOffer(card, invoice)
    if invoice is not None and confirmed != card.id:
        return None  # confirmed another card than the current new default: start over
    return await _switch(
        gateway,
        store,
        customer_id=customer_id,
        payment_method_id=card.id,
        invoice=invoice,
        attempt_key=f"portal-{card.id}",
        actor=actor,
    )


async def _invoice_of(
    gateway: StripeGateway, customer_id: str, invoice_id: str | None
) -> InvoiceRecovery | None:
    invoice = await load_invoice(gateway, invoice_id) if invoice_id else None
    if invoice is not None and invoice.customer_id != customer_id:
        raise NotFound("No such invoice for this customer.")
    return invoice


async def _switch(
    gateway: StripeGateway,
    store: ActionStore,
    *,
    customer_id: str,
    payment_method_id: str,
    invoice: InvoiceRecovery | None,
    attempt_key: str,
    actor: Actor,
) -> CardSwitchResult:
    """Make the new payment method the customer's and the subscription's default (or retries
    stay on SEPA), then pay the open invoice with it. `attempt_key` names this collection (the
    Checkout session), so reloading the page repeats nothing."""
    pm, customer = await gather_all(
        gateway.retrieve_payment_method(payment_method_id), gateway.retrieve_customer(customer_id)
    )
    if id_of(pm.customer) != customer_id:
        raise NotFound("This payment method belongs to someone else.")
    card = getattr(pm, "card", None)
    brand, last4 = (card.brand, card.last4) if card is not None else (pm.type, None)
    await _make_default(gateway, store, customer, pm.id, invoice, actor)
    if invoice is None:
        return CardSwitchResult("saved", brand, last4)
    if invoice.state == "paid":
        return CardSwitchResult("already_paid", brand, last4, invoice)
    if invoice.state == "processing":
        return CardSwitchResult("processing", brand, last4, invoice)
    if invoice.state == "closed":
        return CardSwitchResult("already_paid", brand, last4, invoice)

    key = f"recover:{invoice.invoice_id}:{attempt_key}"
    claim_key = "recover:" + hashlib.sha256(key.encode()).hexdigest()[:48]
    held = await store.claim(claim_key, RETRY_ACTION)
    if not held.owned:
        if held.status == "done" and held.result:
            return CardSwitchResult(_card_kind(held.result["kind"]), brand, last4, invoice)
        return CardSwitchResult("in_progress", brand, last4, invoice)
    history = await store.history(action=RETRY_ACTION, object_id=invoice.invoice_id, key=claim_key)
    token, idempotency_key = attempt_keys(history, claim_key, key, now=datetime.now(UTC))
    slot = await store.begin(
        Attempt(
            actor=actor,
            action=RETRY_ACTION,
            customer_id=customer_id,
            object_id=invoice.invoice_id,
            amount=invoice.amount.amount,
            currency=invoice.amount.currency,
            reason="pay_by_card",
            token_id=token,
        )
    )
    result = await collect(
        gateway,
        store,
        invoice,
        idempotency_key,
        {"payment_method": pm.id},
        slot.entry_id,
        claim_key=claim_key,
    )
    return CardSwitchResult(_card_kind(result.kind), brand, last4, result.invoice, result.message)


async def _make_default(
    gateway: StripeGateway,
    store: ActionStore,
    customer: Any,
    pm_id: str,
    invoice: InvoiceRecovery | None,
    actor: Actor,
) -> None:
    subs = customer.subscriptions.data if getattr(customer, "subscriptions", None) else []
    if invoice is not None and invoice.subscription_id:
        targets = [s for s in subs if s.id == invoice.subscription_id]
    else:
        targets = [s for s in subs if s.status in LIVE_STATUSES]
    calls: list[Awaitable[Any]] = []
    current = (
        customer.invoice_settings.default_payment_method if customer.invoice_settings else None
    )
    if id_of(current) != pm_id:
        calls.append(
            gateway.update_customer(
                customer.id,
                {"invoice_settings": {"default_payment_method": pm_id}},
                idempotency_key=f"default-pm:{customer.id}:{pm_id}",
            )
        )
    for sub in targets:
        if id_of(sub.default_payment_method) != pm_id:
            calls.append(
                gateway.update_subscription(
                    sub.id,
                    {"default_payment_method": pm_id},
                    idempotency_key=f"default-pm:{sub.id}:{pm_id}",
                )
            )
    if not calls:
        return
    await gather_all(*calls)
    await store.record(
        Attempt(
            actor=actor,
            action=PAYMENT_METHOD_ACTION,
            customer_id=customer.id,
            object_id=pm_id,
            reason="default for customer and "
            + (", ".join(s.id for s in targets) or "no subscription"),
        ),
        "succeeded",
        stripe_id=pm_id,
    )
