"""The Messenger card `billing_details` and its signed link: the customer's tax ids and billing
country, and "Update billing details" → `/l/<token>` → a Stripe Billing Portal session on a
configuration that lets them change their address and tax ids and nothing else. The app makes
that configuration once (or uses the operator's), and a lead never gets a link."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sandbox.canvas_requests import contact_payload
from tests.billing_portal import (
    MULTI,
    PortalVisit,
    enabled_features,
    open_portal,
    our_configurations,
    stripe_get,
)
from tests.http import HTTP
from tests.messenger.driver import Messenger, button, button_ids, visible

KLARA = contact_payload(
    contact_id="contact_klara",
    email="klara@weber-design.example",
    external_id="usr_klara",
    name="Klara Weber",
)


def details_card(messenger: Messenger, **options: Any) -> dict[str, Any]:
    return messenger.initialize("multi", "billing_details", contact=KLARA, **options)


def update_link(card: dict[str, Any]) -> str:
    action = button(card, "update_billing_details")["action"]
    assert action["type"] == "url"
    return action["url"]


def visit(messenger: Messenger) -> PortalVisit:
    return open_portal(update_link(details_card(messenger)), messenger.stripe)


# --- the card ---
def test_the_card_shows_the_tax_id_and_country_and_offers_a_link(messenger: Messenger) -> None:
    card = details_card(messenger)

    assert visible(card).splitlines()[:3] == [
        "**Your billing details**",
        "Billing address: Germany",
        "Tax ID: EU VAT number DE123456789 · verified",
    ]
    assert button(card, "update_billing_details")["label"] == "Update billing details"
    assert update_link(card).startswith(f"{messenger.app.settings.public_url}/l/")
    assert card["canvas"]["stored_data"] == {"card": "billing_details"}  # no link kept there


@pytest.mark.parametrize(
    ("german_address", "expected"),
    [
        ("sie", "Ändern Sie Ihre Rechnungsadresse oder ergänzen Sie Ihre USt-IdNr."),
        ("du", "Ändere deine Rechnungsadresse oder ergänze deine USt-IdNr."),
    ],
)
def test_in_german(start_messenger, german_address: str, expected: str) -> None:
    messenger = start_messenger(german_address=german_address)

    text = visible(details_card(messenger, locale="de"))

    assert "Rechnungsadresse: Deutschland" in text
    assert "Steuer-ID: USt-IdNr. (EU) DE123456789 · bestätigt" in text
    assert expected in text
    assert "[Rechnungsdaten ändern]" in text


def test_a_customer_without_tax_id_or_address_can_add_them(messenger: Messenger) -> None:
    card = messenger.initialize("healthy", "billing_details")

    assert visible(card).splitlines()[:3] == [
        "**Your billing details**",
        "Billing address: not given",
        "No tax ID on file.",
    ]
    assert "update_billing_details" in button_ids(card)


@pytest.mark.parametrize("viewer", ["lead", "visitor"])
def test_a_lead_or_visitor_gets_no_link_and_no_stripe_read(
    messenger: Messenger, viewer: str
) -> None:
    messenger.forget_stripe_requests()

    card = messenger.initialize("healthy", "billing_details", viewer=viewer)

    assert visible(card).startswith("**Sign in to see your billing**")
    assert button_ids(card) == [] and "/l/" not in str(card)
    assert messenger.stripe_requests() == []


# --- the link and the portal ---
def test_the_link_opens_the_customer_update_flow_on_an_address_and_tax_id_portal(
    messenger: Messenger,
) -> None:
    portal = visit(messenger)

    assert portal.session["customer"] == MULTI
    assert portal.session["flow"]["type"] == "customer_update"
    assert portal.session["locale"] == "en"
    features = enabled_features(portal.configuration)
    assert list(features) == ["customer_update"]
    assert sorted(features["customer_update"]["allowed_updates"]) == ["address", "tax_id"]
    page = portal.page.text
    assert "Billing address" in page and "Add tax ID" in page and "DE123456789" in page
    for elsewhere in ("Payment methods", "Invoice history", "Subscriptions", "Save contact"):
        assert elsewhere not in page


def test_the_portal_lets_the_customer_change_the_address_and_add_a_tax_id(
    messenger: Messenger,
) -> None:
    portal = visit(messenger)

    moved = portal.post(
        "/address",
        {"line1": "Torstraße 1", "postal_code": "10119", "city": "Berlin", "country": "DE"},
    )
    added = portal.post("/tax_ids", {"type": "eu_vat", "value": "DE987654321"})

    assert moved.status_code == 303 and added.status_code == 303
    customer = messenger.stripe_get(f"/v1/customers/{MULTI}?expand[]=tax_ids")
    assert customer["address"]["line1"] == "Torstraße 1"
    assert sorted(t["value"] for t in customer["tax_ids"]["data"]) == [
        "DE123456789",
        "DE987654321",
    ]
    # The card shows what Stripe now holds.
    assert "EU VAT number DE987654321" in visible(details_card(messenger))


def test_the_portal_refuses_everything_else(messenger: Messenger) -> None:
    portal = visit(messenger)
    before = messenger.stripe_get(f"/v1/customers/{MULTI}")

    attempts = {
        "contact details": portal.post("/contact", {"email": "evil@example.com", "name": "X"}),
        "a card": portal.post("", {"card": "4242424242424242", "exp_month": "1", "exp_year": "31"}),
        "cancel": portal.post("/subscriptions/sub_DemoMultiPlan/cancel", {}),
        "shipping": portal.post("/shipping", {"shipping_name": "X", "shipping_country": "DE"}),
    }

    assert {what: r.status_code for what, r in attempts.items()} == dict.fromkeys(attempts, 403)
    after = messenger.stripe_get(f"/v1/customers/{MULTI}")
    assert after["email"] == before["email"] and after["name"] == before["name"]
    assert after["invoice_settings"] == before["invoice_settings"]
    sub = messenger.stripe_get("/v1/subscriptions/sub_DemoMultiPlan")
    assert sub["cancel_at_period_end"] is False


def test_coming_back_from_the_portal_says_thank_you(messenger: Messenger) -> None:
    portal = visit(messenger)

    back = HTTP.get(portal.return_url)

    assert portal.return_url == f"{portal.link}/done"
    assert back.status_code == 200
    assert "Thank you" in back.text and "next invoices" in back.text


def test_a_tampered_link_never_reaches_stripe(messenger: Messenger) -> None:
    link = update_link(details_card(messenger))
    messenger.forget_stripe_requests()

    response = HTTP.get(link[:-3] + ("abc" if not link.endswith("abc") else "xyz"))

    assert response.status_code == 400
    assert messenger.stripe_requests() == []


# --- the configuration ---
def test_the_configuration_is_made_once_and_reused(messenger: Messenger) -> None:
    first = visit(messenger)
    second = open_portal(
        update_link(messenger.initialize("healthy", "billing_details")), messenger.stripe
    )

    assert first.configuration["id"] == second.configuration["id"]
    assert [c["id"] for c in our_configurations(messenger.stripe)] == [first.configuration["id"]]


def test_a_new_instance_finds_the_configuration_made_by_another(
    start_messenger: Callable[..., Messenger],
) -> None:
    made = visit(start_messenger()).configuration["id"]

    found = visit(start_messenger()).configuration["id"]

    assert found == made
    assert len(our_configurations(start_messenger().stripe)) == 1


def test_instances_starting_together_make_one_configuration(
    start_messenger: Callable[..., Messenger],
) -> None:
    instances = [start_messenger() for _ in range(3)]
    links = [update_link(details_card(m)) for m in instances]
    # Slow answers: every instance has looked for the configuration before any has made one.
    instances[0].stripe.control("POST", "/_sandbox/latency", {"ms": 300})

    with ThreadPoolExecutor(len(links)) as pool:
        visits = list(pool.map(lambda link: open_portal(link, instances[0].stripe), links))

    assert len({v.configuration["id"] for v in visits}) == 1
    assert len(our_configurations(instances[0].stripe)) == 1


def test_the_operators_own_configuration_is_used_when_set(
    start_messenger: Callable[..., Messenger], stripe_sandbox
) -> None:
    messenger = start_messenger()
    operators = messenger.stripe_post(
        "/v1/billing_portal/configurations",
        {
            "features[customer_update][enabled]": "true",
            "features[customer_update][allowed_updates][]": "tax_id",
            "default_return_url": "https://example.com",
        },
    )
    configured = start_messenger(billing_portal_configuration=operators["id"])

    portal = visit(configured)

    assert portal.configuration["id"] == operators["id"]
    assert our_configurations(stripe_sandbox) == []
    assert "Add tax ID" in portal.page.text and "Save address" not in portal.page.text
    listed = stripe_get(stripe_sandbox, "/v1/billing_portal/configurations?limit=100")["data"]
    assert len(listed) == 2  # the account's default and the operator's: none of ours
