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
    "value.ltv_calculating": {"en": "being calculated…", "de": "wird berechnet…"},
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
    "details.payment_value": {"en": "{amount} · {status}", "de": "{amount} · {status}"},
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
    # --- how the customer was matched, and confirming identity before money moves ---
    "field.match": {"en": "Matched", "de": "Zuordnung"},
    "match.stripe_id": {"en": "Linked by stripe_id", "de": "Verknüpft über stripe_id"},
    "match.user_id": {"en": "By user ID", "de": "Über User-ID"},
    "match.email": {
        "en": "By email — not verified",
        "de": "Über E-Mail – nicht verifiziert",
    },
    "match.email.alert": {
        "en": "⚠ Matched by email — not verified",
        "de": "⚠ Über E-Mail zugeordnet – nicht verifiziert",
    },
    "identity.note": {
        "en": "This customer was matched by email only, and anyone can type an email into the "
        "Messenger. Check who you're talking to before money moves.",
        "de": "Dieser Kunde wurde nur über die E-Mail zugeordnet, und im Messenger kann jeder "
        "eine E-Mail eintippen. Prüfe, mit wem du sprichst, bevor Geld fließt.",
    },
    "identity.required": {
        "en": "Confirm the customer's identity first: nothing was charged or refunded.",
        "de": "Bestätige zuerst die Identität des Kunden: Es wurde nichts eingezogen oder "
        "erstattet.",
    },
    "identity.label": {"en": "Identity", "de": "Identität"},
    "identity.option": {
        "en": "I have verified this customer's identity",
        "de": "Ich habe die Identität dieses Kunden geprüft",
    },
    "problem.header": {"en": "**That didn't work**", "de": "**Das hat nicht geklappt**"},
    # --- messenger cards (customer-facing), payment link pages, inbox card actions ---
    # configure (the admin picks the card)
    "m.configure.header": {
        "en": "**Which billing card should this show?**",
        "de": "**Welche Abrechnungskarte soll hier erscheinen?**",
    },
    "m.configure.hint": {
        "en": "Each customer sees their own, current data.",
        "de": "Jeder Kunde sieht seine eigenen, aktuellen Daten.",
    },
    "m.card.billing_status": {"en": "Billing status", "de": "Abrechnungsstatus"},
    "m.card.billing_status.hint": {
        "en": "Plan, next payment, payment method",
        "de": "Tarif, nächste Zahlung, Zahlungsmethode",
    },
    "m.card.savings": {"en": "Savings", "de": "Sparpotenzial"},
    "m.card.savings.hint": {
        "en": "Yearly billing or the next tier, when it saves money",
        "de": "Jährliche Zahlung oder nächster Tarif, wenn es Geld spart",
    },
    "m.card.payment_recovery": {"en": "Payment recovery", "de": "Zahlung nachholen"},
    "m.card.payment_recovery.hint": {
        "en": "Retry a failed payment or pay by card instead",
        "de": "Fehlgeschlagene Zahlung erneut versuchen oder per Karte zahlen",
    },
    "m.card.trial": {"en": "Trial ending", "de": "Testphase endet"},
    "m.card.trial.hint": {
        "en": "Days left, and a link to add a payment method",
        "de": "Verbleibende Tage und ein Link zum Hinterlegen einer Zahlungsmethode",
    },
    # billing status
    "m.status.header": {"en": "**Your billing**", "de": "**Deine Abrechnung**"},
    "m.field.plan": {"en": "Plan", "de": "Tarif"},
    "m.field.next_payment": {"en": "Next payment", "de": "Nächste Zahlung"},
    "m.status.all_good": {
        "en": "Nothing needs your attention.",
        "de": "Alles in Ordnung, du musst nichts tun.",
    },
    "m.action.payment_failed": {
        "en": "⚠ Your payment of {amount} didn't go through: {reason}.",
        "de": "⚠ Deine Zahlung über {amount} ist nicht durchgegangen: {reason}.",
    },
    "m.action.processing": {
        "en": "Your payment of {amount} is processing at your bank.",
        "de": "Deine Zahlung über {amount} ist bei deiner Bank in Bearbeitung.",
    },
    "m.action.trial_no_pm": {
        "en": "⚠ Your trial ends on {date} and there is no payment method on file.",
        "de": "⚠ Deine Testphase endet am {date} und es ist keine Zahlungsmethode hinterlegt.",
    },
    "m.action.card_expired": {
        "en": "⚠ Your card has expired.",
        "de": "⚠ Deine Karte ist abgelaufen.",
    },
    "m.action.cancels": {
        "en": "Your subscription ends on {date}.",
        "de": "Dein Abonnement endet am {date}.",
    },
    "m.button.fix_payment": {"en": "Fix payment", "de": "Zahlung klären"},
    "m.button.add_payment_method": {
        "en": "Add a payment method",
        "de": "Zahlungsmethode hinzufügen",
    },
    # savings
    "m.savings.header": {
        "en": "**Save {per_year} a year**",
        "de": "**Spare {per_year} im Jahr**",
    },
    "m.savings.yearly": {
        "en": "Pay for {plan} yearly instead of monthly: {per_month} less per month, "
        "{per_year} less per year.",
        "de": "Zahle {plan} jährlich statt monatlich: {per_month} weniger pro Monat, "
        "{per_year} weniger pro Jahr.",
    },
    "m.savings.next_tier": {
        "en": "At your current usage, {target} costs less than {plan} plus usage charges: "
        "{per_month} less per month, {per_year} less per year.",
        "de": "Bei deiner aktuellen Nutzung ist {target} günstiger als {plan} plus "
        "Nutzungsgebühren: {per_month} weniger pro Monat, {per_year} weniger pro Jahr.",
    },
    "m.savings.fits.header": {"en": "**Your plan fits**", "de": "**Dein Tarif passt**"},
    "m.savings.fits.body": {
        "en": "At your current usage, {plan} is already the best value for you. "
        "There is nothing to save right now.",
        "de": "Bei deiner aktuellen Nutzung ist {plan} bereits das günstigste Angebot für dich. "
        "Gerade gibt es nichts zu sparen.",
    },
    "m.savings.no_plan": {
        "en": "You don't have an active plan we could compare.",
        "de": "Du hast keinen aktiven Tarif, den wir vergleichen könnten.",
    },
    "m.button.show_me": {"en": "Show me", "de": "Zeig's mir"},
    "m.button.switch": {"en": "Switch to {plan}", "de": "Zu {plan} wechseln"},
    "m.button.confirm_switch": {"en": "Confirm switch", "de": "Wechsel bestätigen"},
    "m.button.cancel": {"en": "Cancel", "de": "Abbrechen"},
    "m.breakdown.header": {
        "en": "**How we calculated it**",
        "de": "**So haben wir gerechnet**",
    },
    "m.breakdown.monthly": {"en": "{plan}, monthly", "de": "{plan}, monatlich"},
    "m.breakdown.twelve": {"en": "12 × {amount} = {total}", "de": "12 × {amount} = {total}"},
    "m.breakdown.yearly": {"en": "{plan}, yearly", "de": "{plan}, jährlich"},
    "m.breakdown.base": {"en": "{plan}", "de": "{plan}"},
    "m.breakdown.usage": {
        "en": "Usage: {used} of {included} included",
        "de": "Nutzung: {used} von {included} inklusive",
    },
    "m.breakdown.saving": {"en": "You save", "de": "Du sparst"},
    "m.value.per_month": {"en": "{amount} / month", "de": "{amount} / Monat"},
    "m.value.per_year": {"en": "{amount} / year", "de": "{amount} / Jahr"},
    "m.value.saving": {
        "en": "{per_year} / year ({per_month} / month)",
        "de": "{per_year} / Jahr ({per_month} / Monat)",
    },
    "m.breakdown.note": {
        "en": "Based on your usage so far this period. The exact quote comes from Stripe "
        "before anything changes.",
        "de": "Auf Basis deiner bisherigen Nutzung in diesem Zeitraum. Das genaue Angebot "
        "kommt von Stripe, bevor sich etwas ändert.",
    },
    "m.quote.header": {"en": "**Switch to {plan}**", "de": "**Wechsel zu {plan}**"},
    "m.quote.now": {"en": "Charged now", "de": "Jetzt fällig"},
    "m.quote.new_price": {"en": "New price", "de": "Neuer Preis"},
    "m.quote.date": {"en": "Effective", "de": "Gültig ab"},
    "m.quote.note": {
        "en": "Stripe's exact calculation, including credit for the unused time on your "
        "current plan.",
        "de": "Die genaue Berechnung von Stripe, inklusive Gutschrift für die ungenutzte Zeit "
        "deines aktuellen Tarifs.",
    },
    "m.quote.expired": {
        "en": "That quote had expired, so here is a fresh one.",
        "de": "Das Angebot war abgelaufen, hier ist ein aktuelles.",
    },
    "m.switched.header": {
        "en": "**You're now on {plan}**",
        "de": "**Du bist jetzt im Tarif {plan}**",
    },
    "m.switched.charged": {
        "en": "We charged {amount} today.",
        "de": "Heute haben wir {amount} berechnet.",
    },
    "m.switched.next": {
        "en": "Your new price is {price}, next due on {date}.",
        "de": "Dein neuer Preis ist {price}, nächste Zahlung am {date}.",
    },
    "m.switch.plan_changed": {
        "en": "Your plan changed in the meantime, so this quote no longer applies. "
        "Nothing was changed.",
        "de": "Dein Tarif hat sich inzwischen geändert, daher gilt dieses Angebot nicht mehr. "
        "Es wurde nichts geändert.",
    },
    "m.switch.rejected": {
        "en": "Stripe didn't accept the switch ({reason}). Nothing was changed.",
        "de": "Stripe hat den Wechsel nicht angenommen ({reason}). Es wurde nichts geändert.",
    },
    "m.switch.in_progress": {
        "en": "Your switch is already being processed.",
        "de": "Dein Wechsel wird bereits bearbeitet.",
    },
    # payment recovery
    "m.recovery.header": {
        "en": "**Your payment of {amount} didn't go through**",
        "de": "**Deine Zahlung über {amount} ist nicht durchgegangen**",
    },
    "m.recovery.invoice": {
        "en": "Invoice {number} from {date}",
        "de": "Rechnung {number} vom {date}",
    },
    "m.recovery.reason_sepa": {
        "en": "Your bank returned the direct debit (code {code}): {reason}.",
        "de": "Deine Bank hat die Lastschrift zurückgegeben (Code {code}): {reason}.",
    },
    "m.recovery.reason_card": {
        "en": "Your card was declined: {reason}.",
        "de": "Deine Karte wurde abgelehnt: {reason}.",
    },
    "m.recovery.reason_other": {
        "en": "The payment failed: {reason}.",
        "de": "Die Zahlung ist fehlgeschlagen: {reason}.",
    },
    "m.recovery.hint_sepa": {
        "en": "This often happens when the account was briefly short. "
        "Retry, or pay by card instead?",
        "de": "Das passiert oft, wenn das Konto kurzzeitig nicht gedeckt war. "
        "Nochmal versuchen oder lieber per Karte zahlen?",
    },
    "m.recovery.hint": {
        "en": "Retry the payment, or pay by card instead.",
        "de": "Versuch es nochmal oder zahle stattdessen per Karte.",
    },
    "m.button.retry_payment": {"en": "Retry payment", "de": "Zahlung erneut versuchen"},
    "m.button.pay_by_card": {"en": "Pay by card instead", "de": "Stattdessen per Karte zahlen"},
    "m.recovery.processing.header": {
        "en": "**Your payment of {amount} is processing**",
        "de": "**Deine Zahlung über {amount} ist in Bearbeitung**",
    },
    "m.recovery.processing.sepa": {
        "en": "SEPA direct debits take a few business days. There is nothing else to do; "
        "we'll tell you if anything goes wrong.",
        "de": "SEPA-Lastschriften dauern einige Bankarbeitstage. Du musst nichts weiter tun; "
        "wir melden uns, falls etwas schiefgeht.",
    },
    "m.recovery.processing.other": {
        "en": "This card shows the result as soon as your bank confirms it.",
        "de": "Diese Karte zeigt das Ergebnis, sobald deine Bank es bestätigt.",
    },
    "m.recovery.paid.header": {"en": "**Paid, thank you!**", "de": "**Bezahlt, danke!**"},
    "m.recovery.paid.body": {
        "en": "Your payment of {amount} went through.",
        "de": "Deine Zahlung über {amount} ist eingegangen.",
    },
    "m.recovery.settled.header": {"en": "**All settled**", "de": "**Alles beglichen**"},
    "m.recovery.settled.body": {
        "en": "There is no failed payment on your account.",
        "de": "Auf deinem Konto gibt es keine fehlgeschlagene Zahlung.",
    },
    "m.recovery.declined": {
        "en": "The retry didn't go through: {reason}. You can pay by card instead.",
        "de": "Der erneute Versuch ist nicht durchgegangen: {reason}. "
        "Du kannst stattdessen per Karte zahlen.",
    },
    "m.recovery.rejected": {
        "en": "The payment couldn't be retried right now. You can pay by card instead.",
        "de": "Die Zahlung konnte gerade nicht erneut versucht werden. "
        "Du kannst stattdessen per Karte zahlen.",
    },
    "m.recovery.cooldown": {
        "en": "We tried this payment a moment ago. You can retry after {time}, or pay by card now.",
        "de": "Wir haben diese Zahlung gerade erst versucht. Ein neuer Versuch geht ab {time}, "
        "per Karte kannst du sofort zahlen.",
    },
    "m.recovery.in_progress": {
        "en": "Your retry is already being processed.",
        "de": "Dein erneuter Versuch wird bereits bearbeitet.",
    },
    "m.unavailable.header": {
        "en": "**We couldn't reach the payment provider**",
        "de": "**Wir konnten den Zahlungsanbieter nicht erreichen**",
    },
    "m.unavailable.body": {
        "en": "Nothing was charged. Please try again in a moment.",
        "de": "Es wurde nichts abgebucht. Bitte versuch es gleich noch einmal.",
    },
    "m.working.header": {
        "en": "**We're on it: processing**",
        "de": "**Wir sind dran: wird bearbeitet**",
    },
    "m.working.body": {
        "en": "The payment provider is taking longer than usual. This card updates with the "
        "outcome; nothing is charged twice.",
        "de": "Der Zahlungsanbieter braucht länger als sonst. Diese Karte zeigt gleich das "
        "Ergebnis; es wird nichts doppelt abgebucht.",
    },
    "m.button.try_again": {"en": "Try again", "de": "Nochmal versuchen"},
    "m.button.refresh": {"en": "Refresh", "de": "Aktualisieren"},
    # trial
    "m.trial.days.0": {"en": "**Your trial ends today**", "de": "**Deine Testphase endet heute**"},
    "m.trial.days.1": {
        "en": "**1 day left in your trial**",
        "de": "**Noch 1 Tag in deiner Testphase**",
    },
    "m.trial.days.n": {
        "en": "**{days} days left in your trial**",
        "de": "**Noch {days} Tage in deiner Testphase**",
    },
    "m.trial.ends": {
        "en": "Your {plan} trial ends on {date}.",
        "de": "Deine Testphase für {plan} endet am {date}.",
    },
    "m.trial.all_set": {
        "en": "You're all set: {amount} will be charged to {method} on {date}.",
        "de": "Alles bereit: Am {date} werden {amount} über {method} abgerechnet.",
    },
    "m.trial.no_pm": {
        "en": "Add a payment method now so your account keeps running without interruption.",
        "de": "Hinterlege jetzt eine Zahlungsmethode, damit dein Konto ohne Unterbrechung "
        "weiterläuft.",
    },
    "m.trial.not_trialing": {
        "en": "You're not on a trial.",
        "de": "Du bist nicht in einer Testphase.",
    },
    # who is the customer
    "m.signin.header": {
        "en": "**Sign in to see your billing**",
        "de": "**Melde dich an, um deine Abrechnung zu sehen**",
    },
    "m.signin.body": {
        "en": "Once you're logged in to your account, your plan, invoices and payments show up "
        "here. Or just ask us in the chat — we're happy to help.",
        "de": "Sobald du in deinem Konto angemeldet bist, siehst du hier deinen Tarif, deine "
        "Rechnungen und Zahlungen. Oder frag uns einfach hier im Chat – wir helfen gern.",
    },
    "m.nomatch.header": {
        "en": "**We couldn't find your billing account**",
        "de": "**Wir haben dein Abrechnungskonto nicht gefunden**",
    },
    "m.nomatch.body": {
        "en": "Reply here and our team will help.",
        "de": "Antworte hier, unser Team hilft dir weiter.",
    },
    "m.ambiguous.header": {
        "en": "**Please contact support**",
        "de": "**Bitte wende dich an den Support**",
    },
    "m.ambiguous.body": {
        "en": "Several billing accounts use your email address, so payments can't be changed "
        "from here. Reply here and our team will sort it out.",
        "de": "Mehrere Abrechnungskonten nutzen deine E-Mail-Adresse, daher lassen sich Zahlungen "
        "hier nicht ändern. Antworte hier, unser Team kümmert sich darum.",
    },
    # inbox: send a card, retry an invoice (agent-facing)
    "ic.button.send_payment_recovery": {
        "en": "Send recovery card",
        "de": "Wiederherstellungs-Karte senden",
    },
    "ic.button.send_savings": {"en": "Send savings card", "de": "Spar-Karte senden"},
    "ic.button.retry_invoice": {"en": "Retry failed payment", "de": "Zahlung erneut einziehen"},
    "ic.sent.payment_recovery": {
        "en": "**Recovery card added to your reply**",
        "de": "**Wiederherstellungs-Karte in deine Antwort eingefügt**",
    },
    "ic.sent.savings": {
        "en": "**Savings card added to your reply**",
        "de": "**Spar-Karte in deine Antwort eingefügt**",
    },
    "ic.sent.hint": {
        "en": "Send the reply: the customer sees their own, current billing in the card.",
        "de": "Sende die Antwort: Der Kunde sieht in der Karte seine eigenen, aktuellen Daten.",
    },
    "ic.no_savings.header": {"en": "**No saving to offer**", "de": "**Kein Sparpotenzial**"},
    "ic.no_savings.body": {
        "en": "{plan} already fits this customer's usage; no card was added.",
        "de": "{plan} passt bereits zur Nutzung dieses Kunden; es wurde keine Karte eingefügt.",
    },
    "ic.retry.confirm": {
        "en": "**Retry {amount} now?**",
        "de": "**{amount} jetzt erneut einziehen?**",
    },
    "ic.retry.detail": {
        "en": "Invoice {number}: {reason}",
        "de": "Rechnung {number}: {reason}",
    },
    "ic.retry.method": {
        "en": "Stripe charges the subscription's payment method: {method}.",
        "de": "Stripe belastet die Zahlungsmethode des Abonnements: {method}.",
    },
    "ic.button.confirm_retry": {"en": "Yes, retry {amount}", "de": "Ja, {amount} einziehen"},
    "ic.retry.processing": {
        "en": "**Retry submitted: {amount} is processing**",
        "de": "**Erneuter Einzug gestartet: {amount} in Bearbeitung**",
    },
    "ic.retry.sepa_note": {
        "en": "SEPA debits settle in a few business days.",
        "de": "SEPA-Lastschriften brauchen einige Bankarbeitstage.",
    },
    "ic.retry.paid": {"en": "**{amount} paid**", "de": "**{amount} bezahlt**"},
    "ic.retry.declined": {
        "en": "**Retry declined**: {reason}",
        "de": "**Erneuter Einzug abgelehnt**: {reason}",
    },
    "ic.retry.rejected": {
        "en": "**Stripe refused the retry**: {reason}",
        "de": "**Stripe hat den Einzug abgelehnt**: {reason}",
    },
    "ic.retry.cooldown": {
        "en": "**Retried recently**: the next retry is possible after {time}.",
        "de": "**Gerade erst versucht**: der nächste Einzug ist ab {time} möglich.",
    },
    "ic.retry.still_processing": {
        "en": "**A payment of {amount} is still processing**: no retry needed.",
        "de": "**Eine Zahlung über {amount} ist noch in Bearbeitung**: kein neuer Einzug nötig.",
    },
    "ic.retry.in_progress": {
        "en": "**A retry is already in progress**",
        "de": "**Ein Einzug läuft bereits**",
    },
    "ic.retry.already_paid": {
        "en": "**The invoice is already paid**",
        "de": "**Die Rechnung ist bereits bezahlt**",
    },
    "ic.retry.not_payable": {
        "en": "**There is no failed invoice to retry**",
        "de": "**Es gibt keine fehlgeschlagene Rechnung**",
    },
    "ic.retry.unavailable": {
        "en": "**Stripe could not be reached**: nothing was charged. Try again in a moment.",
        "de": "**Stripe war nicht erreichbar**: es wurde nichts abgebucht. "
        "Versuch es gleich noch einmal.",
    },
    # payment link pages (/l/<token>)
    "page.title": {"en": "Payment", "de": "Zahlung"},
    "page.close": {
        "en": "You can close this tab and return to the chat.",
        "de": "Du kannst diesen Tab schließen und zum Chat zurückkehren.",
    },
    "page.try_again": {"en": "Try again", "de": "Erneut versuchen"},
    "page.use_card": {"en": "Use another card", "de": "Andere Karte verwenden"},
    "page.paid.title": {
        "en": "Thank you, your payment went through",
        "de": "Danke, deine Zahlung ist eingegangen",
    },
    "page.paid.body": {
        "en": "We charged {amount} to your card •••• {last4} for invoice {number}. "
        "Future payments use this card too.",
        "de": "Wir haben {amount} für Rechnung {number} von deiner Karte •••• {last4} "
        "abgebucht. Künftige Zahlungen laufen ebenfalls über diese Karte.",
    },
    "page.declined.title": {
        "en": "Your card was saved, but the payment was declined",
        "de": "Deine Karte ist gespeichert, aber die Zahlung wurde abgelehnt",
    },
    "page.declined.body": {
        "en": "Reason: {reason}. Nothing was charged. You can try another card.",
        "de": "Grund: {reason}. Es wurde nichts abgebucht. Du kannst eine andere Karte verwenden.",
    },
    "page.already_paid.title": {
        "en": "This invoice is already paid",
        "de": "Diese Rechnung ist bereits bezahlt",
    },
    "page.already_paid.body": {
        "en": "There is nothing more to do. Thank you!",
        "de": "Es ist nichts weiter zu tun. Danke!",
    },
    "page.processing.title": {"en": "Your card was saved", "de": "Deine Karte ist gespeichert"},
    "page.processing.body": {
        "en": "A bank debit for this invoice is still being processed, so your card was not "
        "charged. Future payments use your card.",
        "de": "Eine Lastschrift für diese Rechnung ist noch in Bearbeitung, deshalb wurde deine "
        "Karte nicht belastet. Künftige Zahlungen laufen über deine Karte.",
    },
    "page.in_progress.title": {
        "en": "Your payment is being processed",
        "de": "Deine Zahlung wird bearbeitet",
    },
    "page.in_progress.body": {
        "en": "Reload this page in a moment to see the result.",
        "de": "Lade diese Seite gleich neu, um das Ergebnis zu sehen.",
    },
    "page.saved.title": {"en": "You're all set", "de": "Alles erledigt"},
    "page.saved.body": {
        "en": "Your card •••• {last4} is saved and will be used for your subscription.",
        "de": "Deine Karte •••• {last4} ist gespeichert und wird für dein Abonnement verwendet.",
    },
    "page.expired.title": {"en": "This link has expired", "de": "Dieser Link ist abgelaufen"},
    "page.expired.body": {
        "en": "For your security, payment links work for {hours} hours. Open the card in the "
        "chat again to get a fresh link. Nothing was charged.",
        "de": "Zu deiner Sicherheit gelten Zahlungslinks {hours} Stunden. Öffne die Karte im "
        "Chat erneut, um einen neuen Link zu bekommen. Es wurde nichts abgebucht.",
    },
    "page.too_many.title": {
        "en": "This link was opened too often",
        "de": "Dieser Link wurde zu oft geöffnet",
    },
    "page.too_many.body": {
        "en": "For your security, please open the card in the chat again to get a fresh link. "
        "Nothing was charged.",
        "de": "Zu deiner Sicherheit öffne bitte die Karte im Chat erneut, um einen neuen Link zu "
        "bekommen. Es wurde nichts abgebucht.",
    },
    "page.invalid.title": {"en": "This link isn't valid", "de": "Dieser Link ist ungültig"},
    "page.invalid.body": {
        "en": "Please open the payment link from the chat again. Nothing was charged.",
        "de": "Bitte öffne den Zahlungslink erneut aus dem Chat. Es wurde nichts abgebucht.",
    },
    "page.cancelled.title": {"en": "Nothing was changed", "de": "Es wurde nichts geändert"},
    "page.cancelled.body": {
        "en": "You can use the link again whenever you're ready.",
        "de": "Du kannst den Link jederzeit wieder verwenden.",
    },
    "page.incomplete.title": {
        "en": "Your card wasn't saved yet",
        "de": "Deine Karte ist noch nicht gespeichert",
    },
    "page.incomplete.body": {
        "en": "The form wasn't completed. Nothing was charged.",
        "de": "Das Formular wurde nicht abgeschlossen. Es wurde nichts abgebucht.",
    },
    "page.unavailable.title": {
        "en": "We couldn't reach the payment provider",
        "de": "Wir konnten den Zahlungsanbieter nicht erreichen",
    },
    "page.unavailable.body": {
        "en": "Nothing was charged. Please reload this page in a moment.",
        "de": "Es wurde nichts abgebucht. Bitte lade diese Seite gleich neu.",
    },
    "page.failed.title": {
        "en": "Something went wrong on our side",
        "de": "Bei uns ist etwas schiefgelaufen",
    },
    "page.failed.body": {
        "en": "Nothing was charged. Please reply in the chat and our team will help.",
        "de": "Es wurde nichts abgebucht. Antworte bitte im Chat, unser Team hilft dir weiter.",
    },
    # --- money-safety review: confirm before paying, plan switches that didn't apply ---
    "page.confirm.title": {"en": "Confirm your payment", "de": "Zahlung bestätigen"},
    "page.confirm.body": {
        "en": "Pay {amount} for invoice {number} with {method}? This card will also be used "
        "for future payments.",
        "de": "{amount} für Rechnung {number} mit {method} bezahlen? Diese Karte wird auch für "
        "künftige Zahlungen verwendet.",
    },
    "page.confirm.button": {
        "en": "Pay {amount} with {method}",
        "de": "{amount} mit {method} zahlen",
    },
    "m.recovery.changed": {
        "en": "This payment changed since the card was shown, so nothing was charged. "
        "Check the amount above and retry if it is right.",
        "de": "Diese Zahlung hat sich geändert, seit die Karte angezeigt wurde, daher wurde "
        "nichts abgebucht. Prüfe den Betrag oben und versuch es erneut, wenn er stimmt.",
    },
    "m.savings.blocked.header": {
        "en": "**Settle your open payment first**",
        "de": "**Erst die offene Zahlung begleichen**",
    },
    "m.switch.not_switchable": {
        "en": "Your subscription has a payment outstanding, so the plan can't be changed right "
        "now. Once it is paid, you can switch here.",
        "de": "Für dein Abonnement ist noch eine Zahlung offen, daher lässt sich der Tarif gerade "
        "nicht ändern. Sobald sie bezahlt ist, kannst du hier wechseln.",
    },
    "m.switch.payment_failed": {
        "en": "Your payment of {amount} didn't go through ({reason}), so your plan did not "
        "change: you stay on {plan}. Nothing was charged.",
        "de": "Deine Zahlung über {amount} ist nicht durchgegangen ({reason}), daher wurde dein "
        "Tarif nicht geändert: Du bleibst bei {plan}. Es wurde nichts abgebucht.",
    },
    "m.switch.not_applied": {
        "en": "The switch didn't go through, so your plan did not change: you stay on {plan}. "
        "Nothing was charged. Reply here and our team will help.",
        "de": "Der Wechsel hat nicht geklappt, daher wurde dein Tarif nicht geändert: Du bleibst "
        "bei {plan}. Es wurde nichts abgebucht. Antworte hier, unser Team hilft dir weiter.",
    },
    "m.switched.payment_open": {
        "en": "Your payment of {amount} is still being processed.",
        "de": "Deine Zahlung über {amount} wird noch bearbeitet.",
    },
    # --- inbox: refund a payment (inbox/refunds.py) ---
    "ir.button.refund": {"en": "Refund a payment", "de": "Zahlung erstatten"},
    "ir.pick.header": {"en": "**Refund a payment**", "de": "**Zahlung erstatten**"},
    "ir.pick.hint": {
        "en": "Which payment should be refunded?",
        "de": "Welche Zahlung soll erstattet werden?",
    },
    "ir.pick.title": {"en": "{amount} · {date}", "de": "{amount} · {date}"},
    "ir.pick.subtitle": {"en": "{refundable} refundable", "de": "{refundable} erstattbar"},
    "ir.pick.none": {
        "en": "No payment of this customer can be refunded here (refunded, disputed or older "
        "than {days} days).",
        "de": "Keine Zahlung dieses Kunden kann hier erstattet werden (erstattet, angefochten "
        "oder älter als {days} Tage).",
    },
    "ir.form.header": {
        "en": "**Refund the payment of {date}**",
        "de": "**Zahlung vom {date} erstatten**",
    },
    "ir.form.detail": {
        "en": "{amount} paid, {refundable} can still be refunded.",
        "de": "{amount} bezahlt, davon noch {refundable} erstattbar.",
    },
    "ir.form.amount": {"en": "Amount to refund", "de": "Zu erstattender Betrag"},
    "ir.form.reason": {
        "en": "Reason (kept in the audit trail)",
        "de": "Grund (wird im Audit-Protokoll gespeichert)",
    },
    "ir.form.reason_placeholder": {"en": "e.g. charged twice", "de": "z. B. doppelt abgebucht"},
    "ir.form.amount_invalid": {
        "en": "Enter an amount like {example}.",
        "de": "Bitte einen Betrag wie {example} eingeben.",
    },
    "ir.button.review": {"en": "Review refund", "de": "Erstattung prüfen"},
    "ir.confirm.header": {"en": "**Refund {amount}?**", "de": "**{amount} erstatten?**"},
    "ir.confirm.detail": {
        "en": "From the payment of {date} ({paid}), back to {method}.",
        "de": "Aus der Zahlung vom {date} ({paid}), zurück auf {method}.",
    },
    "ir.confirm.note": {
        "en": "Money moves when you confirm; a refund cannot be undone.",
        "de": "Das Geld fließt mit der Bestätigung; eine Erstattung lässt sich nicht rückgängig "
        "machen.",
    },
    "ir.button.confirm": {"en": "Yes, refund {amount}", "de": "Ja, {amount} erstatten"},
    "ir.done": {"en": "**{amount} refunded**", "de": "**{amount} erstattet**"},
    "ir.done.detail": {
        "en": "Stripe refund {refund_id} ({status}). The customer usually sees it within 5 to "
        "10 business days.",
        "de": "Stripe-Erstattung {refund_id} ({status}). Beim Kunden kommt sie meist innerhalb "
        "von 5 bis 10 Werktagen an.",
    },
    "ir.done.replayed": {
        "en": "This refund had already been made; no money moved again.",
        "de": "Diese Erstattung war bereits erfolgt; es wurde kein weiteres Geld bewegt.",
    },
    "ir.unconfirmed": {
        "en": "Stripe did not confirm the refund in time. Trying again is safe: it cannot "
        "refund twice.",
        "de": "Stripe hat die Erstattung nicht rechtzeitig bestätigt. Erneut versuchen ist "
        "sicher: doppelt erstattet wird nicht.",
    },
    "ir.button.try_again": {"en": "Try again", "de": "Erneut versuchen"},
    "ir.token_expired": {
        "en": "The confirmation has expired or is not valid. Review the refund again.",
        "de": "Die Bestätigung ist abgelaufen oder ungültig. Bitte die Erstattung erneut prüfen.",
    },
    "ir.in_progress": {
        "en": "This refund is being processed right now. Check again in a moment.",
        "de": "Diese Erstattung wird gerade ausgeführt. Bitte gleich noch einmal nachsehen.",
    },
    # Why a refund is refused, for the agent (Fin's sentences speak to the customer instead).
    "ir.refused.refund_charge_not_found": {
        "en": "This payment does not belong to this customer.",
        "de": "Diese Zahlung gehört nicht zu diesem Kunden.",
    },
    "ir.refused.refund_payment_failed": {
        "en": "This payment failed: nothing was taken, nothing to refund.",
        "de": "Diese Zahlung ist fehlgeschlagen: Es wurde nichts abgebucht.",
    },
    "ir.refused.refund_payment_not_settled": {
        "en": "This payment is still processing (SEPA takes days). Refund it once it succeeded.",
        "de": "Diese Zahlung wird noch bearbeitet (SEPA dauert Tage). Erstatten, sobald sie "
        "durchgegangen ist.",
    },
    "ir.refused.refund_disputed_payment": {
        "en": "This payment is disputed: the bank decides; a refund would pay twice.",
        "de": "Diese Zahlung ist angefochten: Die Bank entscheidet; eine Erstattung zahlte "
        "doppelt.",
    },
    "ir.refused.refunded_already": {
        "en": "This payment has been refunded in full already.",
        "de": "Diese Zahlung wurde bereits vollständig erstattet.",
    },
    "ir.refused.refund_amount_too_high": {
        "en": "More than allowed: at most {limit} can be refunded here.",
        "de": "Mehr als erlaubt: Hier können höchstens {limit} erstattet werden.",
    },
    "ir.refused.refund_charge_too_old": {
        "en": "This payment is older than {days} days; refund it in the Stripe dashboard if "
        "it must be.",
        "de": "Diese Zahlung ist älter als {days} Tage; falls nötig im Stripe-Dashboard erstatten.",
    },
    "ir.refused.refund_refused": {
        "en": "Stripe refused this refund.",
        "de": "Stripe hat diese Erstattung abgelehnt.",
    },
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
