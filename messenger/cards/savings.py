"""The savings card: the saving on offer, how it was calculated, Stripe's quote and the switch."""

from __future__ import annotations

from billing.money import Money
from billing.plan_switch import SWITCHABLE_STATUSES, PlanSwitchResult
from billing.quotes import PlanChangeQuote
from billing.savings import SavingsOption
from billing.snapshot import BillingSnapshot, SubscriptionSummary
from canvas_kit.components import (
    Button,
    Component,
    DataTable,
    FieldValue,
    Text,
)
from canvas_kit.labels import (
    day,
    interval_word,
    money,
    plain_reason,
)
from kernel.i18n import t
from messenger.cards.common import (
    count_label,
    muted,
    unavailable_card,
)
from messenger.cards.subscriptions import for_subscription, other_subscription_button


# --- savings ---
def target_label(option: SavingsOption | PlanChangeQuote, locale: str) -> str:
    """ "Pro, yearly" for an interval change, the product name for another tier."""
    if isinstance(option, SavingsOption):
        name, interval = option.target.product_name, option.target.interval
        same_product = option.kind == "yearly"
    else:
        name, interval = option.target.product_name, option.target.interval
        same_product = option.kind == "interval_change"
    if same_product and interval == "year":
        return t("%(plan)s, yearly", locale, plan=name)
    return name


def savings_card(
    snapshot: BillingSnapshot,
    option: SavingsOption | None,
    *,
    locale: str,
    subscription: SubscriptionSummary | None = None,
    name: str | None = None,
    choose_again: bool = False,
) -> list[Component]:
    """`subscription`: the one the card is about (by default the primary one); `name` names it
    when the customer has several; `choose_again`: others have a saving too (a way back)."""
    sub = subscription or snapshot.subscription
    named = for_subscription(name, locale)
    again = [other_subscription_button(locale)] if choose_again else []
    if sub is not None and sub.live and sub.status not in SWITCHABLE_STATUSES:
        # past_due, unpaid, ...: the open payment comes first; no offer until it is settled.
        components: list[Component] = [
            Text(text=t("**Settle your open payment first**", locale)),
            Text(
                text=t(
                    "Your subscription has a payment outstanding, so the plan can't be changed right "
                    "now. Once it is paid, you can switch here.",
                    locale,
                )
            ),
        ]
        if snapshot.failed_invoice is not None:
            components.append(Button(id="show:payment_recovery", label=t("Fix payment", locale)))
        return components
    if option is None:
        if sub is None or not sub.live or sub.plan is None:
            return [
                Text(text=t("**Your plan fits**", locale)),
                muted(t("You don't have an active plan we could compare.", locale)),
            ]
        return [
            Text(text=t("**Your plan fits**", locale)),
            *named,
            Text(
                text=t(
                    "At your current usage, %(plan)s is already the best value for you. There is "
                    "nothing to save right now.",
                    locale,
                    plan=sub.plan.product_name,
                )
            ),
            *again,
        ]
    values = {
        "plan": option.current.product_name,
        "target": option.target.product_name,
        "per_month": money(option.saving_per_month, locale),
        "per_year": money(option.saving_per_year, locale),
    }
    return [
        Text(text=t("**Save %(per_year)s a year**", locale, per_year=values["per_year"])),
        *named,
        Text(text=_saving_sentence(option.kind, locale, values)),
        Button(
            id="switch_plan",
            label=t("Switch to %(plan)s", locale, plan=target_label(option, locale)),
        ),
        Button(id="show_savings", label=t("Show me", locale), style="secondary"),
        *again,
    ]


def _saving_sentence(kind: str, locale: str, values: dict[str, str]) -> str:
    if kind == "yearly":
        return t(
            "Pay for %(plan)s yearly instead of monthly: %(per_month)s less per month, "
            "%(per_year)s less per year.",
            locale,
            **values,
        )
    return t(
        "At your current usage, %(target)s costs less than %(plan)s plus usage charges: "
        "%(per_month)s less per month, %(per_year)s less per year.",
        locale,
        **values,
    )


def savings_breakdown_card(
    option: SavingsOption, *, locale: str, name: str | None = None
) -> list[Component]:
    if option.kind == "yearly":
        current_amount = option.current.amount or option.current_per_month
        rows = [
            FieldValue(
                field=t("%(plan)s, monthly", locale, plan=option.current.product_name),
                value=t(
                    "12 × %(amount)s = %(total)s",
                    locale,
                    amount=money(current_amount, locale),
                    total=money(Money(current_amount.amount * 12, current_amount.currency), locale),
                ),
            ),
            FieldValue(
                field=t("%(plan)s, yearly", locale, plan=option.target.product_name),
                value=t("%(amount)s / year", locale, amount=money(option.target.amount, locale)),
            ),
        ]
    else:
        usage = option.usage
        used = count_label(usage.used if usage else 0, locale)
        rows = [
            FieldValue(
                field=t("%(plan)s", locale, plan=option.current.product_name),
                value=t("%(amount)s / month", locale, amount=money(option.current.amount, locale)),
            ),
            FieldValue(
                field=t(
                    "Usage: %(used)s of %(included)s included",
                    locale,
                    used=used,
                    included=count_label(usage.included if usage else 0, locale),
                ),
                value=t("%(amount)s / month", locale, amount=money(option.current_overage, locale)),
            ),
            FieldValue(
                field=t("%(plan)s", locale, plan=option.target.product_name),
                value=t("%(amount)s / month", locale, amount=money(option.target.amount, locale)),
            ),
            FieldValue(
                field=t(
                    "Usage: %(used)s of %(included)s included",
                    locale,
                    used=used,
                    included=count_label(option.target.included_units or 0, locale),
                ),
                value=t("%(amount)s / month", locale, amount=money(option.target_overage, locale)),
            ),
        ]
    rows.append(
        FieldValue(
            field=t("You save", locale),
            value=t(
                "%(per_year)s / year (%(per_month)s / month)",
                locale,
                per_year=money(option.saving_per_year, locale),
                per_month=money(option.saving_per_month, locale),
            ),
        )
    )
    return [
        Text(text=t("**How we calculated it**", locale)),
        *for_subscription(name, locale),
        DataTable(items=rows),
        muted(
            t(
                "Based on your usage so far this period. The exact quote comes from Stripe before "
                "anything changes.",
                locale,
            )
        ),
        Button(
            id="switch_plan",
            label=t("Switch to %(plan)s", locale, plan=target_label(option, locale)),
        ),
        Button(id="back", label=t("Back", locale), style="secondary"),
    ]


def quote_card(
    quote: PlanChangeQuote, *, locale: str, notice: str | None = None, name: str | None = None
) -> list[Component]:
    """The confirm step; `name` names the subscription that changes, when there are several."""
    interval = interval_word(quote.target.interval, locale)
    components: list[Component] = [
        Text(text=t("**Switch to %(plan)s**", locale, plan=target_label(quote, locale))),
        *for_subscription(name, locale),
    ]
    if notice:
        components.append(Text(text=notice, style="muted"))
    components += [
        DataTable(
            items=[
                FieldValue(field=t("Charged now", locale), value=money(quote.amount_now, locale)),
                FieldValue(
                    field=t("New price", locale),
                    value=_per(money(quote.new_recurring, locale), interval, locale),
                ),
                FieldValue(field=t("Effective", locale), value=day(quote.effective_date, locale)),
            ]
        ),
        muted(
            t(
                "Stripe's exact calculation, including credit for the unused time on your current "
                "plan.",
                locale,
            )
        ),
        Button(id="confirm_switch", label=t("Confirm switch", locale)),
        Button(id="back", label=t("Cancel", locale), style="secondary"),
    ]
    return components


def switch_result_card(result: PlanSwitchResult, *, locale: str) -> list[Component]:
    quote = result.quote
    if result.kind in ("switched", "already_switched"):
        interval = interval_word(quote.target.interval, locale)
        components: list[Component] = [
            Text(text=t("**You're now on %(plan)s**", locale, plan=target_label(quote, locale)))
        ]
        # "Charged" only for money Stripe collected: the switch's invoice is paid.
        if result.kind == "switched" and result.charged is not None:
            components.append(
                Text(
                    text=t(
                        "We charged %(amount)s today.", locale, amount=money(result.charged, locale)
                    )
                )
            )
        elif result.kind == "switched" and result.payment_open is not None:
            components.append(
                Text(
                    text=t(
                        "Your payment of %(amount)s is still being processed.",
                        locale,
                        amount=money(result.payment_open, locale),
                    )
                )
            )
        if result.next_renewal is not None:
            components.append(
                Text(
                    text=t(
                        "Your new price is %(price)s, next due on %(date)s.",
                        locale,
                        price=_per(money(quote.new_recurring, locale), interval, locale),
                        date=day(result.next_renewal, locale),
                    )
                )
            )
        return components
    if result.kind == "unavailable":
        return unavailable_card(locale=locale, retry_id="confirm_switch")
    # Stripe's own words (`result.message`) are for logs and agents; the customer reads ours.
    failed = result.kind in ("payment_failed", "rejected", "not_switchable")
    if result.kind == "in_progress":
        notice = t("Your switch is already being processed.", locale)
    elif result.kind == "payment_failed":
        notice = t(
            "Your payment of %(amount)s didn't go through (%(reason)s), so your plan did not "
            "change: you stay on %(plan)s. Nothing was charged.",
            locale,
            amount=money(result.payment_open or quote.amount_now, locale),
            reason=plain_reason(result.failure_code, None, locale),
            plan=quote.current.product_name,
        )
    elif result.kind == "rejected":
        notice = t(
            "The switch didn't go through, so your plan did not change: you stay on %(plan)s. "
            "Nothing was charged. Reply here and our team will help.",
            locale,
            plan=quote.current.product_name,
        )
    elif result.kind == "not_switchable":
        notice = t(
            "Your subscription has a payment outstanding, so the plan can't be changed right "
            "now. Once it is paid, you can switch here.",
            locale,
        )
    else:
        notice = t(
            "Your plan changed in the meantime, so this quote no longer applies. Nothing was "
            "changed.",
            locale,
        )
    answer: list[Component] = [
        Text(text=t("**Switch to %(plan)s**", locale, plan=target_label(quote, locale))),
        Text(text=notice, style="error" if failed else "muted"),
    ]
    if result.kind == "in_progress":
        # Confirming the same quote again shows how that switch ended (never a second one).
        answer.append(Button(id="confirm_switch", label=t("Refresh", locale)))
    answer.append(Button(id="back", label=t("Back", locale), style="secondary"))
    return answer


def _per(amount: str, interval: str, locale: str) -> str:
    return t("%(amount)s / %(interval)s", locale, amount=amount, interval=interval)
