"""The refund an agent may add to a cancellation (sidebar): the last payment for the subscription,
in full or prorated (the share of its period not used when access ends). Only amounts here; the
refund itself goes through the refund service (`billing.refunds`), single-use and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from billing.money import Money, to_datetime
from billing.snapshot import Payment, SubscriptionSummary
from gateways.stripe import StripeGateway, id_of

RefundChoice = Literal["none", "last", "prorated"]
REFUND_CHOICES: tuple[RefundChoice, ...] = ("none", "last", "prorated")


@dataclass(frozen=True, slots=True)
class SubscriptionPayment:
    """The latest paid invoice of a subscription and the charge that paid it."""

    invoice_id: str
    charge_id: str
    amount_paid: Money  # what the invoice collected (after credit balance)
    paid_at: datetime


async def last_subscription_payment(
    gateway: StripeGateway, customer_id: str, subscription_id: str
) -> SubscriptionPayment | None:
    """The subscription's latest paid invoice with money collected, and its charge."""
    invoices = await gateway.list_invoices(customer_id, status="paid", limit=20)
    invoice = next(
        (i for i in invoices if i.amount_paid > 0 and i.subscription_id == subscription_id),
        None,
    )
    if invoice is None:
        return None
    payments = await gateway.list_invoice_payments(invoice.id)
    intents = {
        id_of(p.payment.payment_intent)
        for p in payments
        if getattr(p.payment, "payment_intent", None) and getattr(p, "status", "paid") == "paid"
    }
    charges = await gateway.list_charges(customer_id, limit=50)
    charge = next(
        (c for c in charges if c.payment_intent in intents and c.status == "succeeded"), None
    )
    if charge is None:
        return None
    return SubscriptionPayment(
        invoice_id=invoice.id,
        charge_id=charge.id,
        amount_paid=Money(invoice.amount_paid, invoice.currency),
        paid_at=to_datetime(charge.created),
    )


def prorated_amount(
    paid: Money, sub: SubscriptionSummary, ends_at: datetime | None, paid_at: datetime
) -> Money:
    """The unused share of the payment for the current period when access ends at `ends_at`:
    paid × (period end − ends_at) / (period end − period start), in minor units, rounded down.
    Nothing when the payment was for an earlier period or access runs to the period's end."""
    start, end = sub.current_period_start, sub.current_period_end
    zero = Money(0, paid.currency)
    if start is None or end is None or ends_at is None or end <= start or paid_at < start:
        return zero
    unused = (end - max(ends_at, start)).total_seconds()
    if unused <= 0:
        return zero
    whole = (end - start).total_seconds()
    return Money(int(paid.amount * int(unused) // int(whole)), paid.currency)


def refund_amount(
    choice: RefundChoice,
    payment: Payment | None,
    last: SubscriptionPayment | None,
    sub: SubscriptionSummary,
    ends_at: datetime | None,
) -> Money | None:
    """What to refund for `choice`: None for none (or nothing to refund); at most what is
    left of the charge."""
    if choice == "none" or last is None or payment is None:
        return None
    amount = (
        last.amount_paid
        if choice == "last"
        else prorated_amount(last.amount_paid, sub, ends_at, last.paid_at)
    )
    amount = Money(min(amount.amount, payment.refundable.amount), amount.currency)
    return amount if amount.amount > 0 else None
