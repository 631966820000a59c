"""The sidebar trusts the agent and shows any match, labelled with how it was made: linked by
`stripe_id`, by user id, or by email — not verified. Anyone can type an email into the
Messenger, so a money action on a customer matched by email alone asks the agent to confirm the
customer's identity first, and the server moves nothing without that confirmation. Values the
contact brings (external id, email) are shown literally, never as Markdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.canvas_requests import contact_payload, demo_contact, inbox_initialize, inbox_submit
from sandbox.simulator.rendering import markdown
from tests.conftest import STRIPE_KEY, AppClient, Sandbox
from tests.http import HTTP
from tests.inbox.sidebar import clickable, components

CONFIRMED = {"identity_verified": ["confirmed"]}


class Sidebar:
    """The sidebar of a conversation with `contact`, driven the way Intercom drives it."""

    def __init__(
        self, app: AppClient, check: Callable[[str, dict[str, Any]], None], contact: dict
    ) -> None:
        self.app, self.check, self.contact = app, check, contact

    def open(self) -> dict[str, Any]:
        payload = inbox_initialize(self.contact, "conv_1")
        return self._post("/canvas/inbox/initialize", payload, "initialize_response")

    def press(
        self, body: dict[str, Any], component_id: str, inputs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        assert component_id in clickable(body), texts(body)
        return self.submit(component_id, body["canvas"], inputs)

    def submit(
        self, component_id: str, canvas: dict[str, Any], inputs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        payload = inbox_submit(self.contact, "conv_1", component_id, canvas, inputs)
        return self._post("/canvas/inbox/submit", payload, "submit_response")

    def _post(self, path: str, payload: dict[str, Any], schema: str) -> dict[str, Any]:
        response = self.app.canvas(path, payload)
        assert response.status_code == 200, response.text
        body = response.json()
        self.check(schema, body)
        return body


def texts(body: dict[str, Any]) -> str:
    parts = []
    for c in components(body):
        parts += [str(c[k]) for k in ("text", "label", "title", "subtitle", "value") if c.get(k)]
        parts += [f"{i['field']}: {i['value']}" for i in c.get("items", []) if "field" in i]
        parts += [o["text"] for o in c.get("option", [])]
    return "\n".join(parts).replace("\xa0", " ")


def identity_checkbox(body: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in components(body) if c["type"] == "checkbox"), None)


def stripe_posts(stripe: Sandbox, suffix: str) -> list[dict[str, Any]]:
    return [
        r
        for r in stripe.control("GET", "/_sandbox/requests")["requests"]
        if r["method"] == "POST" and r["path"].endswith(suffix)
    ]


def stripe_get(stripe: Sandbox, path: str, **params: Any) -> Any:
    response = HTTP.get(
        f"{stripe.url}{path}", params=params, headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture
def sidebar(app_client: AppClient, assert_canvas) -> Callable[[dict], Sidebar]:
    return lambda contact: Sidebar(app_client, assert_canvas, contact)


# A lead who wrote in with Anna's (or Müller's) email: found by that email alone.
def lead_of(key: str) -> dict[str, Any]:
    return demo_contact(key, viewer="lead")


# --- how the customer was matched ---
@pytest.mark.parametrize(
    ("contact", "label"),
    [
        (demo_contact("healthy"), "Linked by stripe_id"),
        (demo_contact("sepa"), "By user ID"),
        (lead_of("healthy"), "By email — not verified"),
    ],
    ids=["stripe_id", "user_id", "email"],
)
def test_the_sidebar_says_how_the_customer_was_matched(sidebar, contact, label) -> None:
    bar = sidebar(contact)
    summary = bar.open()

    details = bar.press(summary, "details")

    assert f"Matched: {label}" in texts(details)
    warned = "⚠ Matched by email — not verified" in texts(summary)
    assert warned == (label == "By email — not verified")


def test_the_match_label_speaks_german(start_app, assert_canvas) -> None:
    bar = Sidebar(start_app(agent_locale="de"), assert_canvas, lead_of("healthy"))

    summary = bar.open()

    assert "⚠ Über E-Mail zugeordnet – nicht verifiziert" in texts(summary)
    assert "Zuordnung: Über E-Mail – nicht verifiziert" in texts(bar.press(summary, "details"))


# --- refunds ---
def refund_review(bar: Sidebar) -> tuple[dict[str, Any], str]:
    listing = bar.press(bar.open(), "refund")
    charge = next(i for i in clickable(listing) if i.startswith("refund:charge:"))
    form = bar.press(listing, charge)
    review = bar.press(form, f"refund:review:{charge.removeprefix('refund:charge:')}")
    return review, charge.removeprefix("refund:charge:")


def test_a_refund_for_a_customer_matched_by_email_needs_the_identity_check(
    sidebar, stripe_sandbox: Sandbox
) -> None:
    bar = sidebar(lead_of("healthy"))
    review, charge = refund_review(bar)
    box = identity_checkbox(review)
    assert box is not None and box["option"][0]["text"] == (
        "I have verified this customer's identity"
    )
    assert "matched by email only" in texts(review)

    refused = bar.press(review, "refund:confirm")  # the box left unticked

    assert "Confirm the customer's identity first: nothing was charged or refunded." in texts(
        refused
    )
    assert stripe_posts(stripe_sandbox, "/v1/refunds") == []
    assert stripe_get(stripe_sandbox, "/v1/refunds", charge=charge)["data"] == []
    assert identity_checkbox(refused) is not None  # asked again, the same token kept

    done = bar.press(refused, "refund:confirm", CONFIRMED)

    assert "refunded" in texts(done)
    assert len(stripe_get(stripe_sandbox, "/v1/refunds", charge=charge)["data"]) == 1


def test_tampered_stored_data_cannot_skip_the_identity_check(
    sidebar, stripe_sandbox: Sandbox
) -> None:
    bar = sidebar(lead_of("healthy"))
    review, charge = refund_review(bar)
    canvas = review["canvas"]
    canvas["stored_data"]["match"] = "stripe_id"  # what a linked contact's card would say

    refused = bar.submit("refund:confirm", canvas)

    assert "Confirm the customer's identity first" in texts(refused)
    assert stripe_get(stripe_sandbox, "/v1/refunds", charge=charge)["data"] == []


def test_a_refund_for_a_linked_customer_asks_no_identity_check(sidebar) -> None:
    review, _charge = refund_review(sidebar(demo_contact("healthy")))

    assert identity_checkbox(review) is None


# --- retrying a failed invoice ---
def test_a_retry_for_a_customer_matched_by_email_needs_the_identity_check(
    sidebar, stripe_sandbox: Sandbox
) -> None:
    bar = sidebar(lead_of("sepa"))
    summary = bar.open()
    retry = next(i for i in clickable(summary) if i.startswith("retry_invoice:"))
    invoice = retry.removeprefix("retry_invoice:")
    ask = bar.press(summary, retry)
    assert identity_checkbox(ask) is not None

    refused = bar.press(ask, f"confirm_retry_invoice:{invoice}")

    assert "Confirm the customer's identity first" in texts(refused)
    assert stripe_posts(stripe_sandbox, "/pay") == []
    assert stripe_get(stripe_sandbox, f"/v1/invoices/{invoice}")["status"] == "open"

    done = bar.press(refused, f"confirm_retry_invoice:{invoice}", CONFIRMED)

    assert "processing" in texts(done)
    assert len(stripe_posts(stripe_sandbox, f"/v1/invoices/{invoice}/pay")) == 1


def test_a_retry_for_a_customer_matched_by_user_id_asks_no_identity_check(sidebar) -> None:
    bar = sidebar(demo_contact("sepa"))
    summary = bar.open()
    retry = next(i for i in clickable(summary) if i.startswith("retry_invoice:"))

    assert identity_checkbox(bar.press(summary, retry)) is None


# --- what the contact brings is shown, never interpreted ---
def test_the_no_match_card_shows_a_markdown_link_literally(app_client, assert_canvas) -> None:
    contact = contact_payload(
        contact_id="contact_x",
        email="max_power@example.com",
        external_id="[Refund here](https://evil.example) **now**",
    )
    response = app_client.canvas("/canvas/inbox/initialize", inbox_initialize(contact, "c"))
    body = response.json()
    assert_canvas("initialize_response", body)

    searched = next(c["text"] for c in components(body) if c["text"].startswith("Searched"))

    assert searched == (
        "Searched for user ID \\[Refund here\\]\\(https\\://evil.example\\) \\*\\*now\\*\\* "
        "and email max\\_power@example.com."
    )
    # Drawn as Intercom draws text: the visitor's words, no link, no bold.
    html = str(markdown(searched))
    assert "<a " not in html and "<strong>" not in html
    assert "[Refund here](https://evil.example) **now**" in html
    assert "max_power@example.com" in html
