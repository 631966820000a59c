"""The sidebar's card actions: send the customer a recovery or savings card (inbox submit with
`card_creation_options`, then Intercom's Messenger initialize), and retry a failed invoice with a
confirm step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.canvas_requests import demo_contact, inbox_initialize, inbox_submit
from tests.conftest import AppClient, Sandbox
from tests.messenger.driver import Messenger, button, button_ids, visible


class Sidebar:
    """The inbox sidebar of one demo conversation, driven like Intercom drives it."""

    def __init__(self, app: AppClient, check: Callable[[str, dict[str, Any]], None], key: str):
        self.app, self.check, self.key = app, check, key

    def open(self) -> dict[str, Any]:
        payload = inbox_initialize(demo_contact(self.key), f"conv_{self.key}")
        return self._post("/canvas/inbox/initialize", payload, "initialize_response")

    def press(self, body: dict[str, Any], component_id: str) -> dict[str, Any]:
        assert component_id in button_ids(body), visible(body)
        return self.submit(component_id, body)

    def submit(self, component_id: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = inbox_submit(
            demo_contact(self.key), f"conv_{self.key}", component_id, body["canvas"]
        )
        return self._post("/canvas/inbox/submit", payload, "submit_response")

    def _post(self, path: str, payload: dict[str, Any], schema: str) -> dict[str, Any]:
        response = self.app.canvas(path, payload)
        assert response.status_code == 200, response.text
        body = response.json()
        self.check(schema, body)
        return body


@pytest.fixture
def sidebar(app_client: AppClient, assert_canvas) -> Callable[[str], Sidebar]:
    return lambda key: Sidebar(app_client, assert_canvas, key)


@pytest.fixture
def messenger(app_client: AppClient, stripe_sandbox: Sandbox, assert_canvas) -> Messenger:
    return Messenger(app_client, stripe_sandbox, assert_canvas)


def open_invoice_id(messenger: Messenger, customer: str) -> str:
    return messenger.open_invoice(customer)["id"]


# --- the buttons ---
def test_a_customer_with_a_failed_invoice_gets_retry_and_recovery_card_buttons(
    sidebar, messenger: Messenger
):
    summary = sidebar("sepa").open()
    invoice_id = open_invoice_id(messenger, "cus_DemoSepa")
    assert button(summary, "send_card:payment_recovery")["label"] == "Send recovery card"
    assert button(summary, f"retry_invoice:{invoice_id}")["label"] == "Retry failed payment"


def test_a_customer_who_could_save_gets_the_savings_button_only(sidebar):
    ids = button_ids(sidebar("healthy").open())
    assert "send_card:savings" in ids
    assert "send_card:payment_recovery" not in ids
    assert not any(i.startswith("retry_invoice:") for i in ids)


def test_the_buttons_speak_the_agents_language(start_app, assert_canvas):
    app = start_app(agent_locale="de")
    summary = Sidebar(app, assert_canvas, "sepa").open()
    assert (
        button(summary, "send_card:payment_recovery")["label"] == "Wiederherstellungs-Karte senden"
    )


def test_a_debit_already_processing_offers_no_retry(sidebar, messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    messenger.press("sepa", card, "retry_payment")
    ids = button_ids(sidebar("sepa").open())
    assert not any(i.startswith("retry_invoice:") for i in ids)
    assert "send_card:payment_recovery" not in ids


# --- sending a card ---
def test_sending_the_recovery_card_inserts_it_with_the_customers_own_data(
    sidebar, messenger: Messenger
):
    side = sidebar("sepa")
    sent = side.press(side.open(), "send_card:payment_recovery")
    assert sent["card_creation_options"] == {
        "card": "payment_recovery",
        "customer_id": "cus_DemoSepa",
    }
    assert "**Recovery card added to your reply**" in visible(sent)
    assert sent["canvas"]["stored_data"]["customer_id"] == "cus_DemoSepa"

    # Intercom now calls the Messenger initialize with those options, for the customer.
    inserted = messenger.initialize("sepa", **sent["card_creation_options"])
    assert "Your bank returned the direct debit (code AM04)" in visible(inserted)
    assert "retry_payment" in button_ids(inserted)
    assert inserted["canvas"]["stored_data"] == sent["card_creation_options"]
    # And the agent gets back to the summary.
    back = side.press(sent, "summary")
    assert "send_card:payment_recovery" in button_ids(back)


def test_sending_the_savings_card_shows_the_agent_what_it_offers(sidebar, messenger: Messenger):
    side = sidebar("healthy")
    sent = side.press(side.open(), "send_card:savings")
    assert sent["card_creation_options"] == {"card": "savings", "customer_id": "cus_DemoHealthy"}
    assert "€158.00 / year (€13.17 / month)" in visible(sent)
    inserted = messenger.initialize("healthy", **sent["card_creation_options"])
    assert "**Save €158.00 a year**" in visible(inserted)


def test_no_savings_card_is_sent_when_the_plan_already_fits(sidebar, messenger: Messenger):
    side = sidebar("healthy")
    summary = side.open()
    messenger.stripe_post(
        "/v1/subscriptions/sub_DemoHealthy",
        {"items[0][id]": "si_DemoHealthy1", "items[0][price]": "price_ProYearly"},
    )
    messenger.app.services.billing.clear()
    answer = side.press(summary, "send_card:savings")
    assert "card_creation_options" not in answer
    assert "**No saving to offer**" in visible(answer)


# --- retrying an invoice, with a confirm step ---
def test_retry_asks_first_and_moves_no_money_until_confirmed(sidebar, messenger: Messenger):
    side = sidebar("sepa")
    invoice_id = open_invoice_id(messenger, "cus_DemoSepa")
    summary = side.open()
    messenger.forget_stripe_requests()
    ask = side.press(summary, f"retry_invoice:{invoice_id}")
    text = visible(ask)
    assert "**Retry €29.00 now?**" in text
    assert "Your bank returned the direct debit (code AM04): insufficient funds." in text
    assert "SEPA •••• 2227" in text
    assert button_ids(ask) == [f"confirm_retry_invoice:{invoice_id}", "summary"]
    assert messenger.stripe_posts() == []


def test_confirmed_retry_debits_once_and_is_audited_as_the_agent(sidebar, messenger: Messenger):
    side = sidebar("sepa")
    invoice_id = open_invoice_id(messenger, "cus_DemoSepa")
    ask = side.press(side.open(), f"retry_invoice:{invoice_id}")
    done = side.press(ask, f"confirm_retry_invoice:{invoice_id}")
    assert "**Retry submitted: €29.00 is processing**" in visible(done)
    assert "SEPA debits settle in a few business days." in visible(done)

    twice = side.press(ask, f"confirm_retry_invoice:{invoice_id}")  # the double click
    assert "**A payment of €29.00 is still processing**" in visible(twice)
    assert len(messenger.stripe_posts("/pay")) == 1

    rows = messenger.audit("cus_DemoSepa")
    assert [(r["actor_type"], r["actor_id"], r["conversation_id"], r["outcome"]) for r in rows] == [
        ("admin", "admin_1", "conv_sepa", "succeeded")
    ]


def test_an_invoice_of_another_customer_is_never_retried(sidebar, messenger: Messenger):
    messenger.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoVip"})
    vip_invoice = open_invoice_id(messenger, "cus_DemoVip")
    side = sidebar("sepa")
    summary = side.open()
    messenger.forget_stripe_requests()
    answer = side.submit(f"confirm_retry_invoice:{vip_invoice}", summary)
    assert "send_card:payment_recovery" in button_ids(answer)  # back on Müller's summary
    assert messenger.stripe_posts("/pay") == []


def test_every_card_action_is_in_the_details_view(sidebar, messenger: Messenger):
    side = sidebar("sepa")
    details = side.press(side.open(), "details")
    invoice_id = open_invoice_id(messenger, "cus_DemoSepa")
    ids = button_ids(details)
    assert {
        "send_card:payment_recovery",
        f"retry_invoice:{invoice_id}",
        "send_card:savings",
    } <= set(ids)
