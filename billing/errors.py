"""The few named errors of the billing domain, in one place for the edges: each maps them to a
card, a JSON error or a status code in one place. The gateways raise the ones that say what
Stripe did (`gateways.errors`); the domain adds who the customer is."""

from __future__ import annotations

from gateways.errors import (
    BillingError,
    InvalidWebhook,
    NotFound,
    StripeRateLimited,
    StripeRejected,
    StripeUnavailable,
)

__all__ = [
    "AmbiguousCustomer",
    "BillingError",
    "CustomerNotFound",
    "InvalidWebhook",
    "NotFound",
    "StripeRateLimited",
    "StripeRejected",
    "StripeUnavailable",
]


class CustomerNotFound(BillingError):
    """No Stripe customer matches the contact."""

    code = "customer_not_found"


class AmbiguousCustomer(BillingError):
    """Several Stripe customers match the contact; money must not move until one is chosen."""

    code = "ambiguous_customer"
