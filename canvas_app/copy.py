"""The one message catalogue for card copy, English and German. Cards look words up here by key;
no user-facing sentence is written inline in a card builder."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    # --- status words ---
    "status.active": {"en": "Active", "de": "Aktiv"},
    "status.trialing": {"en": "Trial", "de": "Testphase"},
    "status.past_due": {"en": "Past due", "de": "Überfällig"},
    "status.unpaid": {"en": "Unpaid", "de": "Unbezahlt"},
    "status.canceled": {"en": "Canceled", "de": "Gekündigt"},
    "status.incomplete": {"en": "Incomplete", "de": "Unvollständig"},
    "status.incomplete_expired": {"en": "Expired", "de": "Abgelaufen"},
    "status.paused": {"en": "Paused", "de": "Pausiert"},
    "status.none": {"en": "No subscription", "de": "Kein Abonnement"},
    "payment.succeeded": {"en": "Paid", "de": "Bezahlt"},
    "payment.pending": {"en": "Processing", "de": "In Bearbeitung"},
    "payment.failed": {"en": "Failed", "de": "Fehlgeschlagen"},
    "payment.refunded": {"en": "Refunded", "de": "Erstattet"},
    "payment.partially_refunded": {"en": "Partly refunded", "de": "Teilweise erstattet"},
    "payment.disputed": {"en": "Disputed", "de": "Angefochten"},
    "interval.day": {"en": "day", "de": "Tag"},
    "interval.week": {"en": "week", "de": "Woche"},
    "interval.month": {"en": "month", "de": "Monat"},
    "interval.year": {"en": "year", "de": "Jahr"},
    # --- inbox summary ---
    "inbox.plan_line": {
        "en": "**{plan}** · {price} / {interval}",
        "de": "**{plan}** · {price} / {interval}",
    },
    "inbox.plan_line_no_price": {"en": "**{plan}**", "de": "**{plan}**"},
    "inbox.no_subscription": {
        "en": "**No active subscription**",
        "de": "**Kein aktives Abonnement**",
    },
    "field.status": {"en": "Status", "de": "Status"},
    "field.next_invoice": {"en": "Next invoice", "de": "Nächste Rechnung"},
    "field.payment_method": {"en": "Payment method", "de": "Zahlungsmethode"},
    "field.balance": {"en": "Balance", "de": "Guthaben/Saldo"},
    "field.ltv": {"en": "Lifetime value", "de": "Umsatz gesamt"},
    "field.usage": {"en": "Usage", "de": "Nutzung"},
    "field.customer_since": {"en": "Customer since", "de": "Kunde seit"},
    "field.customer": {"en": "Customer", "de": "Kunde"},
    "value.status_trial": {"en": "Trial until {date}", "de": "Testphase bis {date}"},
    "value.next_invoice": {"en": "{amount} on {date}", "de": "{amount} am {date}"},
    "value.none": {"en": "None", "de": "Keine"},
    "value.card": {
        "en": "{brand} •••• {last4} ({month:02d}/{year})",
        "de": "{brand} •••• {last4} ({month:02d}/{year})",
    },
    "value.sepa": {"en": "SEPA •••• {last4} (bank {bank})", "de": "SEPA •••• {last4} (BLZ {bank})"},
    "value.sepa_no_bank": {"en": "SEPA •••• {last4}", "de": "SEPA •••• {last4}"},
    "value.balance_credit": {"en": "{amount} credit", "de": "{amount} Guthaben"},
    "value.balance_owed": {"en": "{amount} owed", "de": "{amount} offen"},
    "value.balance_zero": {"en": "{amount}", "de": "{amount}"},
    "value.usage": {"en": "{used} / {limit} ({percent} %)", "de": "{used} / {limit} ({percent} %)"},
    # --- alerts ---
    "alert.past_due": {"en": "⚠ Subscription is past due", "de": "⚠ Abonnement ist überfällig"},
    "alert.unpaid": {"en": "⚠ Subscription is unpaid", "de": "⚠ Abonnement ist unbezahlt"},
    "alert.delinquent": {
        "en": "⚠ Customer is delinquent in Stripe",
        "de": "⚠ Kunde ist in Stripe säumig",
    },
    "alert.payment_failed": {
        "en": "⚠ Last payment failed: {reason}",
        "de": "⚠ Letzte Zahlung fehlgeschlagen: {reason}",
    },
    "alert.payment_processing": {
        "en": "SEPA debit of {amount} is processing",
        "de": "SEPA-Lastschrift über {amount} in Bearbeitung",
    },
    "alert.trial_ending": {
        "en": "⚠ Trial ends in {days} day(s), no payment method",
        "de": "⚠ Testphase endet in {days} Tag(en), keine Zahlungsmethode",
    },
    "alert.trial_ending_ok": {
        "en": "Trial ends in {days} day(s)",
        "de": "Testphase endet in {days} Tag(en)",
    },
    "alert.cancels": {
        "en": "⚠ Cancels at period end ({date})",
        "de": "⚠ Endet zum Periodenende ({date})",
    },
    "alert.card_expired": {"en": "⚠ Card expired", "de": "⚠ Karte abgelaufen"},
    "alert.usage_high": {
        "en": "⚠ Usage at {percent} % of the plan's limit",
        "de": "⚠ Nutzung bei {percent} % des Limits",
    },
    # --- buttons ---
    "button.details": {"en": "Details", "de": "Details"},
    "button.back": {"en": "Back", "de": "Zurück"},
    "button.retry": {"en": "Retry", "de": "Erneut versuchen"},
    "button.other_customer": {"en": "Other matching customer", "de": "Anderer passender Kunde"},
    # --- details ---
    "details.payments": {"en": "**Last payments**", "de": "**Letzte Zahlungen**"},
    "details.no_payments": {"en": "No payments yet", "de": "Noch keine Zahlungen"},
    "details.payment_field": {"en": "{date} · {amount}", "de": "{date} · {amount}"},
    "details.stripe_link": {"en": "[Open in Stripe]({url})", "de": "[In Stripe öffnen]({url})"},
    # --- resolution ---
    "pick.header": {
        "en": "**{count} Stripe customers match**",
        "de": "**{count} Stripe-Kunden passen**",
    },
    "pick.hint": {
        "en": "Pick the right one for this conversation.",
        "de": "Wähle den richtigen für diese Unterhaltung.",
    },
    "pick.subtitle": {"en": "{email} · {plan}", "de": "{email} · {plan}"},
    "nomatch.header": {
        "en": "**No Stripe customer found**",
        "de": "**Kein Stripe-Kunde gefunden**",
    },
    "nomatch.searched": {"en": "Searched for {what}.", "de": "Gesucht nach {what}."},
    "nomatch.nothing": {
        "en": "This contact has no email, user ID or stripe_id to search for.",
        "de": "Dieser Kontakt hat keine E-Mail, User-ID oder stripe_id zum Suchen.",
    },
    "nomatch.hint": {
        "en": "Set the contact's stripe_id attribute to link a customer.",
        "de": "Setze das Attribut stripe_id am Kontakt, um einen Kunden zu verknüpfen.",
    },
    "searched.stripe_id": {"en": "stripe_id {value}", "de": "stripe_id {value}"},
    "searched.user_id": {"en": "user ID {value}", "de": "User-ID {value}"},
    "searched.email": {"en": "email {value}", "de": "E-Mail {value}"},
    "unavailable.header": {
        "en": "**Billing data temporarily unavailable**",
        "de": "**Abrechnungsdaten vorübergehend nicht verfügbar**",
    },
    "unavailable.body": {
        "en": "Stripe did not answer in time. Nothing was changed.",
        "de": "Stripe hat nicht rechtzeitig geantwortet. Es wurde nichts geändert.",
    },
    "word.and": {"en": "and", "de": "und"},
}


def t(key: str, locale: str = "en", **values: Any) -> str:
    """The message `key` in `locale` ("en" or "de"), formatted with `values`."""
    entry = MESSAGES[key]
    text = entry.get(locale[:2]) or entry["en"]
    return text.format(**values) if values else text


def join_words(parts: list[str], locale: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {t('word.and', locale)} " + parts[-1]
