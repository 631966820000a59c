"""`POST /webhooks/stripe` as Stripe sees it: verification, the event ledger, de-duplication."""

from __future__ import annotations

import json
import time

import stripe

from tests.automations.conftest import Loop
from tests.conftest import WEBHOOK_SECRET


def sepa_invoice(loop: Loop) -> dict:
    """The demo SEPA customer's open invoice whose payment failed (seeded)."""
    invoices = loop.stripe_api("/v1/invoices", {"customer": "cus_DemoSepa", "status": "open"})
    return invoices["data"][0]


def test_missing_signature_is_refused_and_changes_nothing(loop: Loop) -> None:
    event = loop.event("invoice.payment_failed", sepa_invoice(loop))
    response = loop.app.http.post("/webhooks/stripe", json=event)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_signature"
    assert loop.ledger(event["id"]) is None
    assert loop.requests() == []


def test_signature_with_another_secret_is_refused(loop: Loop) -> None:
    event = loop.event("invoice.payment_failed", sepa_invoice(loop))
    response = loop.deliver(event, secret="whsec_someone_else")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert loop.ledger(event["id"]) is None
    assert loop.requests() == []


def test_tampered_body_is_refused(loop: Loop) -> None:
    event = loop.event("invoice.payment_failed", sepa_invoice(loop))
    signed_for = loop.event("invoice.paid", sepa_invoice(loop))
    header = stripe.WebhookSignature.generate_signature_header(
        json.dumps(signed_for), WEBHOOK_SECRET
    )
    response = loop.deliver(event, signature=header)

    assert response.status_code == 400
    assert loop.requests() == []


def test_signature_older_than_five_minutes_is_refused(loop: Loop) -> None:
    event = loop.event("invoice.payment_failed", sepa_invoice(loop))
    response = loop.deliver(event, timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert loop.ledger(event["id"]) is None


def test_without_a_configured_secret_nothing_verifies(make_loop) -> None:
    loop = make_loop(stripe_webhook_secret="")
    event = loop.event("invoice.payment_failed", sepa_invoice(loop))
    # Even a signature made with an empty secret must not pass.
    response = loop.deliver(event, secret="")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook_not_configured"
    assert loop.ledger(event["id"]) is None
    assert loop.requests() == []


def test_event_type_we_do_not_handle_is_acknowledged_and_recorded(loop: Loop) -> None:
    event = loop.event("invoice.created", sepa_invoice(loop))
    response = loop.deliver(event)

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    row = loop.ledger_row(event["id"])
    assert row["type"] == "invoice.created" and row["outcome"] == "ignored"
    assert row["handled_at"] is not None
    assert loop.requests() == []


def test_handled_event_is_recorded_with_its_outcome(loop: Loop) -> None:
    event = loop.event("invoice.payment_failed", sepa_invoice(loop))
    response = loop.deliver(event)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "handled"
    row = loop.ledger_row(event["id"])
    assert row["type"] == "invoice.payment_failed"
    assert row["customer_id"] == "cus_DemoSepa"
    assert row["outcome"] == "handled" and row["error"] is None
    assert row["received_at"] <= row["handled_at"]
    assert row["attempts"] == 1


def test_redelivered_event_causes_no_new_intercom_write(loop: Loop) -> None:
    event = loop.event("invoice.payment_failed", sepa_invoice(loop))
    assert loop.deliver(event).status_code == 200
    requests_after_first = len(loop.requests())
    assert loop.events("contact_sepa", "stripe-payment-failed")

    again = loop.deliver(event)

    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "outcome": "handled"}
    assert len(loop.requests()) == requests_after_first  # not even a read
    assert len(loop.events("contact_sepa", "stripe-payment-failed")) == 1
    assert loop.ledger_row(event["id"])["attempts"] == 2


def test_every_intercom_request_pins_api_version_2_14(loop: Loop) -> None:
    loop.deliver(loop.event("invoice.payment_failed", sepa_invoice(loop)))

    versions = loop.intercom.control("GET", "/_sandbox/requests")["intercom_versions_seen"]
    assert versions and set(versions) == {"2.14"}


def test_customer_without_intercom_contact_is_recorded_and_nobody_is_created(loop: Loop) -> None:
    customer = loop.stripe_post(
        "/v1/customers", {"email": "stranger@example.org", "name": "Stranger"}
    )
    event = loop.event("customer.updated", customer)
    contacts_before = len(loop.intercom.control("GET", "/_sandbox/contacts")["data"])

    response = loop.deliver(event)

    assert response.status_code == 200
    assert response.json()["status"] == "no_contact"
    assert loop.ledger_row(event["id"])["outcome"] == "no_contact"
    assert loop.writes() == []
    assert len(loop.intercom.control("GET", "/_sandbox/contacts")["data"]) == contacts_before
