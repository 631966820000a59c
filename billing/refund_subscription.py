"""Which subscription a payment offered for a refund was for, so that Fin can name it: a charge
names only its payment intent; the invoice that payment intent paid names the subscription
(`parent.subscription_details`). Two Stripe requests, whatever the customer's history: the
invoice by its payment (`invoice_payments`), then the subscription with its plan's product.
A payment no subscription invoice asked for (a one-off invoice, a charge of its own) names none.
"""

from __future__ import annotations

import logging

from billing.errors import StripeRejected, StripeUnavailable
from billing.invoices import InvoicedSubscription, invoiced_subscription
from billing.snapshot import Payment
from billing.subscription_choice import SubscriptionNotFound
from gateways.stripe import StripeGateway

log = logging.getLogger(__name__)


async def subscription_paid_by(
    gateway: StripeGateway, customer_id: str, payment: Payment | None
) -> InvoicedSubscription | None:
    """The subscription `payment` (one of `customer_id`'s) paid an invoice of, if any."""
    if payment is None or payment.payment_intent_id is None:
        return None
    try:
        invoices = await gateway.invoices_paid_by(payment.payment_intent_id)
        subscription_id = next((i.subscription_id for i in invoices if i.subscription_id), None)
        if subscription_id is None:
            return None
        return await invoiced_subscription(gateway, customer_id, subscription_id)
    except SubscriptionNotFound:
        return None  # deleted since: nothing to name
    except (StripeUnavailable, StripeRejected) as exc:
        # The preview itself stands; only the plan's name is missing from it.
        log.warning("subscription of charge %s unknown: %s", payment.charge_id, type(exc).__name__)
        return None
