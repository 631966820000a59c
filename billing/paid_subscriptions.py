"""Which subscription a payment was for, for a customer with several: a charge names only its
payment intent, the invoice it paid names the subscription (`parent.subscription_details`), and
the invoice's payments link the two. One Stripe request for the latest invoices."""

from __future__ import annotations

from billing.snapshot import BillingSnapshot, Payment, subscription_name
from gateways.stripe import StripeGateway

# The refund picker lists payments of the last weeks: the latest invoices cover them.
INVOICES_LIMIT = 20


async def payment_subscriptions(
    gateway: StripeGateway, snapshot: BillingSnapshot, *, limit: int = INVOICES_LIMIT
) -> dict[str, str]:
    """Payment intent id → how the subscription it paid is named ("Pro", or "Pro (sub_…)" when
    two share a product); empty for a customer with a single live subscription (nothing to tell
    apart, no request)."""
    if not snapshot.several_subscriptions:
        return {}
    invoices = await gateway.invoices_with_payments(snapshot.customer.id, limit=limit)
    names: dict[str, str] = {}
    for invoice in invoices:
        sub_id = invoice.subscription_id
        if sub_id is None:
            continue
        sub = snapshot.subscription_by_id(sub_id)
        name = subscription_name(sub, snapshot.live_subscriptions) if sub else sub_id
        for paid in invoice.payments.data if invoice.payments else []:
            if paid.payment.payment_intent:
                names[paid.payment.payment_intent] = name
    return names


def subscription_of(payment: Payment, names: dict[str, str]) -> str | None:
    return names.get(payment.payment_intent_id or "")
