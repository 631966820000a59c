"""GERMAN_ADDRESS reaches Fin's answers: "Sie" by default, "du" when configured; the same
catalogue as the Messenger cards, so one conversation never mixes the two."""

from __future__ import annotations

from collections.abc import Callable

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
