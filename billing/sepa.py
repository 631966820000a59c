"""SEPA return reasons, derived: Stripe reports its own failure codes (`insufficient_funds`, ...),
never the bank's ISO 20022 R-transaction reason code (AM04, ...). We map them so agents and
customers see the reason their bank would name.

Sources for the codes: ISO 20022 External Code Sets, `ExternalStatusReason1Code`; EPC, "Guidance
on reason codes for SDD R-transactions" (EPC173-14). Sources for Stripe's codes: the SDK's
`PaymentIntent.LastPaymentError.code` values that Stripe documents for `sepa_debit`
(https://docs.stripe.com/payments/sepa-debit, test IBAN table; https://docs.stripe.com/error-codes).
Every key below is one of those published codes (a test checks it against stripe-python's
`PaymentIntent.LastPaymentError.code`). The mapping is ours: Stripe publishes none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SepaReason:
    code: str  # ISO 20022 reason code, e.g. "AM04"
    en: str  # plain words for people
    de: str

    def describe(self, locale: str) -> str:
        return self.de if locale.startswith("de") else self.en


SEPA_REASONS: dict[str, SepaReason] = {
    "insufficient_funds": SepaReason(
        "AM04", "insufficient funds", "Kontodeckung nicht ausreichend"
    ),
    "account_closed": SepaReason("AC04", "account closed", "Konto erloschen"),
    "no_account": SepaReason("AC01", "account does not exist", "Konto existiert nicht"),
    "account_number_invalid": SepaReason("AC01", "invalid IBAN", "ungültige IBAN"),
    "payment_method_bank_account_blocked": SepaReason("AC06", "account blocked", "Konto gesperrt"),
    "bank_account_restricted": SepaReason(
        "AG01", "account does not allow direct debits", "Konto lässt keine Lastschriften zu"
    ),
    "sepa_unsupported_account": SepaReason(
        "AG01", "account does not support SEPA debits", "Konto unterstützt keine SEPA-Lastschrift"
    ),
    "bank_account_unusable": SepaReason(
        "AG01", "account cannot be debited", "Konto kann nicht belastet werden"
    ),
    "debit_not_authorized": SepaReason(
        "MD01", "debit not authorised by the account holder", "Lastschrift nicht autorisiert"
    ),
    # Stripe: "exceeds a maximum amount for the period" (e.g. the weekly payment volume).
    "charge_exceeds_source_limit": SepaReason(
        "AM02",
        "amount above the account's debit limit for the period",
        "Betrag über dem Lastschriftlimit des Zeitraums",
    ),
    # Stripe: "exceeds the account's transaction volume limit" (a limit per payment).
    "charge_exceeds_transaction_limit": SepaReason(
        "AM02", "amount above the limit per debit", "Betrag über dem Limit pro Lastschrift"
    ),
    "bank_account_declined": SepaReason("MS03", "declined by the bank", "von der Bank abgelehnt"),
    "payment_method_provider_decline": SepaReason(
        "MS03", "declined by the bank", "von der Bank abgelehnt"
    ),
}

GENERIC_DECLINE = SepaReason("MS03", "returned by the bank", "von der Bank zurückgegeben")


def sepa_reason(failure_code: str | None) -> SepaReason | None:
    """The derived SEPA reason for a Stripe failure code on a `sepa_debit` payment."""
    if not failure_code:
        return None
    return SEPA_REASONS.get(failure_code, GENERIC_DECLINE)


def describe_failure(
    failure_code: str | None, failure_message: str | None, *, sepa: bool, locale: str = "en"
) -> str:
    """ "insufficient funds (AM04)" for SEPA; Stripe's own words (or code) otherwise."""
    if sepa:
        reason = sepa_reason(failure_code)
        if reason:
            return f"{reason.describe(locale)} ({reason.code})"
    if failure_code:
        return failure_code.replace("_", " ")
    return failure_message or ("unbekannter Grund" if locale.startswith("de") else "unknown reason")
