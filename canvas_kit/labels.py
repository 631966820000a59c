"""Labels shared by the inbox and Messenger cards, and `plain`: the one way a value we don't
control (a contact's email or external id, a customer's name, Stripe's words) enters the text of
a card."""

from __future__ import annotations

import re
from datetime import datetime

from billing.alerts import Alert
from billing.failed_invoices import InvoiceRecovery
from billing.money import Money, format_day
from billing.sepa import SEPA_REASONS, sepa_reason
from billing.snapshot import (
    BillingSnapshot,
    Payment,
    PaymentMethodSummary,
    Plan,
    SubscriptionSummary,
)
from canvas_kit.components import FieldValue
from kernel.i18n import N_, describe_failure, t

# Canvas Kit text is Markdown (**bold**, [links](url)); these characters could start syntax.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~:])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")

# Stripe's words for a state, as we name them to people (translated when shown).
STATUS_WORDS = {
    "active": N_("Active"),
    "trialing": N_("Trial"),
    "past_due": N_("Past due"),
    "unpaid": N_("Unpaid"),
    "canceled": N_("Canceled"),
    "incomplete": N_("Incomplete"),
    "incomplete_expired": N_("Expired"),
    "paused": N_("Paused"),
}
PAYMENT_WORDS = {"succeeded": N_("Paid"), "pending": N_("Processing"), "failed": N_("Failed")}
INTERVAL_WORDS = {"day": N_("day"), "week": N_("week"), "month": N_("month"), "year": N_("year")}
ALERT_WORDS = {
    "past_due": N_("⚠ Subscription is past due"),
    "unpaid": N_("⚠ Subscription is unpaid"),
    "delinquent": N_("⚠ Customer is delinquent in Stripe"),
    "card_expired": N_("⚠ Card expired"),
}


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


def interval_word(interval: str | None, locale: str) -> str:
    """ "month" / "Monat"; an interval we have no word for as Stripe names it."""
    return t(INTERVAL_WORDS[interval], locale) if interval in INTERVAL_WORDS else interval or ""


def interval_label(plan: Plan, locale: str) -> str:
    word = interval_word(plan.interval, locale)
    return f"{plan.interval_count} {word}" if plan.interval_count > 1 else word


def plan_line(plan: Plan | None, locale: str) -> str:
    if plan is None:
        return t("**No active subscription**", locale)
    if plan.amount is None or not plan.interval:
        return t("**%(plan)s**", locale, plan=plan.product_name)
    return t(
        "**%(plan)s** · %(price)s / %(interval)s",
        locale,
        plan=plan.product_name,
        price=money(plan.amount, locale),
        interval=interval_label(plan, locale),
    )


def subscription_line(sub: SubscriptionSummary, locale: str) -> str:
    """One subscription of several, on one line: "**Pro** · €79.00 / month · Active"."""
    plan = sub.plan
    if plan is None:
        return t("**%(plan)s** · %(status)s", locale, plan=sub.id, status=status_label(sub, locale))
    if plan.amount is None or not plan.interval:
        return t(
            "**%(plan)s** · %(status)s",
            locale,
            plan=plan.product_name,
            status=status_label(sub, locale),
        )
    return t(
        "**%(plan)s** · %(price)s / %(interval)s · %(status)s",
        locale,
        plan=plan.product_name,
        price=money(plan.amount, locale),
        interval=interval_label(plan, locale),
        status=status_label(sub, locale),
    )


def status_label(sub: SubscriptionSummary | None, locale: str) -> str:
    if sub is None:
        return t("No subscription", locale)
    if sub.status == "trialing" and sub.trial_end:
        return t("Trial until %(date)s", locale, date=day(sub.trial_end, locale))
    word = STATUS_WORDS.get(sub.status)
    return t(word, locale) if word else sub.status


def payment_method_label(
    pm: PaymentMethodSummary | None, locale: str, *, short: bool = False
) -> str:
    """ "Visa •••• 4242 (12/2028)", "SEPA •••• 2227 (bank 37040044)"; `short` leaves out the
    bank code so the value fits the sidebar's data-table without truncation."""
    if pm is None:
        return t("None", locale)
    if pm.type == "card":
        return t(
            "%(brand)s •••• %(last4)s (%(month)02d/%(year)s)",
            locale,
            brand=(pm.brand or "card").title(),
            last4=pm.last4,
            month=pm.exp_month or 0,
            year=pm.exp_year or 0,
        )
    if pm.is_sepa:
        if pm.bank_code and not short:
            return t(
                "SEPA •••• %(last4)s (bank %(bank)s)", locale, last4=pm.last4, bank=pm.bank_code
            )
        return t("SEPA •••• %(last4)s", locale, last4=pm.last4)
    return pm.type.replace("_", " ")


def failure_reason(payment: Payment, locale: str) -> str:
    return describe_failure(
        payment.failure_code, payment.failure_message, sepa=payment.is_sepa, locale=locale
    )


def payment_status_label(payment: Payment, locale: str) -> str:
    if payment.status == "failed":
        return f"{t('Failed', locale)}: {failure_reason(payment, locale)}"
    if payment.disputed:
        return t("Disputed", locale)
    if payment.refunded:
        return t("Refunded", locale)
    if payment.amount_refunded:
        return t("Partly refunded", locale)
    word = PAYMENT_WORDS.get(payment.status)
    return t(word, locale) if word else payment.status


def alert_text(alert: Alert, locale: str) -> str:
    if alert.kind == "payment_failed" and alert.payment:
        return t(
            "⚠ Last payment failed: %(reason)s",
            locale,
            reason=failure_reason(alert.payment, locale),
        )
    if alert.kind == "payment_processing":
        return t(
            "SEPA debit of %(amount)s is processing", locale, amount=money(alert.amount, locale)
        )
    if alert.kind == "trial_ending":
        if alert.severity == "error":
            return t("⚠ Trial ends in %(days)s day(s), no payment method", locale, days=alert.days)
        return t("Trial ends in %(days)s day(s)", locale, days=alert.days)
    if alert.kind == "cancels":
        return t("⚠ Cancels at period end (%(date)s)", locale, date=day(alert.date, locale))
    if alert.kind == "usage_high":
        return t("⚠ Usage at %(percent)s %% of the plan's limit", locale, percent=alert.percent)
    word = ALERT_WORDS.get(alert.kind)
    return t(word, locale) if word else alert.kind


def status_rows(
    snapshot: BillingSnapshot, locale: str, *, next_label: str, short_method: bool = False
) -> list[FieldValue]:
    """Status, next invoice (labelled `next_label`, already in the reader's words) and payment method: the table both the
    sidebar and the customer's status card open with. With several live subscriptions each
    shows its own status on its line (`subscription_line`), and the next invoice is the one
    that comes first."""
    several = snapshot.several_subscriptions
    rows = []
    if not several:
        rows.append(
            FieldValue(field=t("Status", locale), value=status_label(snapshot.subscription, locale))
        )
    upcoming = snapshot.soonest_invoice if several else snapshot.next_invoice
    if upcoming:
        rows.append(
            FieldValue(
                field=next_label,
                value=t(
                    "%(amount)s on %(date)s",
                    locale,
                    amount=money(upcoming.amount_due, locale),
                    date=day(upcoming.date, locale),
                ),
            )
        )
    rows.append(
        FieldValue(
            field=t("Payment method", locale),
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
        return t(SEPA_REASONS[code].text, locale)
    if code:
        return code.replace("_", " ")
    return message or t("unknown reason", locale)


def failure_line(invoice: InvoiceRecovery, locale: str) -> str:
    """ "Your bank returned the direct debit (code AM04): insufficient funds." and the like."""
    if invoice.is_sepa:
        reason = sepa_reason(invoice.failure_code)
        if reason is not None:
            return t(
                "Your bank returned the direct debit (code %(code)s): %(reason)s.",
                locale,
                code=reason.code,
                reason=t(reason.text, locale),
            )
    words = plain_reason(invoice.failure_code, invoice.failure_message, locale)
    if invoice.method_type == "card":
        return t("Your card was declined: %(reason)s.", locale, reason=words)
    return t("The payment failed: %(reason)s.", locale, reason=words)
