"""Words of the report (CLI table and `/admin/report`): English msgids of the gettext catalogue,
read by operators in English or formal German."""

from __future__ import annotations

from babel.numbers import format_decimal

from billing.money import babel_locale, format_money
from billing.sepa import SEPA_REASONS
from kernel.i18n import N_, t, translations

LABELS: dict[str, str] = {
    "title": N_("Recovery and refund report"),
    "period_all": N_("All recorded history"),
    "period_since": N_("Since %(date)s"),
    "generated": N_("Generated %(time)s UTC"),
    "apply": N_("Show"),
    "summary": N_("Summary"),
    "failed_payments": N_("Failed payments"),
    "recovered": N_("Recovered"),
    "recovery_rate": N_("Recovery rate"),
    "median_time": N_("Median time to recover"),
    "hours": N_("%(hours)s h"),
    "none": N_("–"),
    "by_month": N_("By month (month of the first failure)"),
    "month": N_("Month"),
    "failed": N_("Failed"),
    "lost": N_("Lost"),
    "open": N_("Open"),
    "rate": N_("Rate"),
    "by_reason": N_("Failed payments by reason"),
    "reason": N_("Reason"),
    "count": N_("Count"),
    "amount": N_("Amount"),
    "by_channel": N_("What happened next"),
    "channel": N_("Outcome"),
    "median": N_("Median time"),
    "chat_retry": N_("Retried in the chat"),
    "card_link": N_("Paid by card through our link"),
    "agent_retry": N_("Retried by an agent"),
    "stripe_retry": N_("Recovered by Stripe's own retries"),
    "lost_channel": N_("Lost (voided or uncollectible)"),
    "open_channel": N_("Still open (up to %(days)s days)"),
    "open_long": N_("Still open after %(days)s days"),
    "refunds": N_("Refunds"),
    "actor": N_("By"),
    "fin": N_("Fin"),
    "admin": N_("Agents"),
    "refunded": N_("Refunded"),
    "refused": N_("Refused by policy"),
    "refund_failed": N_("Failed"),
    "refused_reasons": N_("Refusals by rule"),
    "refund_reasons": N_("Refunds by stated reason"),
    "cancellations": N_("Cancellations saved by an offer"),
    "not_available": N_(
        "No data: not available yet. The cancel flow records its outcomes in the audit "
        "trail; they appear here as soon as it exists."
    ),
    "cancel_requests": N_("Cancellation requests"),
    "cancelled": N_("Cancelled"),
    "saved": N_("Saved by an offer"),
    "chart_months": N_("Recovered vs lost per month (%(currency)s)"),
    "chart_reasons": N_("Failed payments by reason (count)"),
    "legend_recovered": N_("recovered"),
    "legend_lost": N_("lost"),
    "legend_open": N_("open"),
    "no_failures": N_("No failed payments recorded in this period."),
    "unknown_reason": N_("Unknown reason"),
    "card": N_("Card"),
    "sepa": N_("SEPA"),
    "other_currencies": N_("Amounts in other currencies are listed in the tables."),
}


def labels(locale: str) -> dict[str, str]:
    """The report's words in `locale`, placeholders (`%(date)s`, ...) still to be filled in."""
    catalogue = translations(locale)
    return {key: catalogue.gettext(message) for key, message in LABELS.items()}


def reason_label(key: str, method: str, code: str | None, locale: str) -> str:
    words = labels(locale)
    if code is None:
        return words["unknown_reason"]
    if method == "sepa_debit":
        sepa = next((r for r in SEPA_REASONS.values() if r.code == code), None)
        text = t(sepa.text, locale) if sepa else code
        return f"{words['sepa']} {code} – {text}"
    if method == "card":
        return f"{words['card']}: {code.replace('_', ' ')}"
    return f"{method}: {code.replace('_', ' ')}"


def channel_label(channel: str, locale: str, open_days: int) -> str:
    words = labels(locale)
    key = {"lost": "lost_channel", "open": "open_channel"}.get(channel, channel)
    return words[key] % {"days": open_days}


def money(amounts: dict[str, int], locale: str) -> str:
    if not amounts:
        return "0"
    return " + ".join(format_money(amounts[c], c, locale) for c in sorted(amounts))


def percent(rate: float | None, locale: str) -> str:
    if rate is None:
        return labels(locale)["none"]
    value = format_decimal(rate * 100, format="0.0", locale=babel_locale(locale))
    return t("%(value)s %%", locale, value=value)


def hours(value: float | None, locale: str) -> str:
    if value is None:
        return labels(locale)["none"]
    text = format_decimal(value, format="0.0", locale=babel_locale(locale))
    return t(LABELS["hours"], locale, hours=text)
