"""The Messenger app's Canvas Kit flows: configure → results, initialize → live canvas, the
live-canvas request → the viewing customer's own data, and who that customer is (§1.3)."""

from __future__ import annotations

import json

import pytest

from sandbox.canvas_requests import demo_contact, messenger_content, messenger_initialize
from tests.messenger.driver import Messenger, button_ids, components, visible


def test_configure_offers_every_card(messenger: Messenger):
    body = messenger.configure()
    items = [c for c in components(body) if c["type"] == "list"][0]["items"]
    assert [i["id"] for i in items] == [
        "card:billing_status",
        "card:savings",
        "card:payment_recovery",
        "card:trial",
        "card:invoices",
        "card:billing_details",
        "card:cancel",
    ]
    assert "Payment recovery | Retry a failed payment or pay by card instead" in visible(body)


def test_every_card_on_the_configure_screen_can_be_clicked(messenger: Messenger):
    body = messenger.configure()
    items = [c for c in components(body) if c["type"] == "list"][0]["items"]
    assert all(i["action"] == {"type": "submit"} for i in items)


def test_the_driver_refuses_to_click_what_intercom_would_not_submit(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    with pytest.raises(AssertionError, match="can't be clicked to submit"):
        messenger.press("sepa", card, "pay_by_card")  # a url button opens a page instead
    first = messenger.configure()
    unclickable = json.loads(json.dumps(first["canvas"]))
    for component in unclickable["content"]["components"]:
        for item in component.get("items", []):
            item.pop("action", None)
    with pytest.raises(AssertionError, match="can't be clicked to submit"):
        messenger.configure("card:savings", unclickable)


def test_picking_a_card_ends_configuration_with_results(messenger: Messenger):
    first = messenger.configure()
    body = messenger.configure("card:payment_recovery", first["canvas"])
    assert body == {"results": {"card": "payment_recovery"}}


@pytest.mark.parametrize(
    ("card", "row", "title"),
    [
        (
            "invoices",
            "Invoices | Recent invoices with links to each one and its PDF",
            "**Your invoices**",
        ),
        (
            "billing_details",
            "Billing details | Tax IDs and billing address, and a link to update them",
            "**Your billing details**",
        ),
    ],
)
def test_the_admin_can_pick_the_document_cards(
    messenger: Messenger, card: str, row: str, title: str
):
    screen = messenger.configure()
    picked = messenger.configure(f"card:{card}", screen["canvas"])

    assert row in visible(screen).splitlines()
    assert picked == {"results": {"card": card}}
    # Intercom creates the card with those results: it shows the card picked.
    shown = messenger.initialize("healthy", **picked["results"])
    assert visible(shown).startswith(title)
    assert shown["canvas"]["stored_data"] == {"card": card}


def test_an_unknown_pick_shows_the_picker_again(messenger: Messenger):
    first = messenger.configure()
    body = messenger.configure("card:lottery", first["canvas"], crafted=True)
    assert "canvas" in body and "results" not in body


def test_initialize_answers_a_live_canvas_with_a_first_paint(messenger: Messenger):
    body = messenger.initialize("healthy", "billing_status")
    canvas = body["canvas"]
    assert canvas["content_url"] == f"{messenger.app.settings.public_url}/canvas/messenger/content"
    assert canvas["stored_data"] == {"card": "billing_status"}
    assert "**Pro** · €79.00 / month" in visible(body)


def test_the_live_canvas_shows_the_viewing_customers_current_data(messenger: Messenger):
    # A Workflow placed one card; two different customers open it.
    canvas = messenger.initialize("healthy", "billing_status")["canvas"]
    anna = visible(messenger.content("healthy", canvas))
    paul = visible(messenger.content("vip", canvas))
    assert "**Pro** · €79.00 / month" in anna and "Visa •••• 4242 (12/2028)" in anna
    assert "**Business** · €199.00 / month" in paul and "Mastercard •••• 4444" in paul
    assert "Pro" not in paul


def test_the_live_canvas_follows_changes_in_stripe(messenger: Messenger):
    canvas = messenger.initialize("sepa", "payment_recovery")["canvas"]
    assert "didn't go through" in visible(messenger.content("sepa", canvas))
    # Paid elsewhere (a bank transfer): the next view says so, without a new initialize.
    messenger.stripe_post(
        f"/v1/invoices/{messenger.open_invoice('cus_DemoSepa')['id']}/pay",
        {"paid_out_of_band": "true"},
    )
    messenger.app.services.billing.clear()  # what the invoice.paid webhook does
    assert "**All settled**" in visible(messenger.content("sepa", canvas))


def test_the_card_speaks_german_when_the_messenger_does(messenger: Messenger):
    body = messenger.initialize("healthy", "billing_status", locale="de")
    text = visible(body)
    assert "**Ihre Abrechnung**" in text
    assert "**Pro** · 79,00 € / Monat" in text


def test_the_default_language_comes_from_settings(start_messenger):
    messenger = start_messenger(customer_locale="de")
    payload = messenger_initialize({"card": "billing_status"}, demo_contact("healthy"), "fr")
    body = messenger.app.canvas("/canvas/messenger/initialize", payload).json()
    messenger.check("initialize_response", body)
    assert "**Ihre Abrechnung**" in visible(body)


def test_an_unsigned_live_canvas_request_never_reaches_stripe(messenger: Messenger):
    payload = messenger_content({"content": {"components": []}}, demo_contact("healthy"))
    response = messenger.app.http.post(
        "/canvas/messenger/content",
        content=json.dumps(payload),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401
    assert messenger.stripe_requests() == []


def test_a_contact_without_a_stripe_customer_gets_a_friendly_card(messenger: Messenger):
    body = messenger.initialize("nobody", "payment_recovery")
    assert visible(body).startswith("**We couldn't find your billing account**")
    assert button_ids(body) == []


def test_an_ambiguous_contact_sees_the_live_subscription_but_cannot_move_money(
    messenger: Messenger,
):
    # Team Beta's contact shares its email with Team Alpha; only Alpha has a live subscription.
    body = messenger.initialize("shared_b", "billing_status")
    assert "**Starter** · €29.00 / month" in visible(body)
    trial = messenger.initialize("shared_b", "payment_recovery")
    assert "retry_payment" not in button_ids(trial)
    assert "pay_by_card" not in button_ids(trial)


def test_an_agent_sent_card_shows_the_customer_the_agent_picked_among_the_contacts_own(
    messenger: Messenger,
):
    body = messenger.initialize("shared_b", "billing_status", customer_id="cus_DemoSharedB")
    assert body["canvas"]["stored_data"] == {
        "card": "billing_status",
        "customer_id": "cus_DemoSharedB",
    }
    assert "Canceled" in visible(body)


def test_a_customer_id_from_elsewhere_is_ignored(messenger: Messenger):
    # The card options can't make Anna's card show Lena's billing.
    body = messenger.initialize("healthy", "billing_status", customer_id="cus_DemoVip")
    assert "**Pro** · €79.00 / month" in visible(body)
    assert "Business" not in visible(body)


def test_stripe_unreachable_answers_a_card_not_an_error(messenger: Messenger):
    messenger.stripe.control("POST", "/_sandbox/faults", {"status": 503, "count": 50})
    body = messenger.initialize("healthy", "billing_status")
    assert "**We couldn't reach the payment provider**" in visible(body)
    assert button_ids(body) == ["refresh"]
    messenger.stripe.control("DELETE", "/_sandbox/faults")
    again = messenger.press("healthy", body, "refresh")
    assert "**Pro** · €79.00 / month" in visible(again)
