"""The `cancel` card: what cancelling means (access until the period end), the offers to stay
(pause, the retention discount, a cheaper plan) and finally cancelling at the period end; a
confirm step for each choice, and what happened."""

from __future__ import annotations

from billing.cancellation import CancellationPreview, CancellationResult
from billing.cancellation_offers import Offer
from billing.snapshot import SubscriptionSummary
from canvas_kit.cancel_words import offer_label, offer_sentence, outcome_title, per
from canvas_kit.components import Button, Component, ListComponent, ListItem, SubmitAction, Text
from canvas_kit.labels import day, money, plain, status_label
from kernel.i18n import t
from messenger.cards.common import muted


def offer_id(offer: Offer) -> str:
    """The button of an offer names it and its subscription: `cancel_offer:pause:2:sub_…`."""
    months = f":{offer.months}" if offer.months else ""
    return f"cancel_offer:{offer.option}{months}:{offer.subscription_id}"


def cancel_card(preview: CancellationPreview, *, locale: str) -> list[Component]:
    sub = preview.subscription
    plan = plain(sub.plan.product_name if sub.plan else sub.id)
    offers = [signed.offer for signed in preview.offers]
    if sub.cancel_at_period_end:
        components: list[Component] = [
            Text(
                text=t(
                    "**Your subscription ends on %(date)s**",
                    locale,
                    date=day(sub.cancel_at or preview.ends_at, locale),
                )
            ),
            muted(t("%(plan)s stays active until then; it will not renew.", locale, plan=plan)),
        ]
        components += [
            Button(id=offer_id(o), label=offer_label(o, locale))
            for o in offers
            if o.option == "resume"
        ]
        return components
    components = [
        Text(text=t("**Cancel %(plan)s?**", locale, plan=plan)),
        Text(
            text=t(
                "If you cancel, your subscription ends on %(date)s. You keep everything until "
                "then, and nothing more is charged.",
                locale,
                date=day(preview.ends_at, locale),
            )
        ),
    ]
    stays = [o for o in offers if o.saves_customer]
    if stays:
        components.append(Text(text=t("**Before you go**", locale)))
        for offer in stays:
            if offer.option != "pause":
                components.append(muted(offer_sentence(offer, locale)))
        components += [Button(id=offer_id(o), label=offer_label(o, locale)) for o in stays]
    components += [
        Button(id=offer_id(o), label=offer_label(o, locale), style="secondary")
        for o in offers
        if o.option == "cancel_at_period_end"
    ]
    return components


def pick_subscription_card(
    subscriptions: tuple[SubscriptionSummary, ...], *, locale: str
) -> list[Component]:
    """Several live subscriptions: which one?"""
    return [
        Text(text=t("**Which subscription?**", locale)),
        muted(t("You have several subscriptions. Pick the one you want to change.", locale)),
        ListComponent(
            items=[
                ListItem(
                    id=f"cancel_pick:{sub.id}",
                    title=plain(sub.plan.product_name if sub.plan else sub.id),
                    subtitle=per(sub.plan.amount, sub.plan.interval, locale)
                    if sub.plan and sub.plan.amount
                    else status_label(sub, locale),
                    tertiary_text=status_label(sub, locale),
                    action=SubmitAction(),
                )
                for sub in subscriptions
            ]
        ),
    ]


def confirm_card(offer: Offer, *, locale: str, notice: str | None = None) -> list[Component]:
    components: list[Component] = [
        Text(text=t("**%(offer)s?**", locale, offer=offer_label(offer, locale)))
    ]
    if notice:
        components.append(muted(notice))
    components += [
        Text(text=offer_sentence(offer, locale)),
        Button(id="confirm_cancel", label=_confirm_label(offer, locale)),
        Button(id="back", label=t("Back", locale), style="secondary"),
    ]
    return components


def _confirm_label(offer: Offer, locale: str) -> str:
    if offer.option == "cancel_at_period_end":
        return t("Yes, cancel at period end", locale)
    if offer.option == "resume":
        return t("Yes, keep my subscription", locale)
    return t("Confirm", locale)


def result_card(result: CancellationResult, *, locale: str) -> list[Component]:
    offer = result.offer
    components: list[Component] = [
        Text(text=t("**%(outcome)s**", locale, outcome=outcome_title(offer, locale)))
    ]
    if offer.option == "cancel_at_period_end":
        components.append(
            Text(
                text=t(
                    "Until then, everything works as before. Changed your mind? You can keep your subscription here.",
                    locale,
                )
            )
        )
        components.append(
            Button(
                id=f"cancel_offer:resume:{offer.subscription_id}",
                label=t("Keep my subscription", locale),
                style="secondary",
            )
        )
    elif offer.option == "pause":
        components.append(
            Text(text=t("No payments until then; your subscription stays active.", locale))
        )
    elif offer.option == "coupon":
        components.append(Text(text=t("Thank you for staying with us.", locale)))
    elif offer.option == "plan_switch" and offer.credit is not None:
        components.append(
            Text(
                text=t(
                    "The unused time on %(plan)s is credited to your account: %(credit)s.",
                    locale,
                    plan=plain(offer.plan_name or ""),
                    credit=money(offer.credit, locale),
                )
            )
        )
    elif offer.option == "resume":
        components.append(Text(text=t("Nothing changes: it renews as before.", locale)))
    return components


def not_available_card(*, locale: str) -> list[Component]:
    return [
        Text(text=t("**That option no longer applies**", locale)),
        Text(
            text=t(
                "Your subscription changed in the meantime, so nothing was changed. Here are "
                "your options as they are now.",
                locale,
            ),
            style="muted",
        ),
        Button(id="back", label=t("Show options", locale)),
    ]


def rejected_card(*, locale: str) -> list[Component]:
    return [
        Text(text=t("**That didn't go through**", locale)),
        Text(
            text=t(
                "Nothing was changed. Reply here and our team will help.",
                locale,
            ),
            style="error",
        ),
        Button(id="back", label=t("Back", locale), style="secondary"),
    ]


def in_progress_card(*, locale: str) -> list[Component]:
    return [
        Text(text=t("**We're on it**", locale)),
        muted(t("Your change is being made right now.", locale)),
        # Confirming the same token again shows how it ended (never a second change).
        Button(id="confirm_cancel", label=t("Refresh", locale)),
    ]


def no_subscription_card(*, locale: str) -> list[Component]:
    return [
        Text(text=t("**No active subscription**", locale)),
        muted(t("There is no subscription to cancel. Reply here if we can help.", locale)),
    ]
