"""The Messenger card `invoices`: the signed-in customer's recent invoices, each with a link to
its page and its PDF (both reachable), in their language; a lead or visitor gets the sign-in
card and nothing is read from Stripe."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from billing.money import format_day
from sandbox.canvas_requests import contact_payload
from tests.http import HTTP
from tests.messenger.driver import Messenger, components, visible

LINK = r"\[(?P<label>[^\]]+)\]\((?P<url>[^)]+)\)"


def invoice_lines(body: dict[str, Any]) -> list[str]:
    return [c["text"] for c in components(body) if c["type"] == "text" and "](" in c["text"]]


def links(line: str) -> dict[str, str]:
    return {m["label"]: m["url"] for m in re.finditer(LINK, line)}


def newest(messenger: Messenger, customer: str, n: int) -> list[dict[str, Any]]:
    return messenger.stripe_get(f"/v1/invoices?customer={customer}&limit={n}")["data"]


def day(invoice: dict[str, Any], locale: str) -> str:
    return format_day(datetime.fromtimestamp(invoice["created"], UTC), locale)


def test_annas_five_latest_invoices_with_their_page_and_pdf(messenger: Messenger) -> None:
    expected = newest(messenger, "cus_DemoHealthy", 5)

    card = messenger.initialize("healthy", "invoices")

    assert visible(card).startswith("**Your invoices**")
    lines = invoice_lines(card)
    assert len(lines) == 5
    for line, invoice in zip(lines, expected, strict=True):
        assert line.startswith(
            f"**{invoice['number']}** · {day(invoice, 'en')} · €79.00 · Paid · "
        ), line
        assert links(line) == {
            "Invoice": invoice["hosted_invoice_url"],
            "PDF": invoice["invoice_pdf"],
        }


def test_the_links_open_the_invoice_page_and_its_pdf(messenger: Messenger) -> None:
    line = invoice_lines(messenger.initialize("healthy", "invoices"))[0]
    urls = links(line)

    page = HTTP.get(urls["Invoice"])
    pdf = HTTP.get(urls["PDF"])

    assert page.status_code == 200
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("german_address", "title"), [("sie", "**Ihre Rechnungen**"), ("du", "**Deine Rechnungen**")]
)
def test_in_german(start_messenger, german_address: str, title: str) -> None:
    messenger = start_messenger(german_address=german_address)
    latest = newest(messenger, "cus_DemoHealthy", 1)[0]

    card = messenger.initialize("healthy", "invoices", locale="de")

    text = visible(card)
    assert text.startswith(title)
    assert f"**{latest['number']}** · {day(latest, 'de')} · 79,00 € · Bezahlt · " in text
    assert set(links(invoice_lines(card)[0])) == {"Rechnung", "PDF"}


def test_the_live_canvas_shows_the_invoices_as_they_are_now(messenger: Messenger) -> None:
    card = messenger.initialize("healthy", "invoices")
    latest = newest(messenger, "cus_DemoHealthy", 1)[0]
    messenger.stripe.state.objects[latest["id"]]["status"] = "void"  # voided in the dashboard

    live = messenger.content("healthy", card["canvas"])

    assert card["canvas"]["content_url"].endswith("/canvas/messenger/content")
    assert card["canvas"]["stored_data"] == {"card": "invoices"}
    assert " · Paid · " in invoice_lines(card)[0]
    assert invoice_lines(live)[0].startswith(f"**{latest['number']}** · ")
    assert " · Void · " in invoice_lines(live)[0]


def test_a_customer_without_invoices_is_told_they_will_show_up_here(messenger: Messenger) -> None:
    messenger.stripe_post(
        "/v1/customers", {"email": "new@example.com", "metadata[user_id]": "usr_new"}
    )
    newcomer = contact_payload(
        contact_id="contact_new", email="new@example.com", external_id="usr_new"
    )

    card = messenger.initialize("healthy", "invoices", contact=newcomer)

    assert visible(card) == (
        "**No invoices yet**\nYour invoices show up here as soon as they are issued."
    )


@pytest.mark.parametrize("viewer", ["lead", "visitor"])
def test_a_lead_or_visitor_gets_the_sign_in_card_and_no_stripe_read(
    messenger: Messenger, viewer: str
) -> None:
    messenger.forget_stripe_requests()

    card = messenger.initialize("healthy", "invoices", viewer=viewer)
    live = messenger.content("healthy", card["canvas"], viewer=viewer)

    for body in (card, live):
        assert visible(body).startswith("**Sign in to see your billing**")
        assert "ANNABECK" not in str(body) and "/invoices/" not in str(body)
    assert messenger.stripe_requests() == []
