"""What Fin is told about a customer's several subscriptions: each as a response part and in a
sentence, and the question which one (409 `subscription_required`). Pure, like
`actions.answers`."""

from __future__ import annotations

from actions.messages import say
from actions.outputs import money_out, plan_out, price_text
from actions.schemas import NextPaymentOut, SubscriptionChoiceOut, SubscriptionOut
from billing.money import format_day
from billing.snapshot import BillingSnapshot, SubscriptionSummary, subscription_name
from kernel.i18n import join_words


def subscriptions_out(snapshot: BillingSnapshot, locale: str) -> list[SubscriptionOut]:
    """Every live subscription, the primary one first."""
    return [_subscription_out(sub, snapshot, locale) for sub in snapshot.live_subscriptions]


def subscription_sentences(snapshot: BillingSnapshot, locale: str) -> str:
    """Each live subscription in a sentence ("Your Pro subscription costs …"), for a customer
    with several; empty for one."""
    if not snapshot.several_subscriptions:
        return ""
    return " ".join(_sentence(sub, snapshot, locale) for sub in snapshot.live_subscriptions)


def subscription_choices(
    choices: tuple[SubscriptionSummary, ...], locale: str
) -> tuple[str, list[SubscriptionChoiceOut]]:
    """409 `subscription_required`: the question Fin relays, and the subscriptions to pick."""
    names = [subscription_name(s, choices) for s in choices]
    listed = [
        SubscriptionChoiceOut(
            id=s.id,
            product=s.plan.product_name if s.plan else s.id,
            price=money_out(s.plan.amount, locale) if s.plan and s.plan.amount else None,
            interval=s.plan.interval if s.plan else None,
            status=s.status,
        )
        for s in choices
    ]
    message = say("codes/subscription_required", locale, names=join_words(names, locale))
    return message, listed


def _subscription_out(
    sub: SubscriptionSummary, snapshot: BillingSnapshot, locale: str
) -> SubscriptionOut:
    upcoming = snapshot.next_invoice_of(sub.id)
    return SubscriptionOut(
        id=sub.id,
        plan=plan_out(sub.plan, locale),
        add_on=sub.add_on,
        status=sub.status,
        trial_end=sub.trial_end,
        cancel_at_period_end=sub.cancel_at_period_end,
        current_period_end=sub.current_period_end,
        next_payment=NextPaymentOut(
            amount=money_out(upcoming.amount_due, locale), date=upcoming.date
        )
        if upcoming
        else None,
    )


def _sentence(sub: SubscriptionSummary, snapshot: BillingSnapshot, locale: str) -> str:
    plan = sub.plan
    upcoming = snapshot.next_invoice_of(sub.id)
    renews = upcoming.date if upcoming and upcoming.date else sub.current_period_end
    ends = sub.cancel_at or sub.current_period_end
    return say(
        "subscription_line",
        locale,
        subscription=subscription_name(sub, snapshot.live_subscriptions),
        price=price_text(plan, locale),
        interval=plan.interval if plan else None,
        status=sub.status,
        trial_end=format_day(sub.trial_end, locale) if sub.trial_end else None,
        cancels=sub.cancel_at_period_end,
        ends=format_day(ends, locale) if ends else None,
        renews=format_day(renews, locale) if renews else None,
    )
