"""Words of the report (CLI table and `/admin/report`), English and German (formal "Sie")."""

from __future__ import annotations

from billing.money import format_money
from billing.sepa import SEPA_REASONS

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Recovery and refund report",
        "period_all": "All recorded history",
        "period_since": "Since {date}",
        "generated": "Generated {time} UTC",
        "summary": "Summary",
        "failed_payments": "Failed payments",
        "recovered": "Recovered",
        "recovery_rate": "Recovery rate",
        "median_time": "Median time to recover",
        "hours": "{hours} h",
        "none": "–",
        "by_month": "By month (month of the first failure)",
        "month": "Month",
        "failed": "Failed",
        "lost": "Lost",
        "open": "Open",
        "rate": "Rate",
        "by_reason": "Failed payments by reason",
        "reason": "Reason",
        "count": "Count",
        "amount": "Amount",
        "by_channel": "What happened next",
        "channel": "Outcome",
        "median": "Median time",
        "chat_retry": "Retried in the chat",
        "card_link": "Paid by card through our link",
        "agent_retry": "Retried by an agent",
        "stripe_retry": "Recovered by Stripe's own retries",
        "lost_channel": "Lost (voided or uncollectible)",
        "open_channel": "Still open (up to {days} days)",
        "open_long": "Still open after {days} days",
        "refunds": "Refunds",
        "actor": "By",
        "fin": "Fin",
        "admin": "Agents",
        "refunded": "Refunded",
        "refused": "Refused by policy",
        "refund_failed": "Failed",
        "refused_reasons": "Refusals by rule",
        "refund_reasons": "Refunds by stated reason",
        "cancellations": "Cancellations saved by an offer",
        "not_available": "No data: not available yet. The cancel flow records its outcomes in the "
        "audit trail; they appear here as soon as it exists.",
        "cancel_requests": "Cancellation requests",
        "cancelled": "Cancelled",
        "saved": "Saved by an offer",
        "chart_months": "Recovered vs lost per month ({currency})",
        "chart_reasons": "Failed payments by reason (count)",
        "legend_recovered": "recovered",
        "legend_lost": "lost",
        "legend_open": "open",
        "no_failures": "No failed payments recorded in this period.",
        "unknown_reason": "Unknown reason",
        "card": "Card",
        "sepa": "SEPA",
        "other_currencies": "Amounts in other currencies are listed in the tables.",
    },
    "de": {
        "title": "Bericht zu Zahlungsrettung und Erstattungen",
        "period_all": "Gesamter aufgezeichneter Zeitraum",
        "period_since": "Seit {date}",
        "generated": "Erstellt {time} UTC",
        "summary": "Überblick",
        "failed_payments": "Fehlgeschlagene Zahlungen",
        "recovered": "Gerettet",
        "recovery_rate": "Rettungsquote",
        "median_time": "Mittlere Dauer bis zur Zahlung (Median)",
        "hours": "{hours} Std.",
        "none": "–",
        "by_month": "Nach Monat (Monat des ersten Fehlschlags)",
        "month": "Monat",
        "failed": "Fehlgeschlagen",
        "lost": "Verloren",
        "open": "Offen",
        "rate": "Quote",
        "by_reason": "Fehlgeschlagene Zahlungen nach Grund",
        "reason": "Grund",
        "count": "Anzahl",
        "amount": "Betrag",
        "by_channel": "Was danach geschah",
        "channel": "Ergebnis",
        "median": "Dauer (Median)",
        "chat_retry": "Im Chat erneut versucht",
        "card_link": "Per Karte über unseren Link bezahlt",
        "agent_retry": "Von einem Agenten erneut versucht",
        "stripe_retry": "Durch Stripes eigene Wiederholungen gerettet",
        "lost_channel": "Verloren (storniert oder uneinbringlich)",
        "open_channel": "Noch offen (bis zu {days} Tage)",
        "open_long": "Nach {days} Tagen noch offen",
        "refunds": "Erstattungen",
        "actor": "Durch",
        "fin": "Fin",
        "admin": "Agenten",
        "refunded": "Erstattet",
        "refused": "Von den Regeln abgelehnt",
        "refund_failed": "Fehlgeschlagen",
        "refused_reasons": "Ablehnungen nach Regel",
        "refund_reasons": "Erstattungen nach angegebenem Grund",
        "cancellations": "Durch ein Angebot verhinderte Kündigungen",
        "not_available": "Keine Daten: noch nicht verfügbar. Der Kündigungsablauf schreibt seine "
        "Ergebnisse in das Prüfprotokoll; sie erscheinen hier, sobald es ihn gibt.",
        "cancel_requests": "Kündigungswünsche",
        "cancelled": "Gekündigt",
        "saved": "Durch ein Angebot gehalten",
        "chart_months": "Gerettet und verloren pro Monat ({currency})",
        "chart_reasons": "Fehlgeschlagene Zahlungen nach Grund (Anzahl)",
        "legend_recovered": "gerettet",
        "legend_lost": "verloren",
        "legend_open": "offen",
        "no_failures": "In diesem Zeitraum wurden keine fehlgeschlagenen Zahlungen aufgezeichnet.",
        "unknown_reason": "Unbekannter Grund",
        "card": "Karte",
        "sepa": "SEPA",
        "other_currencies": "Beträge in anderen Währungen stehen in den Tabellen.",
    },
}


def labels(locale: str) -> dict[str, str]:
    return LABELS["de" if locale.startswith("de") else "en"]


def reason_label(key: str, method: str, code: str | None, locale: str) -> str:
    words = labels(locale)
    if code is None:
        return words["unknown_reason"]
    if method == "sepa_debit":
        sepa = next((r for r in SEPA_REASONS.values() if r.code == code), None)
        text = sepa.describe(locale) if sepa else code
        return f"{words['sepa']} {code} – {text}"
    if method == "card":
        return f"{words['card']}: {code.replace('_', ' ')}"
    return f"{method}: {code.replace('_', ' ')}"


def channel_label(channel: str, locale: str, open_days: int) -> str:
    words = labels(locale)
    key = {"lost": "lost_channel", "open": "open_channel"}.get(channel, channel)
    return words[key].format(days=open_days)


def money(amounts: dict[str, int], locale: str) -> str:
    if not amounts:
        return "0"
    return " + ".join(format_money(amounts[c], c, locale) for c in sorted(amounts))


def percent(rate: float | None, locale: str) -> str:
    if rate is None:
        return labels(locale)["none"]
    value = f"{rate * 100:.1f}"
    return (value.replace(".", ",") + " %") if locale.startswith("de") else value + " %"


def hours(value: float | None, locale: str) -> str:
    if value is None:
        return labels(locale)["none"]
    text = f"{value:.1f}"
    return labels(locale)["hours"].format(hours=text.replace(".", ",") if locale == "de" else text)
