"""The values of the agent's refund flow: which payments can be refunded, amounts as an agent
types and reads them, and why a refund is refused (English msgids, translated when shown)."""

from __future__ import annotations

import re

from babel.numbers import get_decimal_symbol

from billing.money import Money, babel_locale, minor_unit_factor
from billing.snapshot import BillingSnapshot, Payment
from canvas_kit.labels import money
from kernel.i18n import N_, t

# Why a refund is refused, for the agent (Fin's sentences speak to the customer instead).
REFUSED_WORDS = {
    "refund_charge_not_found": N_("This payment does not belong to this customer."),
    "refund_payment_failed": N_("This payment failed: nothing was taken, nothing to refund."),
    "refund_payment_not_settled": N_(
        "This payment is still processing (SEPA takes days). Refund it once it succeeded."
    ),
    "refund_disputed_payment": N_(
        "This payment is disputed: the bank decides; a refund would pay twice."
    ),
    "refunded_already": N_("This payment has been refunded in full already."),
    "refund_amount_too_high": N_("More than allowed: at most %(limit)s can be refunded here."),
    "refund_charge_too_old": N_(
        "This payment is older than %(days)s days; refund it in the Stripe dashboard if it must be."
    ),
    "refund_refused": N_("Stripe refused this refund."),
}


def parse_amount(text: str, currency: str) -> int:
    """What an agent types ("12,50", "12.50 €", "1.234,5", "1,234.50") in minor units. The last
    separator followed by at most the currency's decimals is the decimal mark; any other groups
    thousands. Raises ValueError for anything else or a non-positive amount."""
    factor = minor_unit_factor(currency)
    decimals = len(str(factor)) - 1
    cleaned = re.sub(r"[^\d.,]", "", text)
    if not re.search(r"\d", cleaned):
        raise ValueError(text)
    whole, fraction = cleaned, ""
    last = max(cleaned.rfind("."), cleaned.rfind(","))
    if last >= 0 and 0 < len(cleaned) - last - 1 <= decimals:
        whole, fraction = cleaned[:last], cleaned[last + 1 :]
    digits = re.sub(r"[.,]", "", whole) or "0"
    if not digits.isdigit() or not (fraction == "" or fraction.isdigit()):
        raise ValueError(text)
    amount = int(digits) * factor + (int(fraction.ljust(decimals, "0")) if fraction else 0)
    if amount <= 0:
        raise ValueError(text)
    return amount


def plain_amount(value: Money, locale: str) -> str:
    # An input's value without the currency sign: what the agent would type.
    factor = minor_unit_factor(value.currency)
    if factor == 1:
        return str(value.amount)
    decimals = len(str(factor)) - 1
    text = f"{value.amount / factor:.{decimals}f}"
    return text.replace(".", get_decimal_symbol(babel_locale(locale)))


def refundable(payment: Payment, snapshot: BillingSnapshot | None = None, max_age: int = 0) -> bool:
    if payment.status != "succeeded" or payment.disputed or payment.refundable.amount <= 0:
        return False
    if snapshot is None:
        return True
    return (snapshot.fetched_at - payment.created).days <= max_age


def method_text(payment: Payment) -> str:
    last4 = f"•••• {payment.method_last4}" if payment.method_last4 else ""
    if payment.method_type == "sepa_debit":
        return f"SEPA {last4}".strip()
    return last4 or (payment.method_type or "—").replace("_", " ")


def refundable_text(payment: Payment, subscription: str | None, locale: str) -> str:
    """ "€79.00 refundable", and which subscription the payment was for when that matters."""
    refundable = money(payment.refundable, locale)
    if subscription is None:
        return t("%(refundable)s refundable", locale, refundable=refundable)
    return t(
        "%(refundable)s refundable · %(subscription)s",
        locale,
        refundable=refundable,
        subscription=subscription,
    )
