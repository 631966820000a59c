"""Labels shared by the inbox and Messenger cards, and `plain`: the one way a value we don't
control (a contact's email or external id, a customer's name, Stripe's words) enters the text of
a card."""

from __future__ import annotations

import re
from datetime import datetime

from billing.alerts import Alert
from billing.money import Money, format_day
from billing.recovery import InvoiceRecovery
from billing.sepa import SEPA_REASONS, describe_failure, sepa_reason
from billing.snapshot import (
    BillingSnapshot,
    Payment,
    PaymentMethodSummary,
    Plan,
    SubscriptionSummary,
)
from canvas_kit.components import FieldValue
from kernel.i18n import MESSAGES, t

# Canvas Kit text is Markdown (**bold**, [links](url)); these characters could start syntax.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~:])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def plain(value: object) -> str:
    """`value` as literal text inside a Canvas Kit text component: every Markdown character is
    backslash-escaped (CommonMark), so `[text](url)` or `**x**` typed by a visitor is shown as
    typed and never becomes a link or bold inside our card (nor does a bare `https://…`: its
    colon is escaped too); line breaks become spaces (one text component is one line). Escaped, no two specials stay adjacent, so even a renderer without
    backslash escapes finds no `](` or `**` to act on."""
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def money(value: Money | None, locale: str) -> str:
    return value.format(locale) if value is not None else "—"


def day(moment: datetime | None, locale: str) -> str:
    return format_day(moment, locale)


def interval_label(plan: Plan, locale: str) -> str:
    word = t(f"interval.{plan.interval}", locale) if plan.interval else ""
    return f"{plan.interval_count} {word}" if plan.interval_count > 1 else word


def plan_line(plan: Plan | None, locale: str) -> str:
    if plan is None:
        return t("inbox.no_subscription", locale)
    if plan.amount is None or not plan.interval:
        return t("inbox.plan_line_no_price", locale, plan=plan.product_name)
    return t(
        "inbox.plan_line",
        locale,
        plan=plan.product_name,
        price=money(plan.amount, locale),
        interval=interval_label(plan, locale),
    )


def status_label(sub: SubscriptionSummary | None, locale: str) -> str:
    if sub is None:
        return t("status.none", locale)
    if sub.status == "trialing" and sub.trial_end:
        return t("value.status_trial", locale, date=day(sub.trial_end, locale))
    key = f"status.{sub.status}"
    return t(key, locale) if key in MESSAGES else sub.status


def payment_method_label(
    pm: PaymentMethodSummary | None, locale: str, *, short: bool = False
) -> str:
    """ "Visa •••• 4242 (12/2028)", "SEPA •••• 2227 (bank 37040044)"; `short` leaves out the
    bank code so the value fits the sidebar's data-table without truncation."""
    if pm is None:
        return t("value.none", locale)
    if pm.type == "card":
        return t(
            "value.card",
            locale,
            brand=(pm.brand or "card").title(),
            last4=pm.last4,
            month=pm.exp_month or 0,
            year=pm.exp_year or 0,
        )
    if pm.is_sepa:
        if pm.bank_code and not short:
            return t("value.sepa", locale, last4=pm.last4, bank=pm.bank_code)
        return t("value.sepa_no_bank", locale, last4=pm.last4)
    return pm.type.replace("_", " ")


def failure_reason(payment: Payment, locale: str) -> str:
    return describe_failure(
        payment.failure_code, payment.failure_message, sepa=payment.is_sepa, locale=locale
    )


def payment_status_label(payment: Payment, locale: str) -> str:
    if payment.status == "failed":
        return f"{t('payment.failed', locale)}: {failure_reason(payment, locale)}"
    if payment.disputed:
        return t("payment.disputed", locale)
    if payment.refunded:
        return t("payment.refunded", locale)
    if payment.amount_refunded:
        return t("payment.partially_refunded", locale)
    return (
        t(f"payment.{payment.status}", locale)
        if f"payment.{payment.status}" in MESSAGES
        else payment.status
    )


def alert_text(alert: Alert, locale: str) -> str:
    if alert.kind == "payment_failed" and alert.payment:
        return t("alert.payment_failed", locale, reason=failure_reason(alert.payment, locale))
    if alert.kind == "payment_processing":
        return t("alert.payment_processing", locale, amount=money(alert.amount, locale))
    if alert.kind == "trial_ending":
        key = "alert.trial_ending" if alert.severity == "error" else "alert.trial_ending_ok"
        return t(key, locale, days=alert.days)
    if alert.kind == "cancels":
        return t("alert.cancels", locale, date=day(alert.date, locale))
    if alert.kind == "usage_high":
        return t("alert.usage_high", locale, percent=alert.percent)
    return t(f"alert.{alert.kind}", locale)


def status_rows(
    snapshot: BillingSnapshot, locale: str, *, next_label: str, short_method: bool = False
) -> list[FieldValue]:
    """Status, next invoice (labelled `next_label`) and payment method: the table both the
    sidebar and the customer's status card open with."""
    rows = [
        FieldValue(
            field=t("field.status", locale), value=status_label(snapshot.subscription, locale)
        )
    ]
    if snapshot.next_invoice:
        rows.append(
            FieldValue(
                field=t(next_label, locale),
                value=t(
                    "value.next_invoice",
                    locale,
                    amount=money(snapshot.next_invoice.amount_due, locale),
                    date=day(snapshot.next_invoice.date, locale),
                ),
            )
        )
    rows.append(
        FieldValue(
            field=t("field.payment_method", locale),
            value=payment_method_label(snapshot.payment_method, locale, short=short_method),
        )
    )
    return rows


# Decline codes Stripe asks not to explain to the payer ("present as generic_decline").
UNEXPLAINED_DECLINES = frozenset(
    {"fraudulent", "lost_card", "stolen_card", "pickup_card", "merchant_blacklist"}
)


def plain_reason(code: str | None, message: str | None, locale: str) -> str:
    """A failure code in words people know ("insufficient funds"), in their language."""
    if code in UNEXPLAINED_DECLINES:
        code, message = "generic_decline", None
    if code and code in SEPA_REASONS:
        return SEPA_REASONS[code].describe(locale)
    if code:
        return code.replace("_", " ")
    return message or ("unbekannter Grund" if locale == "de" else "unknown reason")


def failure_line(invoice: InvoiceRecovery, locale: str) -> str:
    """ "Your bank returned the direct debit (code AM04): insufficient funds." and the like."""
    if invoice.is_sepa:
        reason = sepa_reason(invoice.failure_code)
        if reason is not None:
            return t(
                "m.recovery.reason_sepa", locale, code=reason.code, reason=reason.describe(locale)
            )
    words = plain_reason(invoice.failure_code, invoice.failure_message, locale)
    key = "m.recovery.reason_card" if invoice.method_type == "card" else "m.recovery.reason_other"
    return t(key, locale, reason=words)
