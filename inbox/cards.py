"""The Inbox sidebar cards: summary (the compact first view, under Intercom's ~400 px cut),
details, customer picker, no match, and "temporarily unavailable"; how the customer was matched
and the identity check a money action asks for when that match is by email alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.numbers import format_decimal

from billing.alerts import billing_alerts
from billing.money import babel_locale
from billing.resolution import ContactIdentity
from billing.snapshot import LIVE_STATUSES, BillingSnapshot
from billing.trust import MATCH_KINDS, is_verified
from canvas_kit.components import (
    Button,
    Canvas,
    Checkbox,
    Component,
    DataTable,
    Divider,
    FieldValue,
    ListComponent,
    ListItem,
    Option,
    Spacer,
    Text,
    canvas,
)
from canvas_kit.labels import (
    alert_text,
    day,
    money,
    payment_status_label,
    plain,
    plan_line,
    status_rows,
)
from inbox import subscriptions
from kernel.i18n import N_, join_words, t

MAX_SUMMARY_ALERTS = 2  # more would push the buttons below Intercom's first-canvas cut
# The identity check of a money action on a customer matched by email alone: a checkbox whose
# one option must be ticked when the action is confirmed (the server checks it).
IDENTITY_INPUT = "identity_verified"
IDENTITY_CONFIRMED = "confirmed"

# How the customer was matched, and what was searched for (`billing.trust`, `ContactIdentity`).
MATCH_WORDS = {
    "stripe_id": N_("Linked by stripe_id"),
    "user_id": N_("By user ID"),
    "email": N_("By email — not verified"),
}
SEARCHED_WORDS = {
    "stripe_id": N_("stripe_id %(value)s"),
    "user_id": N_("user ID %(value)s"),
    "email": N_("email %(value)s"),
}


def summary_card(
    snapshot: BillingSnapshot,
    *,
    locale: str,
    now: datetime,
    stored_data: dict[str, Any],
    actions: list[Button] | None = None,
    other_matches: bool = False,
    trial_warning_days: int = 3,
    usage_high_ratio: float = 0.8,
    match: str | None = None,
) -> Canvas:
    """`match`: how the customer was matched (`billing.trust`); a match by email alone takes
    the place of one alert in the first view (the details always say how it was matched)."""
    sub = snapshot.subscription
    rows = status_rows(snapshot, locale, next_label=t("Next invoice", locale), short_method=True)

    components: list[Component] = (
        subscriptions.summary_lines(snapshot, locale)
        if snapshot.several_subscriptions
        else [Text(text=plan_line(sub.plan if sub else None, locale), style="header")]
    )
    components.append(DataTable(items=rows))
    alerts = billing_alerts(
        snapshot, now, trial_warning_days=trial_warning_days, usage_high_ratio=usage_high_ratio
    )
    shown_alerts = MAX_SUMMARY_ALERTS
    if match in MATCH_KINDS and not is_verified(match):
        components.append(Text(text=t("⚠ Matched by email — not verified", locale), style="error"))
        shown_alerts -= 1
    for alert in alerts[:shown_alerts]:
        components.append(
            Text(
                text=alert_text(alert, locale),
                style="error" if alert.severity == "error" else "muted",
            )
        )
    components.append(Button(id="details", label=t("Details", locale), style="secondary"))
    components.extend(actions or [])
    if other_matches:
        components.append(
            Button(id="pick_other", label=t("Other matching customer", locale), style="link")
        )
    return canvas(*components, stored_data={**stored_data, "view": "summary"})


def details_card(
    snapshot: BillingSnapshot,
    *,
    locale: str,
    dashboard_url: str,
    stored_data: dict[str, Any],
    actions: list[Button] | None = None,
    match: str | None = None,
    sections: list[Component] | None = None,
) -> Canvas:
    """`sections`: the features' own parts (invoices, billing details), after the payments."""
    components: list[Component] = (
        subscriptions.details_sections(snapshot, locale) if snapshot.several_subscriptions else []
    )
    components.append(Text(text=t("**Last payments**", locale)))
    if snapshot.last_payments:
        components.append(
            DataTable(
                items=[
                    FieldValue(
                        field=day(p.created, locale),
                        value=t(
                            "%(amount)s · %(status)s",
                            locale,
                            amount=money(p.amount, locale),
                            status=payment_status_label(p, locale),
                        ),
                    )
                    for p in snapshot.last_payments
                ]
            )
        )
    else:
        components.append(Text(text=t("No payments yet", locale), style="muted"))

    components += sections or []

    customer = snapshot.customer
    rows = [FieldValue(field=t("Balance", locale), value=balance_label(snapshot, locale))]
    if snapshot.lifetime_value is None:
        # A long history is still being added up (billing.lookup); a later render shows it.
        ltv = t("being calculated…", locale)
    else:
        ltv = " + ".join(money(m, locale) for m in snapshot.lifetime_value) or money(
            snapshot.ltv_in(customer.currency), locale
        )
    rows.append(FieldValue(field=t("Lifetime value", locale), value=ltv))
    if snapshot.usage:
        usage = snapshot.usage
        rows.append(
            FieldValue(
                field=t("Usage", locale),
                value=t(
                    "%(used)s / %(limit)s (%(percent)s %%)",
                    locale,
                    used=format_decimal(round(usage.used), locale=babel_locale(locale)),
                    limit=format_decimal(usage.limit, locale=babel_locale(locale)),
                    percent=round(usage.ratio * 100),
                ),
            )
        )
    rows.append(FieldValue(field=t("Customer since", locale), value=day(customer.created, locale)))
    rows.append(FieldValue(field=t("Customer", locale), value=customer.id))
    if match in MATCH_KINDS:
        rows.append(FieldValue(field=t("Matched", locale), value=t(MATCH_WORDS[match], locale)))
    components += [
        Divider(),
        DataTable(items=rows),
        Text(text=t("[Open in Stripe](%(url)s)", locale, url=dashboard_url)),
        Spacer(size="s"),
        *(actions or []),
        Button(id="summary", label=t("Back", locale), style="secondary"),
    ]
    return canvas(*components, stored_data={**stored_data, "view": "details"})


def balance_label(snapshot: BillingSnapshot, locale: str) -> str:
    balance = snapshot.customer.balance
    if balance.amount < 0:
        return t("%(amount)s credit", locale, amount=money(-balance, locale))
    if balance.amount > 0:
        return t("%(amount)s owed", locale, amount=money(balance, locale))
    return t("%(amount)s", locale, amount=money(balance, locale))


def picker_card(customers: list[Any], *, locale: str, stored_data: dict[str, Any]) -> Canvas:
    items = []
    for customer in customers:
        subs = getattr(customer, "subscriptions", None)
        live = [s for s in (subs.data if subs else []) if s.status in LIVE_STATUSES]
        plan = ", ".join(f"{s.status}" for s in live) or t("No subscription", locale)
        items.append(
            ListItem(
                id=f"pick:{customer.id}",
                title=customer.name or customer.email or customer.id,
                subtitle=t("%(email)s · %(plan)s", locale, email=customer.email or "—", plan=plan),
                tertiary_text=customer.id,
            )
        )
    return canvas(
        Text(text=t("**%(count)s Stripe customers match**", locale, count=len(customers))),
        Text(text=t("Pick the right one for this conversation.", locale), style="muted"),
        ListComponent(items=items[:10]),
        stored_data={**stored_data, "view": "pick"},
    )


def no_match_card(identity: ContactIdentity, *, locale: str) -> Canvas:
    # What the contact carries is whatever a visitor typed: shown literally, never as Markdown.
    searched = [
        t(SEARCHED_WORDS[kind], locale, value=plain(value)) for kind, value in identity.searched()
    ]
    lines: list[Component] = [Text(text=t("**No Stripe customer found**", locale))]
    if searched:
        lines.append(
            Text(text=t("Searched for %(what)s.", locale, what=join_words(searched, locale)))
        )
    else:
        lines.append(
            Text(text=t("This contact has no email, user ID or stripe_id to search for.", locale))
        )
    lines.append(
        Text(
            text=t("Set the contact's stripe_id attribute to link a customer.", locale),
            style="muted",
        )
    )
    lines.append(Button(id="retry", label=t("Retry", locale), style="secondary"))
    return canvas(*lines, stored_data={"view": "nomatch"})


def unavailable_card(*, locale: str, stored_data: dict[str, Any]) -> Canvas:
    return canvas(
        Text(text=t("**Billing data temporarily unavailable**", locale)),
        Text(text=t("Stripe did not answer in time. Nothing was changed.", locale), style="muted"),
        Button(id="retry", label=t("Retry", locale)),
        stored_data={**stored_data, "view": "unavailable"},
    )


def problem_card(message: str, *, locale: str, stored_data: dict[str, Any]) -> Canvas:
    """An action that Stripe refused (or whose customer changed): the reason and a way back."""
    return canvas(
        Text(text=t("**That didn't work**", locale)),
        Text(text=plain(message), style="muted"),
        Button(id="summary", label=t("Back", locale), style="secondary"),
        stored_data={**stored_data, "view": "problem"},
    )


def identity_check(
    locale: str, *, required: bool = False, confirmed: bool = False
) -> list[Component]:
    """Before a money action on a customer matched by email alone: why, and the box the agent
    ticks ("I have verified this customer's identity"). `required`: the last press came without
    it (nothing moved); `confirmed`: keep it ticked (a "try again" after a confirmed press)."""
    return [
        Text(
            text=t(
                "Confirm the customer's identity first: nothing was charged or refunded."
                if required
                else (
                    "This customer was matched by email only, and anyone can type an email into the "
                    "Messenger. Check who you're talking to before money moves."
                ),
                locale,
            ),
            style="error" if required else "muted",
        ),
        Checkbox(
            id=IDENTITY_INPUT,
            label=t("Identity", locale),
            option=[
                Option(
                    id=IDENTITY_CONFIRMED,
                    text=t("I have verified this customer's identity", locale),
                )
            ],
            value=[IDENTITY_CONFIRMED] if confirmed else None,
        ),
    ]


def identity_confirmed(input_values: dict[str, Any]) -> bool:
    """Whether the agent ticked the identity check in the canvas they submitted."""
    value = input_values.get(IDENTITY_INPUT)
    return isinstance(value, list) and IDENTITY_CONFIRMED in value
