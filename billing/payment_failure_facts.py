"""Facts for the recovery report, recorded from Stripe's invoice events as they are handled.

The event ledger keeps only an event's type and customer; the report needs, per invoice, what
failed (amount, reason) and how it ended. The end comes from the event's own payload (an invoice
is paid, voided or uncollectible once); the reason of a failure is read from Stripe, because
invoices no longer name their charge: the invoice's payments name the payment intent, whose last
error carries Stripe's code (and a card's decline code).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from billing.errors import NotFound
from billing.money import to_datetime
from gateways.stripe import StripeGateway, id_of
from storage import Database
from storage.payment_failures import FailedPayment, record_end, record_failure

FACT_EVENTS = frozenset(
    {"invoice.payment_failed", "invoice.paid", "invoice.voided", "invoice.marked_uncollectible"}
)
_ENDS = {
    "invoice.paid": "paid",
    "invoice.voided": "voided",
    "invoice.marked_uncollectible": "uncollectible",
}


async def record_invoice_facts(gateway: StripeGateway, db: Database, event: Any) -> None:
    """Record what `event` says about a failed invoice (nothing for other events). Safe to repeat:
    a redelivered event changes nothing."""
    if event.type not in FACT_EVENTS:
        return
    try:
        invoice = _InvoiceFacts.model_validate(event.data.object.to_dict())
    except (AttributeError, ValidationError):
        return  # signed, but not an invoice as Stripe sends one: nothing to record
    at = to_datetime(event.created) or datetime.now(UTC)
    if event.type == "invoice.payment_failed":
        method, code, decline = await _failure_reason(gateway, invoice.id)
        amount = invoice.amount_remaining or invoice.amount_due
        await record_failure(
            db,
            FailedPayment(
                invoice_id=invoice.id,
                customer_id=invoice.customer_id,
                amount=amount,
                currency=invoice.currency,
                method_type=method,
                failure_code=code,
                decline_code=decline,
                failed_at=at,
            ),
            event_id=event.id,
        )
        return
    paid_at = to_datetime(invoice.status_transitions.paid_at)
    resolution = _ENDS[event.type]
    await record_end(
        db,
        invoice.id,
        resolution,
        at=(paid_at or at) if resolution == "paid" else at,
        amount_paid=invoice.amount_paid if resolution == "paid" else None,
    )


class _Transitions(BaseModel):
    paid_at: int | None = None


class _InvoiceFacts(BaseModel):
    """What the report reads of an invoice event's payload, checked: a payload of another shape
    is not recorded (and never answered with a 500)."""

    id: str
    customer: str | dict[str, Any]
    currency: str
    amount_due: int = 0
    amount_remaining: int | None = None
    amount_paid: int = 0
    status_transitions: _Transitions = _Transitions()

    @property
    def customer_id(self) -> str:
        return self.customer if isinstance(self.customer, str) else str(self.customer.get("id"))


async def _failure_reason(
    gateway: StripeGateway, invoice_id: str
) -> tuple[str | None, str | None, str | None]:
    """(payment method type, Stripe failure code, decline code) of the invoice's latest payment."""
    try:
        payments = await gateway.list_invoice_payments(invoice_id)
        attempts = [p for p in payments if getattr(p.payment, "payment_intent", None)]
        if not attempts:
            return None, None, None
        latest = max(attempts, key=lambda p: p.created)
        intent = await gateway.retrieve_payment_intent(id_of(latest.payment.payment_intent))
    except NotFound:
        return None, None, None
    error = intent.last_payment_error
    charge = intent.latest_charge if not isinstance(intent.latest_charge, str) else None
    details = getattr(charge, "payment_method_details", None) if charge else None
    method = getattr(details, "type", None)
    if method is None and error is not None and error.payment_method is not None:
        method = error.payment_method.type
    code = (error.code if error else None) or (charge.failure_code if charge else None)
    decline = error.decline_code if error else None
    return method, code, decline
