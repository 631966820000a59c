"""The refund policy as a pure function: each rule, in the order a customer would want to hear
it, and partial refunds up to what remains."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from billing.money import Money
from billing.refund_policy import (
    RefundAmountTooHigh,
    RefundChargeTooOld,
    RefundDisputedPayment,
    RefundedAlready,
    RefundLimitReached,
    RefundPaymentFailed,
    RefundPaymentNotSettled,
    RefundPolicy,
)
from billing.snapshot import Payment

NOW = datetime(2026, 12, 1, tzinfo=UTC)
POLICY = RefundPolicy(max_amount=10_000, max_age_days=60, max_per_customer=2, window_days=30)
PAID = Payment(
    charge_id="ch_1",
    payment_intent_id="pi_1",
    amount=Money(7900, "eur"),
    amount_refunded=0,
    status="succeeded",
    created=NOW - timedelta(days=10),
    failure_code=None,
    failure_message=None,
    method_type="card",
    method_last4="4242",
    disputed=False,
    refunded=False,
)


def test_without_an_amount_everything_that_remains_is_refunded() -> None:
    partly = replace(PAID, amount_refunded=2000)

    assert POLICY.check(partly, amount=None, now=NOW) == Money(5900, "eur")


def test_a_partial_amount_up_to_what_remains_is_allowed() -> None:
    partly = replace(PAID, amount_refunded=2000)

    assert POLICY.check(partly, amount=5900, now=NOW) == Money(5900, "eur")
    with pytest.raises(RefundAmountTooHigh) as refused:
        POLICY.check(partly, amount=5901, now=NOW)
    assert refused.value.values == {"requested": 5901, "remaining": 5900, "currency": "eur"}


def test_the_maximum_per_refund_is_inclusive() -> None:
    big = replace(PAID, amount=Money(20_000, "eur"))

    assert POLICY.check(big, amount=10_000, now=NOW) == Money(10_000, "eur")
    with pytest.raises(RefundAmountTooHigh) as refused:
        POLICY.check(big, amount=None, now=NOW)
    assert refused.value.values["max_amount"] == 10_000


def test_the_maximum_age_is_inclusive() -> None:
    sixty_days = replace(PAID, created=NOW - timedelta(days=60))
    assert POLICY.check(sixty_days, amount=None, now=NOW) == Money(7900, "eur")
    with pytest.raises(RefundChargeTooOld):
        POLICY.check(
            replace(PAID, created=NOW - timedelta(days=60, seconds=1)), amount=None, now=NOW
        )


@pytest.mark.parametrize(
    ("payment", "refusal"),
    [
        (replace(PAID, status="failed"), RefundPaymentFailed),
        (replace(PAID, status="pending"), RefundPaymentNotSettled),
        (replace(PAID, disputed=True), RefundDisputedPayment),
        (replace(PAID, amount_refunded=7900, refunded=True), RefundedAlready),
        # A disputed payment is refused as disputed even when it is also old and large.
        (
            replace(
                PAID, disputed=True, created=NOW - timedelta(days=400), amount=Money(99_900, "eur")
            ),
            RefundDisputedPayment,
        ),
    ],
)
def test_payments_that_cannot_be_refunded_name_the_reason(payment: Payment, refusal: type) -> None:
    with pytest.raises(refusal):
        POLICY.check(payment, amount=None, now=NOW)


def test_the_per_customer_count_refuses_from_the_limit_on() -> None:
    POLICY.check_count(1)
    with pytest.raises(RefundLimitReached) as refused:
        POLICY.check_count(2)
    assert refused.value.values == {"limit": 2, "window_days": 30}


def test_without_a_per_customer_limit_any_count_is_fine() -> None:
    replace(POLICY, max_per_customer=None).check_count(1_000)
