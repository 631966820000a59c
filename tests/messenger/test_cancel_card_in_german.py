"""The `cancel` card's outcomes in German, as a customer reads them: formally ("Sie", the default
GERMAN_ADDRESS) or informally ("du"), word for word from the catalogues, with no English left."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from billing.money import format_day
from tests.messenger.driver import Messenger, visible

SUB = "sub_DemoHealthy"
ADDRESSES = ("sie", "du")
# Words of the English msgids of the cancel flow; none belongs on a German card.
ENGLISH = re.compile(
    r"\b(you|your|month|months|until|subscription|confirm|back|cancel|keep|thank|paused|off|"
    r"instead|nothing|changes|renews|period|ends|the)\b",
    re.IGNORECASE,
)


class GermanCustomer:
    """A German customer with the healthy subscription, addressed as `address` says."""

    def __init__(self, messenger: Messenger, address: str) -> None:
        self.messenger = messenger
        self.address = address

    def choose(self, component_id: str, card: dict[str, Any] | None = None) -> dict[str, Any]:
        """Press `component_id` on `card` (the cancel card by default), then confirm."""
        card = card or self.messenger.initialize("healthy", "cancel", locale="de")
        confirm = self.messenger.press("healthy", card, component_id, locale="de")
        assert_german(confirm)
        done = self.messenger.press("healthy", confirm, "confirm_cancel", locale="de")
        assert_german(done)
        return done

    def subscription(self) -> dict[str, Any]:
        return self.messenger.stripe_get(f"/v1/subscriptions/{SUB}")


@pytest.fixture(params=ADDRESSES)
def german(
    request: pytest.FixtureRequest, start_messenger: Callable[..., Messenger]
) -> GermanCustomer:
    """The app once with the formal address (the default setting), once with the informal."""
    messenger = start_messenger(retention_coupon="RETENTION20", german_address=request.param)
    return GermanCustomer(messenger, request.param)


def assert_german(body: dict[str, Any]) -> None:
    text = visible(body)
    assert not ENGLISH.findall(text), text


def german_day(unix: int) -> str:
    return format_day(datetime.fromtimestamp(unix, UTC), "de")


def test_a_pause_is_told_in_german(german: GermanCustomer) -> None:
    done = german.choose(f"cancel_offer:pause:2:{SUB}")

    resumes = german_day(german.subscription()["pause_collection"]["resumes_at"])
    your = {"sie": "Ihr", "du": "dein"}[german.address]
    assert visible(done).splitlines() == [
        f"**Pausiert bis {resumes}**",
        f"Bis dahin keine Zahlungen; {your} Abonnement bleibt aktiv.",
    ]


def test_the_discount_is_told_in_german_with_the_new_price(german: GermanCustomer) -> None:
    done = german.choose(f"cancel_offer:coupon:{SUB}")

    thanks = {
        "sie": "Danke, dass Sie bei uns bleiben.",
        "du": "Danke, dass du bei uns bleibst.",
    }[german.address]
    assert visible(done).splitlines() == [
        "**20 % Rabatt für 3 Monate: 63,20 € / Monat**",
        thanks,
    ]
    assert len(german.subscription()["discounts"]) == 1


def test_cancelling_at_the_period_end_is_told_in_german(german: GermanCustomer) -> None:
    done = german.choose(f"cancel_offer:cancel_at_period_end:{SUB}")

    subscription = german.subscription()
    ends = german_day(subscription["items"]["data"][0]["current_period_end"])
    expected = {
        "sie": [
            f"**Ihr Abonnement endet am {ends}**",
            "Bis dahin funktioniert alles wie bisher. Sie haben es sich anders überlegt? Hier "
            "können Sie Ihr Abonnement behalten.",
            "[Abonnement behalten]",
        ],
        "du": [
            f"**Dein Abonnement endet am {ends}**",
            "Bis dahin funktioniert alles wie bisher. Du hast es dir anders überlegt? Hier "
            "kannst du dein Abonnement behalten.",
            "[Abonnement behalten]",
        ],
    }[german.address]
    assert visible(done).splitlines() == expected
    assert subscription["cancel_at_period_end"] is True


def test_keeping_the_subscription_is_told_in_german(german: GermanCustomer) -> None:
    cancelled = german.choose(f"cancel_offer:cancel_at_period_end:{SUB}")

    kept = german.choose(f"cancel_offer:resume:{SUB}", cancelled)

    title = {
        "sie": "**Ihr Abonnement läuft weiter**",
        "du": "**Dein Abonnement läuft weiter**",
    }[german.address]
    assert visible(kept).splitlines() == [
        title,
        "Es ändert sich nichts: Es verlängert sich wie bisher.",
    ]
    assert german.subscription()["cancel_at_period_end"] is False


def test_the_confirm_steps_speak_german(german: GermanCustomer) -> None:
    card = german.messenger.initialize("healthy", "cancel", locale="de")

    pause = german.messenger.press("healthy", card, f"cancel_offer:pause:2:{SUB}", locale="de")
    leave = german.messenger.press(
        "healthy", card, f"cancel_offer:cancel_at_period_end:{SUB}", locale="de"
    )

    assert visible(pause).splitlines()[0] == "**2 Monate pausieren?**"
    assert visible(pause).splitlines()[-2:] == ["[Bestätigen]", "[Zurück]"]
    assert visible(leave).splitlines()[0] == "**Zum Ende des Zeitraums kündigen?**"
    assert visible(leave).splitlines()[-2:] == ["[Ja, zum Ende des Zeitraums kündigen]", "[Zurück]"]
    assert_german(card)
    assert_german(pause)
    assert_german(leave)


def test_the_cheaper_plan_is_told_in_german_with_the_credit(german: GermanCustomer) -> None:
    done = german.choose(f"cancel_offer:plan_switch:{SUB}")

    invoice = german.messenger.stripe_get("/v1/invoices?customer=cus_DemoHealthy&limit=1")
    credit = f"{-invoice['data'][0]['total'] / 100:.2f}".replace(".", ",")
    expected = {
        "sie": [
            "**Sie sind jetzt im Tarif Starter: 29,00 € / Monat**",
            f"Die ungenutzte Zeit von Pro wird Ihrem Konto gutgeschrieben: {credit} €.",
        ],
        "du": [
            "**Du bist jetzt im Tarif Starter: 29,00 € / Monat**",
            f"Die ungenutzte Zeit von Pro wird deinem Konto gutgeschrieben: {credit} €.",
        ],
    }[german.address]
    assert visible(done).splitlines() == expected
