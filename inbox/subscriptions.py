"""A customer with several live subscriptions in the sidebar: one line each in the summary
(product · price / interval · status, within Intercom's ~400 px first canvas), and a section per
subscription in the details (status, period end, cancel at period end, trial end, its own next
invoice). A customer with one subscription keeps the single-plan layout of `inbox.cards`."""

from __future__ import annotations

from billing.snapshot import BillingSnapshot, SubscriptionSummary
from canvas_kit.components import Component, DataTable, Divider, FieldValue, Text
from canvas_kit.labels import day, money, status_label, subscription_line
from kernel.i18n import t

# More lines would push the buttons below the first-canvas cut; the details list them all.
MAX_SUMMARY_LINES = 3


def summary_lines(snapshot: BillingSnapshot, locale: str) -> list[Component]:
    """One line per live subscription, the primary one first (at most `MAX_SUMMARY_LINES`)."""
    live = snapshot.live_subscriptions
    shown = live if len(live) <= MAX_SUMMARY_LINES else live[: MAX_SUMMARY_LINES - 1]
    lines: list[Component] = [Text(text=subscription_line(sub, locale)) for sub in shown]
    if len(shown) < len(live):
        lines.append(
            Text(
                text=t(
                    "+ %(count)s more subscriptions (see Details)",
                    locale,
                    count=len(live) - len(shown),
                ),
                style="muted",
            )
        )
    return lines


def details_sections(snapshot: BillingSnapshot, locale: str) -> list[Component]:
    """A section per live subscription: its name and id, then its facts."""
    components: list[Component] = []
    for sub in snapshot.live_subscriptions:
        name = sub.plan.product_name if sub.plan else sub.id
        components += [
            Text(text=f"**{name}** · {sub.id}"),
            DataTable(items=_facts(sub, snapshot, locale)),
        ]
    return [*components, Divider()] if components else []


def _facts(sub: SubscriptionSummary, snapshot: BillingSnapshot, locale: str) -> list[FieldValue]:
    rows = [FieldValue(field=t("Status", locale), value=status_label(sub, locale))]
    if sub.current_period_end is not None:
        rows.append(
            FieldValue(field=t("Period end", locale), value=day(sub.current_period_end, locale))
        )
    rows.append(
        FieldValue(
            field=t("Cancels at period end", locale),
            value=t("Yes", locale) if sub.cancel_at_period_end else t("No", locale),
        )
    )
    if sub.trial_end is not None and sub.status == "trialing":
        rows.append(FieldValue(field=t("Trial ends", locale), value=day(sub.trial_end, locale)))
    upcoming = snapshot.next_invoice_of(sub.id)
    if upcoming is not None:
        rows.append(
            FieldValue(
                field=t("Next invoice", locale),
                value=t(
                    "%(amount)s on %(date)s",
                    locale,
                    amount=money(upcoming.amount_due, locale),
                    date=day(upcoming.date, locale),
                ),
            )
        )
    return rows
