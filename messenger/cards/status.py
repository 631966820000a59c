"""The billing status card, and the configure screen an admin picks a card on."""

from __future__ import annotations

from datetime import datetime

from billing.alerts import Alert, billing_alerts
from billing.snapshot import BillingSnapshot
from canvas_kit.components import (
    Button,
    Component,
    DataTable,
    ListComponent,
    ListItem,
    SubmitAction,
    Text,
)
from canvas_kit.labels import (
    day,
    money,
    plain_reason,
    plan_line,
    status_rows,
    subscription_line,
)
from kernel.i18n import N_, t
from messenger.cards.common import (
    add_payment_method_button,
)

CARD_TYPES = (
    "billing_status",
    "savings",
    "payment_recovery",
    "trial",
    "invoices",
    "billing_details",
    "cancel",
)
# Each card as the admin picks it: its name and what it shows.
CARD_WORDS = {
    "billing_status": (N_("Billing status"), N_("Plan, next payment, payment method")),
    "savings": (N_("Savings"), N_("Yearly billing or the next tier, when it saves money")),
    "payment_recovery": (
        N_("Payment recovery"),
        N_("Retry a failed payment or pay by card instead"),
    ),
    "trial": (N_("Trial ending"), N_("Days left, and a link to add a payment method")),
    "invoices": (N_("Invoices"), N_("Recent invoices with links to each one and its PDF")),
    "billing_details": (
        N_("Billing details"),
        N_("Tax IDs and billing address, and a link to update them"),
    ),
    "cancel": (
        N_("Cancel or pause"),
        N_("What cancelling means, offers to stay, cancel at period end"),
    ),
}


# --- configure (admin) ---
def configure_card(locale: str) -> list[Component]:
    return [
        Text(text=t("**Which billing card should this show?**", locale)),
        Text(text=t("Each customer sees their own, current data.", locale), style="muted"),
        ListComponent(
            items=[
                ListItem(
                    id=f"card:{card}",
                    title=t(CARD_WORDS[card][0], locale),
                    subtitle=t(CARD_WORDS[card][1], locale),
                    action=SubmitAction(),  # a row without one can't be picked in Intercom
                )
                for card in CARD_TYPES
            ]
        ),
    ]


# --- billing status ---
def billing_status_card(
    snapshot: BillingSnapshot,
    *,
    locale: str,
    now: datetime,
    add_payment_method_url: str | None = None,
    trial_warning_days: int = 3,
) -> list[Component]:
    sub = snapshot.subscription
    rows = status_rows(snapshot, locale, next_label=t("Next payment", locale))
    # Several live subscriptions: one line each (product · price · status), the primary first.
    plans = (
        [Text(text=subscription_line(s, locale)) for s in snapshot.live_subscriptions]
        if snapshot.several_subscriptions
        else [Text(text=plan_line(sub.plan if sub else None, locale))]
    )
    components: list[Component] = [
        Text(text=t("**Your billing**", locale)),
        *plans,
        DataTable(items=rows),
    ]
    actions = [
        line
        for alert in billing_alerts(snapshot, now, trial_warning_days=trial_warning_days)
        if (line := _customer_alert(alert, locale)) is not None
    ]
    if actions:
        components += [
            Text(text=text, style="error" if text.startswith("⚠") else "muted") for text in actions
        ]
    else:
        components.append(Text(text=t("Nothing needs your attention.", locale), style="muted"))
    if snapshot.failed_invoice is not None:
        components.append(Button(id="show:payment_recovery", label=t("Fix payment", locale)))
    # The link is only minted for a trial without a payment method (and never when ambiguous).
    if add_payment_method_url:
        components.append(add_payment_method_button(add_payment_method_url, locale))
    return components


def _customer_alert(alert: Alert, locale: str) -> str | None:
    """The alerts a customer should see, in their words (internal flags stay internal)."""
    if alert.kind == "payment_failed" and alert.payment is not None:
        payment = alert.payment
        return t(
            "⚠ Your payment of %(amount)s didn't go through: %(reason)s.",
            locale,
            amount=money(payment.amount, locale),
            reason=plain_reason(payment.failure_code, payment.failure_message, locale),
        )
    if alert.kind == "payment_processing":
        return t(
            "Your payment of %(amount)s is processing at your bank.",
            locale,
            amount=money(alert.amount, locale),
        )
    if alert.kind == "trial_ending" and alert.severity == "error":
        return t(
            "⚠ Your trial ends on %(date)s and there is no payment method on file.",
            locale,
            date=day(alert.date, locale),
        )
    if alert.kind == "card_expired":
        return t("⚠ Your card has expired.", locale)
    if alert.kind == "cancels":
        return t("Your subscription ends on %(date)s.", locale, date=day(alert.date, locale))
    return None
