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


def N_(message: str) -> str:
    """Marks an English message for the catalogue (`make messages`); the edges translate it.
    The domain's own marker: billing imports no kernel (tests/architecture)."""
    return message


@dataclass(frozen=True, slots=True)
class SepaReason:
    code: str  # ISO 20022 reason code, e.g. "AM04"
    text: str  # plain English words for people: a msgid of the message catalogue


SEPA_REASONS: dict[str, SepaReason] = {
    "insufficient_funds": SepaReason("AM04", N_("insufficient funds")),
    "account_closed": SepaReason("AC04", N_("account closed")),
    "no_account": SepaReason("AC01", N_("account does not exist")),
    "account_number_invalid": SepaReason("AC01", N_("invalid IBAN")),
    "payment_method_bank_account_blocked": SepaReason("AC06", N_("account blocked")),
    "bank_account_restricted": SepaReason("AG01", N_("account does not allow direct debits")),
    "sepa_unsupported_account": SepaReason("AG01", N_("account does not support SEPA debits")),
    "bank_account_unusable": SepaReason("AG01", N_("account cannot be debited")),
    "debit_not_authorized": SepaReason("MD01", N_("debit not authorised by the account holder")),
    # Stripe: "exceeds a maximum amount for the period" (e.g. the weekly payment volume).
    "charge_exceeds_source_limit": SepaReason(
        "AM02", N_("amount above the account's debit limit for the period")
    ),
    # Stripe: "exceeds the account's transaction volume limit" (a limit per payment).
    "charge_exceeds_transaction_limit": SepaReason("AM02", N_("amount above the limit per debit")),
    "bank_account_declined": SepaReason("MS03", N_("declined by the bank")),
    "payment_method_provider_decline": SepaReason("MS03", N_("declined by the bank")),
}

GENERIC_DECLINE = SepaReason("MS03", N_("returned by the bank"))


def sepa_reason(failure_code: str | None) -> SepaReason | None:
    """The derived SEPA reason for a Stripe failure code on a `sepa_debit` payment."""
    if not failure_code:
        return None
    return SEPA_REASONS.get(failure_code, GENERIC_DECLINE)
