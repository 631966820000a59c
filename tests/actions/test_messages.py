"""Every sentence Fin can say exists in English and German, renders with the values the code
passes, and keeps money as Babel formats it for the locale."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actions import answers
from actions.messages import say
from billing.money import Money
from billing.refund_policy import REFUSALS, RefundAmountTooHigh, RefundLimitReached
from billing.snapshot import Payment
from kernel.i18n import LANGUAGES as LOCALES
from kernel.i18n import pick_locale

ANSWER_CODES = ["plan_not_found", "already_on_plan", "not_an_upgrade", "no_subscription"]
ERROR_CODES = [
    "customer_not_found",
    "ambiguous_customer",
    "stripe_unavailable",
    "refund_unconfirmed",
    "refund_in_progress",
    "invalid_confirmation_token",
    "confirmation_token_expired",
    "stripe_rejected",
    "not_found",
    "refund_refused",
    "verified_identity_required",
    "subscription_not_found",
    "offer_not_available",
    "cancellation_in_progress",
]

PAYMENT = Payment(
    charge_id="ch_1",
    payment_intent_id="pi_1",
    amount=Money(7900, "eur"),
    amount_refunded=0,
    status="succeeded",
    created=datetime(2026, 11, 16, tzinfo=UTC),
    failure_code=None,
    failure_message=None,
    method_type="card",
    method_last4="4242",
    disputed=False,
    refunded=False,
)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_every_refund_refusal_has_a_sentence_in_both_languages(locale: str, code: str) -> None:
    refusal = REFUSALS[code](
        requested=20000,
        remaining=7900,
        max_amount=10000,
        currency="eur",
        max_age_days=60,
        limit=2,
        window_days=30,
    )

    text = answers.refusal_message(refusal, locale, payment=PAYMENT)

    assert text and "None" not in text and "{" not in text and "%(" not in text
    if locale != "en":  # translated, not the English msgid falling through
        assert text != answers.refusal_message(refusal, "en", payment=PAYMENT)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", ERROR_CODES)
def test_every_error_has_a_sentence_in_both_languages(locale: str, code: str) -> None:
    text = say(f"codes/{code}", locale)

    assert text and "%(" not in text
    if locale != "en":
        assert text != say(f"codes/{code}", "en")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", ANSWER_CODES)
def test_every_quote_answer_has_a_sentence_in_both_languages(locale: str, code: str) -> None:
    text = say(f"codes/{code}", locale, current="Pro", target="Starter")

    assert text and "None" not in text and "%(" not in text
    if locale != "en":
        assert text != say(f"codes/{code}", "en", current="Pro", target="Starter")


def test_money_in_a_refusal_is_formatted_for_the_reader() -> None:
    over = RefundAmountTooHigh(requested=12000, max_amount=10000, currency="eur")

    assert answers.refusal_message(over, "de") == (
        "Ich kann hier höchstens 100,00\xa0€ erstatten; eine höhere Erstattung prüft unser Team."
    )
    assert answers.refusal_message(over, "en").startswith("I can refund at most €100.00 here")


def test_zero_decimal_currencies_are_not_divided_by_a_hundred() -> None:
    over = RefundAmountTooHigh(requested=12000, remaining=5000, currency="jpy")

    assert (
        answers.refusal_message(over, "en") == "Only ¥5,000 of that payment can still be refunded."
    )


def test_singular_and_plural_are_right() -> None:
    one = RefundLimitReached(limit=1, window_days=30)
    two = RefundLimitReached(limit=2, window_days=30)

    assert "1 refund in" in answers.refusal_message(one, "en")
    assert "2 refunds in" in answers.refusal_message(two, "en")
    assert "1 Erstattung erhalten" in answers.refusal_message(one, "de")
    assert "2 Erstattungen erhalten" in answers.refusal_message(two, "de")


@pytest.mark.parametrize(
    ("asked", "default", "expected"),
    [
        ("de", "en", "de"),
        ("de-AT", "en", "de"),
        ("en_GB", "de", "en"),
        ("fr", "de", "de"),
        (None, "de", "de"),
        ("", "en", "en"),
    ],
)
def test_the_language_falls_back_to_the_default(
    asked: str | None, default: str, expected: str
) -> None:
    assert pick_locale(asked, default, german_address="sie") == expected


def test_a_template_naming_a_value_the_code_does_not_pass_fails_loudly() -> None:
    with pytest.raises(Exception, match="undefined"):
        say("refund_preview", "en", amount="€1.00")
