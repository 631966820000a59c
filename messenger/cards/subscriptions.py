"""A customer with several live subscriptions: which one a card is about. The savings card asks
first when more than one has a saving (a button each, then the usual flow for the one chosen);
the other cards name the subscription they act on."""

from __future__ import annotations

from billing.savings import SavingsOption
from billing.snapshot import SubscriptionSummary, subscription_name
from canvas_kit.components import Button, Component, Text
from canvas_kit.labels import money
from kernel.i18n import t
from messenger.cards.common import muted

# A button "<prefix><subscription id>" picks that subscription; the bare prefix asks again.
CHOOSE_SUBSCRIPTION = "subscription:"


def choose_savings_card(
    options: tuple[tuple[SubscriptionSummary, SavingsOption], ...], *, locale: str
) -> list[Component]:
    among = tuple(sub for sub, _option in options)
    return [
        Text(text=t("**You could save on more than one subscription**", locale)),
        muted(t("Which one would you like to look at?", locale)),
        *(
            Button(
                id=f"{CHOOSE_SUBSCRIPTION}{sub.id}",
                label=t(
                    "%(name)s: save %(per_year)s a year",
                    locale,
                    name=subscription_name(sub, among),
                    per_year=money(option.saving_per_year, locale),
                ),
                style="secondary",
            )
            for sub, option in options
        ),
    ]


def for_subscription(name: str | None, locale: str) -> list[Component]:
    """ "For your Pro subscription", under a card's header, when the customer has several."""
    if name is None:
        return []
    return [muted(t("For your %(name)s subscription", locale, name=name))]


def other_subscription_button(locale: str) -> Button:
    return Button(
        id=CHOOSE_SUBSCRIPTION, label=t("Another subscription", locale), style="secondary"
    )
