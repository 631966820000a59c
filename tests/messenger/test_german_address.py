"""GERMAN_ADDRESS: German customers are addressed formally ("Sie") by default, or informally
("du") when the setting says so, on the Messenger cards and the payment link pages alike."""

from __future__ import annotations

from collections.abc import Callable

from tests.messenger.driver import Messenger, visible


def test_a_german_card_says_sie_by_default(messenger: Messenger) -> None:
    text = visible(messenger.initialize("sepa", "payment_recovery", locale="de"))

    assert "**Ihre Zahlung über 29,00 € ist nicht durchgegangen**" in text
    assert "Ihre Bank hat die Lastschrift zurückgegeben" in text
    assert "Deine" not in text and "deine" not in text


def test_a_german_card_says_du_when_the_setting_asks_for_it(
    start_messenger: Callable[..., Messenger],
) -> None:
    messenger = start_messenger(german_address="du")

    text = visible(messenger.initialize("sepa", "payment_recovery", locale="de"))

    assert "**Deine Zahlung über 29,00 € ist nicht durchgegangen**" in text
    assert "Deine Bank hat die Lastschrift zurückgegeben" in text
    assert "Ihre" not in text


def test_english_does_not_change_with_the_german_address(
    start_messenger: Callable[..., Messenger],
) -> None:
    messenger = start_messenger(german_address="du")

    text = visible(messenger.initialize("healthy", "billing_status", locale="en"))

    assert "**Your billing**" in text


def test_a_link_page_speaks_to_the_customer_as_the_setting_says(
    start_messenger: Callable[..., Messenger],
) -> None:
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    formal = start_messenger().app.http.get("/l/not-a-link", headers=german)
    informal = start_messenger(german_address="du").app.http.get("/l/not-a-link", headers=german)

    assert formal.status_code == informal.status_code == 400
    assert '<html lang="de">' in formal.text and '<html lang="de">' in informal.text
    assert "Bitte öffnen Sie den Zahlungslink erneut aus dem Chat." in formal.text
    assert "Bitte öffne den Zahlungslink erneut aus dem Chat." in informal.text
    assert "Sie können diesen Tab schließen" in formal.text
    assert "Du kannst diesen Tab schließen" in informal.text
