"""The sidebar and the customer's documents: the details view lists the recent invoices (number,
date, amount, status, links to the page and the PDF) and the billing details (tax ids, billing
country); "Send invoices" and "Send billing details card" put the Messenger card into the reply.
Anna's demo conversation — "Could you send me a copy of my last invoice?" — is answered."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from billing.money import format_day
from sandbox.canvas_requests import (
    contact_payload,
    demo_contact,
    inbox_initialize,
    inbox_submit,
    messenger_initialize,
)
from sandbox.intercom_api.seed import DEMO_CONTACTS
from tests.conftest import AppClient
from tests.http import HTTP
from tests.inbox.test_inbox_cards import Sidebar
from tests.messenger.driver import Messenger, button, button_ids, visible

KLARA = contact_payload(
    contact_id="contact_klara", email="klara@weber-design.example", external_id="usr_klara"
)


class ContactSidebar(Sidebar):
    """The sidebar of a conversation with any contact (not only the seeded demo ones)."""

    def __init__(self, app: AppClient, check: Callable[..., None], contact: dict[str, Any]):
        super().__init__(app, check, "custom")
        self.contact = contact

    def open(self) -> dict[str, Any]:
        payload = inbox_initialize(self.contact, "conv_custom")
        return self._post("/canvas/inbox/initialize", payload, "initialize_response")

    def submit(self, component_id: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = inbox_submit(self.contact, "conv_custom", component_id, body["canvas"])
        return self._post("/canvas/inbox/submit", payload, "submit_response")


def details(app: AppClient, check: Callable[..., None], contact: dict[str, Any]) -> dict[str, Any]:
    sidebar = ContactSidebar(app, check, contact)
    return sidebar.press(sidebar.open(), "details")


def invoice_texts(body: dict[str, Any]) -> list[str]:
    found = [c["text"] for c in body["canvas"]["content"]["components"] if c["type"] == "text"]
    start = found.index(next(t for t in found if t in ("**Invoices**", "**Rechnungen**")))
    return [t for t in found[start + 1 :] if t.startswith("**") and "](" in t]


def read(body: dict[str, Any]) -> str:
    """What the agent reads: the visible text with Markdown's backslash escapes rendered."""
    return re.sub(r"\\(.)", r"\1", visible(body))


def stripe_invoices(app: AppClient, customer: str, limit: int) -> list[dict[str, Any]]:
    response = HTTP.get(
        f"{app.settings.stripe_api_base}/v1/invoices",
        params={"customer": customer, "limit": limit},
        headers={"Authorization": f"Bearer {app.settings.stripe_api_key.get_secret_value()}"},
    )
    return response.json()["data"]


def day(invoice: dict[str, Any], locale: str) -> str:
    return format_day(datetime.fromtimestamp(invoice["created"], UTC), locale)


def test_the_details_list_the_five_latest_invoices_with_links(
    app_client: AppClient, assert_canvas
) -> None:
    expected = stripe_invoices(app_client, "cus_DemoHealthy", 5)

    body = details(app_client, assert_canvas, demo_contact("healthy"))

    lines = invoice_texts(body)
    assert lines == [
        f"**{i['number']}** · {day(i, 'en')} · €79.00 · Paid · "
        f"[Invoice]({i['hosted_invoice_url']}) · [PDF]({i['invoice_pdf']})"
        for i in expected
    ]
    assert HTTP.get(expected[0]["invoice_pdf"]).content.startswith(b"%PDF")
    assert HTTP.get(expected[0]["hosted_invoice_url"]).status_code == 200


def test_the_summary_stays_without_them(app_client: AppClient, assert_canvas) -> None:
    summary = ContactSidebar(app_client, assert_canvas, demo_contact("healthy")).open()

    assert "**Invoices**" not in visible(summary)  # the first view stays one Stripe round trip


def test_the_details_show_the_tax_id_and_billing_country(
    app_client: AppClient, assert_canvas
) -> None:
    text = read(details(app_client, assert_canvas, KLARA))

    assert (
        "**Billing details**\nBilling address: Germany\nTax ID: eu_vat DE123456789 · verified"
        in (text)
    )


def test_in_the_agents_german(start_app: Callable[..., AppClient], assert_canvas) -> None:
    app = start_app(agent_locale="de")
    latest = stripe_invoices(app, "cus_DemoHealthy", 1)[0]

    healthy = details(app, assert_canvas, demo_contact("healthy"))
    klara = read(details(app, assert_canvas, KLARA))

    assert invoice_texts(healthy)[0].startswith(
        f"**{latest['number']}** · {day(latest, 'de')} · 79,00\xa0€ · Bezahlt · [Rechnung]("
    )
    assert "Rechnungsadresse: Deutschland\nSteuer-ID: eu_vat DE123456789 · bestätigt" in klara
    assert "[Rechnungen senden]" in visible(healthy)


def test_a_customer_without_tax_id_or_address(app_client: AppClient, assert_canvas) -> None:
    text = visible(details(app_client, assert_canvas, demo_contact("healthy")))

    assert "**Billing details**\nBilling address: not given\nNo tax ID on file." in text


# --- sending the cards ---
@pytest.mark.parametrize(
    ("card", "label", "said"),
    [
        ("invoices", "Send invoices", "**Invoices card added to your reply**"),
        (
            "billing_details",
            "Send billing details card",
            "**Billing details card added to your reply**",
        ),
    ],
)
def test_send_puts_the_card_into_the_reply(
    app_client: AppClient, assert_canvas, card: str, label: str, said: str
) -> None:
    sidebar = ContactSidebar(app_client, assert_canvas, KLARA)
    shown = sidebar.press(sidebar.open(), "details")
    assert button(shown, f"send_document:{card}")["label"] == label

    sent = sidebar.press(shown, f"send_document:{card}")

    assert sent["card_creation_options"] == {"card": card, "customer_id": "cus_DemoMulti"}
    assert visible(sent).startswith(said)
    assert "summary" in button_ids(sent)


def test_an_unknown_card_is_not_sent(app_client: AppClient, assert_canvas) -> None:
    sidebar = ContactSidebar(app_client, assert_canvas, demo_contact("healthy"))
    summary = sidebar.open()

    answer = sidebar.submit("send_document:refund_everything", summary)

    assert "card_creation_options" not in answer
    assert "details" in button_ids(answer)  # back to the summary


def test_annas_question_is_answered_with_her_invoices(
    app_client: AppClient, assert_canvas, stripe_sandbox
) -> None:
    opening = next(c[5] for c in DEMO_CONTACTS if c[0] == "healthy")
    assert opening == "Hi! Could you send me a copy of my last invoice?"
    anna = demo_contact("healthy")
    sidebar = ContactSidebar(app_client, assert_canvas, anna)

    sent = sidebar.press(sidebar.press(sidebar.open(), "details"), "send_document:invoices")
    # Intercom puts the card into the reply: Messenger initialize with the creation options.
    messenger = Messenger(app_client, stripe_sandbox, assert_canvas)
    payload = messenger_initialize(sent["card_creation_options"], anna, "en")
    card = messenger._post("/canvas/messenger/initialize", payload, "initialize_response")

    latest = stripe_invoices(app_client, "cus_DemoHealthy", 1)[0]
    text = visible(card)
    assert text.startswith("**Your invoices**")
    assert f"[PDF]({latest['invoice_pdf']})" in text
