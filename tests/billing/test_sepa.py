"""SEPA return reasons derived from Stripe's failure codes."""

import inspect
import re
from pathlib import Path

from stripe import _payment_intent as stripe_payment_intent

from billing.sepa import SEPA_REASONS, sepa_reason
from kernel.i18n import describe_failure


def sepa_code(stripe_code: str) -> str:
    reason = sepa_reason(stripe_code)
    assert reason is not None, f"{stripe_code} has no SEPA reason"
    return reason.code


def test_insufficient_funds_is_am04():
    assert sepa_code("insufficient_funds") == "AM04"
    assert describe_failure("insufficient_funds", None, sepa=True) == "insufficient funds (AM04)"
    assert (
        describe_failure("insufficient_funds", None, sepa=True, locale="de")
        == "Kontodeckung nicht ausreichend (AM04)"
    )


def test_other_stripe_sepa_codes_have_their_iso_reason():
    assert sepa_code("account_closed") == "AC04"
    assert sepa_code("debit_not_authorized") == "MD01"
    assert sepa_code("no_account") == "AC01"


def test_unknown_code_falls_back_to_a_generic_bank_return():
    assert sepa_code("something_new") == "MS03"


def test_card_failures_are_not_given_sepa_codes():
    assert (
        describe_failure("card_declined", "Your card was declined.", sepa=False) == "card declined"
    )
    assert sepa_reason(None) is None


def test_a_payment_over_the_limit_per_debit_is_am02():
    reason = sepa_reason("charge_exceeds_transaction_limit")
    assert reason is not None
    assert (reason.code, reason.text) == ("AM02", "amount above the limit per debit")
    period = sepa_reason("charge_exceeds_source_limit")
    assert period is not None and period.code == "AM02"


def test_every_mapped_code_is_one_stripe_publishes_for_a_failed_payment():
    # Stripe's published error codes, as stripe-python types `last_payment_error.code`.
    source = Path(inspect.getfile(stripe_payment_intent)).read_text()
    start = source.index("class LastPaymentError")
    field = source.index("code: Optional[", start)
    literal = source.index("Literal[", field)
    published = set(re.findall(r'"([a-z0-9_]+)"', source[literal : source.index("]\n", literal)]))
    assert "charge_exceeds_transaction_limit" in published

    assert sorted(set(SEPA_REASONS) - published) == []
