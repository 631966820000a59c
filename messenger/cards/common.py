"""What every Messenger card may show: who the customer is, Stripe being away, work in progress."""

from __future__ import annotations

from babel.numbers import format_decimal

from billing.money import babel_locale
from canvas_kit.components import (
    Button,
    Component,
    Text,
    UrlAction,
)
from kernel.i18n import t


# --- who is the customer, and Stripe being away ---
def no_match_card(*, locale: str) -> list[Component]:
    return [
        Text(text=t("**We couldn't find your billing account**", locale)),
        muted(t("Reply here and our team will help.", locale)),
    ]


def sign_in_card(*, locale: str) -> list[Component]:
    """For a lead or a visitor: nothing about any customer, only how to see their billing."""
    return [
        Text(text=t("**Sign in to see your billing**", locale)),
        muted(
            t(
                "Once you're logged in to your account, your plan, invoices and payments show up "
                "here. Or just ask us in the chat — we're happy to help.",
                locale,
            )
        ),
    ]


def ambiguous_card(*, locale: str) -> list[Component]:
    return [
        Text(text=t("**Please contact support**", locale)),
        muted(
            t(
                "Several billing accounts use your email address, so payments can't be changed "
                "from here. Reply here and our team will sort it out.",
                locale,
            )
        ),
    ]


def unavailable_card(*, locale: str, retry_id: str = "refresh") -> list[Component]:
    return [
        Text(text=t("**We couldn't reach the payment provider**", locale)),
        Text(text=t("Nothing was charged. Please try again in a moment.", locale)),
        Button(id=retry_id, label=t("Try again", locale)),
    ]


def working_card(*, locale: str) -> list[Component]:
    """A money action still running when Intercom's patience ends: the work goes on, and the
    live canvas shows its outcome on the next view (or Refresh)."""
    return [
        Text(text=t("**We're on it: processing**", locale)),
        Text(
            text=t(
                "The payment provider is taking longer than usual. This card updates with the "
                "outcome; nothing is charged twice.",
                locale,
            ),
            style="muted",
        ),
        Button(id="refresh", label=t("Refresh", locale), style="secondary"),
    ]


def add_payment_method_button(url: str, locale: str) -> Button:
    return Button(
        id="add_payment_method",
        label=t("Add a payment method", locale),
        action=UrlAction(url=url),
    )


def muted(text: str) -> Text:
    return Text(text=text, style="muted")


def count_label(value: int, locale: str) -> str:
    return format_decimal(value, locale=babel_locale(locale))
