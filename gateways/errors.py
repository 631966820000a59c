"""The errors the gateways raise: the base of every named billing error, and what Stripe did
(unavailable, rate-limited, refused, not found, an unverifiable webhook). The domain adds its
own in `billing.errors`, which names them all for the edges."""

from __future__ import annotations


class BillingError(Exception):
    """Base class: `code` is stable and machine-readable, the message is safe to show."""

    code = "billing_error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class StripeUnavailable(BillingError):
    """Stripe did not answer in time, rate-limited us or failed on its side; nothing was changed
    that we know of, and the request can be retried."""

    code = "stripe_unavailable"


class StripeRateLimited(StripeUnavailable):
    """Stripe kept answering 429 (rate limit) for longer than the caller could wait."""


class StripeRejected(BillingError):
    """Stripe refused the request (e.g. `charge_already_refunded`); `code` is Stripe's code."""

    code = "stripe_rejected"


class NotFound(BillingError):
    """The Stripe object does not exist (or belongs to someone else)."""

    code = "not_found"


class InvalidWebhook(BillingError):
    """A webhook whose `Stripe-Signature` does not verify (or that is not a Stripe event)."""

    code = "invalid_signature"
