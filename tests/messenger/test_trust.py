"""Only a signed-in customer (a contact with role `user`) sees billing or moves money in the
Messenger. Leads and visitors choose their own email and can set custom attributes from the
browser: whatever they claim, every flow — initialize, the live canvas, every submit — answers
with a friendly "sign in" card, names no customer, mints no payment link and never calls Stripe.

Each test is an attack that worked before roles were checked, sent correctly signed the way
Intercom sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.canvas_requests import contact_payload, demo_contact, messenger_initialize
from tests.messenger.driver import Messenger, button_ids, components, visible

SIGN_IN = "**Sign in to see your billing**"


def assert_names_nobody(body: dict[str, Any], *secrets: str) -> None:
    """The answer (components, stored_data and all) is the sign-in card and nothing else: no
    customer, no amount, no link, no button that does anything."""
    text = visible(body)
    assert SIGN_IN in text, text
    assert "ask us in the chat" in text
    assert button_ids(body) == []
    raw = json.dumps(body, ensure_ascii=False)
    for secret in ("cus_", "/l/", "€", "Pro", "quote", "shown", "customer_id", *secrets):
        assert secret not in raw, f"{secret!r} in {raw}"


def subscription_price(messenger: Messenger) -> str:
    subscription = messenger.stripe_get("/v1/subscriptions/sub_DemoHealthy")
    return subscription["items"]["data"][0]["price"]["id"]


def test_a_lead_who_typed_annas_email_cannot_switch_her_plan(messenger: Messenger) -> None:
    messenger.forget_stripe_requests()

    card = messenger.initialize("healthy", "savings", viewer="lead")
    live = messenger.content("healthy", card["canvas"], viewer="lead")
    # What the card used to offer: "Switch to Pro, yearly", then "Confirm".
    quote = messenger.submit("healthy", "switch_plan", card["canvas"], viewer="lead")
    confirmed = messenger.submit("healthy", "confirm_switch", quote["canvas"], viewer="lead")

    for body in (card, live, quote, confirmed):
        assert_names_nobody(body, "Anna", "anna@example.com")
    assert messenger.stripe_requests() == []  # not even a read
    assert subscription_price(messenger) == "price_ProMonthly"
    invoices = messenger.stripe_get("/v1/invoices?customer=cus_DemoHealthy&limit=5")["data"]
    assert all(i["billing_reason"] != "subscription_update" for i in invoices)


def test_a_lead_replaying_annas_own_quote_switches_nothing(messenger: Messenger) -> None:
    # Anna, signed in, got Stripe's exact quote: a genuine, signed quote for her customer.
    annas = messenger.press("healthy", messenger.initialize("healthy", "savings"), "switch_plan")
    assert "confirm_switch" in button_ids(annas)
    messenger.forget_stripe_requests()

    confirmed = messenger.submit("healthy", "confirm_switch", annas["canvas"], viewer="lead")

    assert_names_nobody(confirmed)
    assert messenger.stripe_requests() == []
    assert subscription_price(messenger) == "price_ProMonthly"


def test_a_lead_with_the_trial_customers_email_gets_no_link_to_save_a_card(
    messenger: Messenger,
) -> None:
    messenger.forget_stripe_requests()

    for card in ("trial", "billing_status"):
        body = messenger.initialize("trial", card, viewer="lead")
        live = messenger.content("trial", body["canvas"], viewer="lead")
        refreshed = messenger.submit("trial", "refresh", body["canvas"], viewer="lead")
        for answer in (body, live, refreshed):
            assert_names_nobody(answer, "Jonas", "jonas@startup.example", "add_payment_method")

    assert messenger.stripe_requests() == []  # no customer read, no Checkout Session
    # Jonas himself still gets his link (a contact with role user).
    own = messenger.initialize("trial", "trial")
    assert "add_payment_method" in button_ids(own)


def test_a_lead_who_set_stripe_id_from_the_browser_sees_nothing_of_that_customer(
    messenger: Messenger,
) -> None:
    # No email at all: only `Intercom('update', {stripe_id: ...})` from the browser.
    lead = contact_payload(
        contact_id="lead_1",
        email=None,
        custom_attributes={"stripe_id": "cus_DemoHealthy"},
        role="lead",
    )
    messenger.forget_stripe_requests()

    for card in ("billing_status", "savings", "payment_recovery", "trial"):
        body = messenger.initialize("", card, contact=lead)
        live = messenger.content("", body["canvas"], contact=lead)
        for answer in (body, live):
            assert_names_nobody(answer, "Anna", "Visa")

    assert messenger.stripe_requests() == []


def test_a_lead_cannot_retry_the_sepa_customers_payment(messenger: Messenger) -> None:
    # Müller's own recovery card shows the failed invoice (signed into the card) and "Retry".
    mullers = messenger.initialize("sepa", "payment_recovery")
    assert "retry_payment" in button_ids(mullers)
    invoice = messenger.open_invoice("cus_DemoSepa")
    messenger.forget_stripe_requests()

    as_lead = messenger.initialize("sepa", "payment_recovery", viewer="lead")
    retried = messenger.submit("sepa", "retry_payment", mullers["canvas"], viewer="lead")
    again = messenger.submit("sepa", "retry_payment", as_lead["canvas"], viewer="lead")

    for body in (as_lead, retried, again):
        assert_names_nobody(body, "Müller", "AM04")
    assert messenger.stripe_requests() == []
    assert messenger.stripe_posts("/pay") == []
    assert messenger.stripe_get(f"/v1/invoices/{invoice['id']}")["status"] == "open"


@pytest.mark.parametrize("viewer", ["lead", "visitor"])
def test_a_card_an_agent_sent_names_no_customer_to_a_lead(
    messenger: Messenger, viewer: str
) -> None:
    # The agent sent the card with the customer they picked; a lead opens it.
    body = messenger.initialize(
        "sepa", "payment_recovery", viewer=viewer, customer_id="cus_DemoSepa"
    )

    assert_names_nobody(body)
    assert body["canvas"]["stored_data"] == {"card": "payment_recovery"}
    assert body["canvas"]["content_url"].endswith("/canvas/messenger/content")


@pytest.mark.parametrize(
    "person",
    ["visitor", "no role", "role user only on one of two", "two different contacts"],
)
def test_anything_but_one_contact_with_role_user_gets_the_sign_in_card(
    messenger: Messenger, person: str
) -> None:
    payload = messenger_initialize({"card": "billing_status"}, demo_contact("healthy"))
    if person == "visitor":
        payload["contact"] = payload["user"] = demo_contact("healthy", viewer="visitor")
    elif person == "no role":
        # Anna's ids and attributes, but nothing says she is a signed-in user.
        anonymous = contact_payload(
            contact_id="contact_healthy",
            email="anna@example.com",
            external_id="usr_anna",
            custom_attributes={"stripe_id": "cus_DemoHealthy"},
            role=None,
        )
        payload["contact"] = payload["user"] = anonymous
    elif person == "role user only on one of two":
        payload["user"] = demo_contact("healthy", viewer="lead")
    else:
        payload["user"] = demo_contact("vip")
    messenger.forget_stripe_requests()

    response = messenger.app.canvas("/canvas/messenger/initialize", payload)

    assert response.status_code == 200
    body = response.json()
    messenger.check("initialize_response", body)
    assert_names_nobody(body, "Anna")
    assert messenger.stripe_requests() == []


def test_the_sign_in_card_speaks_german(messenger: Messenger) -> None:
    body = messenger.initialize("healthy", "billing_status", locale="de", viewer="lead")

    assert [c["text"] for c in components(body)] == [
        "**Melden Sie sich an, um Ihre Abrechnung zu sehen**",
        "Sobald Sie in Ihrem Konto angemeldet sind, sehen Sie hier Ihren Tarif, Ihre "
        "Rechnungen und Zahlungen. Oder fragen Sie uns einfach hier im Chat – wir helfen gern.",
    ]


def test_the_signed_in_customer_still_sees_their_billing(messenger: Messenger) -> None:
    body = messenger.initialize("healthy", "billing_status")

    text = visible(body)
    assert SIGN_IN not in text
    assert "Visa •••• 4242" in text
