"""SEPA return reasons derived from Stripe's failure codes."""

from billing.sepa import describe_failure, sepa_reason


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
