"""GERMAN_ADDRESS reaches Fin's answers: "Sie" by default, "du" when configured (down to what a
cancel-or-save option says once done); the same catalogue as the Messenger cards, so one
conversation never mixes the two."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from billing.money import format_day
from tests.actions.conftest import who
from tests.conftest import AppClient


def test_fin_says_sie_by_default(fin: AppClient) -> None:
    message = fin.fin("/fin/billing-status", who("healthy", locale="de")).json()["message"]

    assert message.startswith("Sie nutzen den Tarif Pro")
    assert "Ihre Visa-Karte mit der Endung 4242" in message


def test_fin_says_du_when_the_setting_asks_for_it(start_app: Callable[..., AppClient]) -> None:
    app = start_app(german_address="du")

    message = app.fin("/fin/billing-status", who("healthy", locale="de")).json()["message"]

    assert message.startswith("Du nutzt den Tarif Pro")
    assert "Deine nächste Zahlung" in message
    assert "deine Visa-Karte mit der Endung 4242" in message
    assert "Sie " not in message and "Ihre" not in message


def test_a_fin_error_says_du_too(start_app: Callable[..., AppClient]) -> None:
    app = start_app(german_address="du")

    response = app.fin("/fin/billing-status", who("nobody", locale="de"))

    assert response.json()["error"]["message"] == (
        "Ich konnte kein Kundenkonto für dich finden. Unser Team sieht sich das gern an."
    )


def _day(iso: str) -> str:
    return format_day(datetime.fromisoformat(iso.replace("Z", "+00:00")), "de@informal")


# What each cancel-or-save option says once done, saying "du": (option, months, expected).
DONE_WITH_DU: list[tuple[str, int | None, Callable[[dict[str, Any]], str]]] = [
    (
        "pause",
        1,
        lambda o: (
            f"Erledigt: Deine Zahlungen sind bis zum {_day(o['resumes_at'])} pausiert. "
            "Dein Abonnement bleibt aktiv."
        ),
    ),
    (
        "coupon",
        None,
        lambda o: (
            "Erledigt: 20\xa0% Rabatt für 3 Monate ist eingerichtet. Deine nächsten "
            "Rechnungen betragen 63,20\xa0€ / Monat."
        ),
    ),
    (
        "cancel_at_period_end",
        None,
        lambda o: (
            f"Erledigt: Dein Abonnement Pro endet am {_day(o['ends_at'])}. Bis dahin "
            "behältst du den Zugang, und es wird nichts mehr abgebucht."
        ),
    ),
    (
        "plan_switch",
        None,
        lambda o: "Erledigt: Du bist jetzt im Tarif Starter für 29,00\xa0€ / Monat.",
    ),
]


@pytest.mark.parametrize(
    ("option", "months", "expected"), DONE_WITH_DU, ids=[d[0] for d in DONE_WITH_DU]
)
def test_a_cancellation_outcome_says_du(
    start_app: Callable[..., AppClient],
    option: str,
    months: int | None,
    expected: Callable[[dict[str, Any]], str],
) -> None:
    app = start_app(german_address="du", retention_coupon="RETENTION20")
    offers = app.fin("/fin/cancellation/preview", who("healthy", locale="de")).json()["offers"]
    chosen = next(
        o for o in offers if o["option"] == option and (months is None or o["months"] == months)
    )

    done = app.fin(
        "/fin/cancellation",
        who("healthy", confirmation_token=chosen["confirmation_token"], locale="de"),
    ).json()

    assert done["option"] == option
    assert done["message"] == expected(chosen)
    assert "Sie " not in done["message"] and "Ihr" not in done["message"]
