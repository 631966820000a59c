"""What may be refunded without a second person (`RefundPolicy`), and the named refusals: in the
spirit of Polar's (`RefundAmountTooHigh`, `RefundedAlready`, `RefundDisputedPayment`, ...), with
Stripe's own refusals mapped onto them. A preview turns a refusal into an answer, an execution
raises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from billing.errors import BillingError
from billing.money import Money
from billing.snapshot import Payment


class RefundRefused(BillingError):
    """A refund the policy or Stripe does not allow; `values` feed the explanation."""

    code = "refund_refused"

    def __init__(self, message: str = "", **values: Any) -> None:
        super().__init__(message)
        self.values = values


class RefundChargeNotFound(RefundRefused):
    """No such payment of this customer (another customer's charge looks the same)."""

    code = "refund_charge_not_found"


class RefundPaymentFailed(RefundRefused):
    """The payment failed: no money was taken, so there is nothing to refund."""

    code = "refund_payment_failed"


class RefundPaymentNotSettled(RefundRefused):
    """The payment is still processing (a SEPA debit takes days); refund once it succeeded."""

    code = "refund_payment_not_settled"


class RefundDisputedPayment(RefundRefused):
    """The payment is disputed: the bank decides, a refund would pay twice."""

    code = "refund_disputed_payment"


class RefundedAlready(RefundRefused):
    """The payment is fully refunded already."""

    code = "refunded_already"


class RefundAmountTooHigh(RefundRefused):
    """More than remains refundable on the charge, or more than the policy allows per refund."""

    code = "refund_amount_too_high"


class RefundChargeTooOld(RefundRefused):
    """The payment is older than the policy allows."""

    code = "refund_charge_too_old"


class RefundLimitReached(RefundRefused):
    """The customer had the most refunds the policy allows in its window."""

    code = "refund_limit_reached"


# Stripe's own refusals, named like ours (https://docs.stripe.com/error-codes).
STRIPE_REFUSALS: dict[str, type[RefundRefused]] = {
    "charge_already_refunded": RefundedAlready,
    "charge_disputed": RefundDisputedPayment,
    "refund_disputed_payment": RefundDisputedPayment,
    "amount_too_large": RefundAmountTooHigh,
    "charge_not_refundable": RefundPaymentNotSettled,
}
REFUSALS: dict[str, type[RefundRefused]] = {
    cls.code: cls
    for cls in (
        RefundChargeNotFound,
        RefundPaymentFailed,
        RefundPaymentNotSettled,
        RefundDisputedPayment,
        RefundedAlready,
        RefundAmountTooHigh,
        RefundChargeTooOld,
        RefundLimitReached,
    )
}


@dataclass(frozen=True, slots=True)
class RefundPolicy:
    """What may be refunded without a second person. Amounts in the charge currency's minor
    unit. `max_per_customer` None: no per-customer count (the inbox, where an agent decides)."""

    max_amount: int
    max_age_days: int
    max_per_customer: int | None
    window_days: int

    def check(self, payment: Payment, *, amount: int | None, now: datetime) -> Money:
        """The amount to refund (what remains when `amount` is None), or the first rule it
        breaks, as a `RefundRefused`. The per-customer count is checked by `check_count`."""
        if payment.status == "failed":
            raise RefundPaymentFailed(charge=payment.charge_id)
        if payment.status != "succeeded":
            raise RefundPaymentNotSettled(charge=payment.charge_id)
        if payment.disputed:
            raise RefundDisputedPayment(charge=payment.charge_id)
        remaining = payment.refundable
        if remaining.amount <= 0:
            raise RefundedAlready(charge=payment.charge_id)
        wanted = remaining.amount if amount is None else amount
        if wanted > remaining.amount:
            raise RefundAmountTooHigh(
                "More than remains refundable on the payment.",
                requested=wanted,
                remaining=remaining.amount,
                currency=remaining.currency,
            )
        if now - payment.created > timedelta(days=self.max_age_days):
            raise RefundChargeTooOld(
                max_age_days=self.max_age_days, charged_at=payment.created.isoformat()
            )
        if wanted > self.max_amount:
            raise RefundAmountTooHigh(
                "More than the policy allows per refund.",
                requested=wanted,
                max_amount=self.max_amount,
                currency=remaining.currency,
            )
        return Money(wanted, remaining.currency)

    def check_count(self, recent: int) -> None:
        """`recent`: the customer's refunds in the window before this one."""
        if self.max_per_customer is not None and recent >= self.max_per_customer:
            raise RefundLimitReached(limit=self.max_per_customer, window_days=self.window_days)

    def window_start(self, now: datetime) -> datetime:
        return now - timedelta(days=self.window_days)
