"""What the money-moving self-service shares: a failed invoice as the recovery card and the
retry see it (`InvoiceRecovery`), loading it from Stripe, and the keys of an attempt after
Stripe was unreachable.

The features live beside it: `billing.retry` (retry a failed invoice), `billing.payment_method`
(pay it by card instead, or add a card before a trial ends) and `billing.plan_switch` (confirm a
quoted plan switch). Every action there is safe to trigger twice: each Stripe call that moves
money is claimed first (`storage.actions.ActionStore.claim`), so of two simultaneous clicks only
one reaches Stripe, and it carries an idempotency key derived from what it is about (invoice +
its latest charge, invoice + checkout session, quote id); "Stripe unreachable" gives the claim
back and is recorded as such, so trying again later works, and exactly once. Each attempt
leaves an `audit_log` row, like refunds do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from billing.errors import StripeUnavailable
from billing.money import Money, to_datetime
from billing.sepa import SepaReason, sepa_reason
from gateways.stripe import StripeGateway, id_of
from storage.actions import History

RETRY_ACTION = "invoice_retry"

PaymentState = Literal["failed", "processing", "paid", "open", "closed"]
# Stripe keeps the answer to an idempotency key once the request started executing, 500s
# included, for at least 24 h. After "Stripe unreachable", the next attempt reuses the key within
# this window (the first request may still be running: Stripe then answers with its outcome) and
# takes a new generation of it afterwards, when the re-read invoice proves nothing happened.
REPLAY_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class InvoiceRecovery:
    """An invoice and its latest payment attempt, as the recovery card and the retry see it."""

    invoice_id: str
    customer_id: str
    number: str | None
    amount: Money  # still owed; for a paid invoice, what was paid
    created: datetime
    subscription_id: str | None
    state: PaymentState
    failure_code: str | None = None  # Stripe's code; for a declined card, the decline code
    failure_message: str | None = None
    method_type: str | None = None  # "sepa_debit", "card", ...
    payment_method_id: str | None = None
    failed_at: datetime | None = None
    latest_charge_id: str | None = None  # the latest attempt's charge: a new one per attempt

    @property
    def is_sepa(self) -> bool:
        return self.method_type == "sepa_debit"

    @property
    def sepa_reason(self) -> SepaReason | None:
        return sepa_reason(self.failure_code) if self.is_sepa else None

    @property
    def retry_key(self) -> str:
        """Stable across double clicks; each attempt that reached the bank leaves a new charge,
        so the next attempt gets a new key. (Not `attempt_count`: Stripe counts the first attempt
        and its automatic retries only, never a manual `invoices.pay` after the first.)"""
        return f"retry:{self.invoice_id}:{self.latest_charge_id or 'none'}"


async def load_invoice(gateway: StripeGateway, invoice_id: str) -> InvoiceRecovery:
    """The invoice and its latest payment (two round trips: invoice with payments, then the
    payment intent with its latest charge)."""
    invoice = await gateway.retrieve_invoice(invoice_id, expand=["payments"])
    payments = [
        p
        for p in (invoice.payments.data if getattr(invoice, "payments", None) else [])
        if getattr(p.payment, "type", None) == "payment_intent"
    ]
    latest = max(payments, key=lambda p: p.created) if payments else None
    intent = (
        await gateway.retrieve_payment_intent(id_of(latest.payment.payment_intent))
        if latest is not None
        else None
    )
    return _recovery(invoice, intent)


async def failed_invoice_id(gateway: StripeGateway, customer_id: str) -> str | None:
    """The customer's newest open invoice that Stripe already tried to collect."""
    invoices = await gateway.list_invoices(customer_id, status="open")
    attempted = [i for i in invoices if (i.attempt_count or 0) > 0]
    return attempted[0].id if attempted else None


def _recovery(invoice: Any, intent: Any | None) -> InvoiceRecovery:
    latest = getattr(intent, "latest_charge", None) if intent is not None else None
    charge = None if isinstance(latest, str) else latest
    error = getattr(intent, "last_payment_error", None) if intent is not None else None
    status = invoice.status
    if status == "paid":
        state: PaymentState = "paid"
    elif status != "open":
        state = "closed"
    elif (intent is not None and intent.status == "processing") or (
        charge is not None and charge.status == "pending"
    ):
        state = "processing"
    elif (invoice.attempt_count or 0) > 0:
        state = "failed"
    else:
        state = "open"

    code = message = None
    if state == "failed":
        if charge is not None and charge.failure_code:
            code, message = charge.failure_code, charge.failure_message
            decline = getattr(error, "decline_code", None) if error is not None else None
            if code == "card_declined" and decline:
                # The decline code says why in words people know. (Not `outcome.reason`: that
                # is Radar's, e.g. "highest_risk_level" for a payment Radar blocked.)
                code = decline
        elif error is not None:
            code = getattr(error, "decline_code", None) or error.code
            message = error.message
    method_type = None
    if charge is not None and charge.payment_method_details is not None:
        method_type = charge.payment_method_details.type
    elif intent is not None and intent.payment_method_types:
        method_type = intent.payment_method_types[0]
    parent = invoice.parent
    sub_details = getattr(parent, "subscription_details", None) if parent else None
    amount = invoice.amount_paid if state == "paid" else invoice.amount_remaining
    return InvoiceRecovery(
        invoice_id=invoice.id,
        customer_id=id_of(invoice.customer) or "",
        number=invoice.number,
        amount=Money(amount, invoice.currency),
        created=to_datetime(invoice.created) or datetime.now(UTC),
        subscription_id=id_of(sub_details.subscription) if sub_details else None,
        state=state,
        failure_code=code,
        failure_message=message,
        method_type=method_type,
        payment_method_id=id_of(getattr(intent, "payment_method", None)) if intent else None,
        failed_at=to_datetime(charge.created) if charge is not None else None,
        latest_charge_id=id_of(latest),
    )


async def reload_invoice(gateway: StripeGateway, invoice: InvoiceRecovery) -> InvoiceRecovery:
    """The invoice after our call; the one we had if Stripe can't tell us right now."""
    try:
        return await load_invoice(gateway, invoice.invoice_id)
    except StripeUnavailable:
        return invoice


def attempt_keys(
    history: History, claim_key: str, idempotency_key: str, *, now: datetime
) -> tuple[str, str]:
    """(audit token, Stripe idempotency key) for the next attempt at what `claim_key` names:
    the keys themselves, unless an earlier attempt found Stripe unreachable (`REPLAY_WINDOW`)."""
    failures = history.unreachable
    if not failures:
        return claim_key, idempotency_key
    last_token, last_at = max(failures, key=lambda failure: failure[1])
    if now - last_at < REPLAY_WINDOW:
        suffix = last_token.removeprefix(claim_key)
    else:
        suffix = f":r{len(failures)}"
    return claim_key + suffix, idempotency_key + suffix
