"""Never lost, never twice, never stale: out-of-order delivery, Intercom 429 and 500, partial
failures and redelivery, and which contact a customer's billing data goes to."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from tests.automations.conftest import Loop
from tests.conftest import INTERCOM_TOKEN
from tests.http import HTTP


def open_invoice(loop: Loop, customer: str) -> dict[str, Any]:
    return loop.stripe_api("/v1/invoices", {"customer": customer, "status": "open"})["data"][0]


def failed_sepa_invoice_event(loop: Loop) -> dict[str, Any]:
    return loop.event("invoice.payment_failed", open_invoice(loop, "cus_DemoSepa"))


def intercom_api(loop: Loop, method: str, path: str, body: dict[str, Any]) -> Any:
    response = HTTP.request(
        method,
        f"{loop.intercom.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {INTERCOM_TOKEN}", "Intercom-Version": "2.14"},
    )
    response.raise_for_status()
    return response.json()


def timeline(loop: Loop, contact_id: str, kind: str) -> list[dict[str, Any]]:
    return [t for t in loop.activity(contact_id)["timeline"] if t["kind"] == kind]


# --- out of order ---------------------------------------------------------------------------
def test_events_delivered_in_reverse_order_leave_the_current_state(loop: Loop) -> None:
    # A card renewal fails, then the invoice is paid; Stripe's events reach us newest first.
    loop.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})
    loop.stripe_post(f"/v1/invoices/{open_invoice(loop, 'cus_DemoHealthy')['id']}/pay", {})
    history = [
        loop.emitted("invoice.paid", "cus_DemoHealthy")[0],
        loop.emitted("customer.subscription.updated", "cus_DemoHealthy")[-1],  # → past_due
        loop.emitted("invoice.payment_failed", "cus_DemoHealthy")[0],
    ]
    assert history[1]["data"]["object"]["status"] == "past_due"

    for event in history:
        assert loop.deliver(event).status_code == 200

    assert "Billing-Issue" not in loop.tags("contact_healthy")
    assert loop.events("contact_healthy", "stripe-payment-failed") == []
    attributes = loop.attributes("contact_healthy")
    assert attributes["stripe_subscription_status"] == "active"
    assert attributes["stripe_delinquent"] is False


def test_late_failure_event_after_payment_does_not_tag(loop: Loop) -> None:
    loop.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoSepa"})
    failure = loop.emitted("invoice.payment_failed", "cus_DemoSepa")[0]
    loop.stripe_post(
        f"/v1/invoices/{failure['data']['object']['id']}/pay", {"paid_out_of_band": "true"}
    )
    # The seeded failed invoice is still open: pay it too, so nothing is unpaid any more.
    loop.stripe_post(
        f"/v1/invoices/{open_invoice(loop, 'cus_DemoSepa')['id']}/pay",
        {"paid_out_of_band": "true"},
    )

    response = loop.deliver(failure)

    assert response.json()["status"] == "handled"
    assert loop.events("contact_sepa", "stripe-payment-failed") == []
    assert "Billing-Issue" not in loop.tags("contact_sepa")


# --- Intercom rate limits and outages -------------------------------------------------------
def test_intercom_429_is_waited_out_per_retry_after(loop: Loop) -> None:
    loop.intercom.control("POST", "/_sandbox/rate_limit", {"count": 1, "retry_after": 1})
    started = time.monotonic()

    response = loop.deliver(failed_sepa_invoice_event(loop))

    assert response.status_code == 200 and response.json()["status"] == "handled"
    assert time.monotonic() - started >= 1.0
    statuses = [r["status"] for r in loop.requests()]
    assert statuses[0] == 429 and all(s < 300 for s in statuses[1:])
    assert len(loop.events("contact_sepa", "stripe-payment-failed")) == 1


def test_a_long_retry_after_is_left_to_stripes_redelivery(loop: Loop) -> None:
    loop.intercom.control("POST", "/_sandbox/rate_limit", {"count": 1, "retry_after": 60})
    event = failed_sepa_invoice_event(loop)
    started = time.monotonic()

    response = loop.deliver(event)

    assert response.status_code == 503
    assert time.monotonic() - started < 5  # the webhook does not hang for a minute
    assert "rate limited" in loop.ledger_row(event["id"])["error"]
    assert loop.deliver(event).json()["status"] == "handled"


def test_intercom_outage_answers_non_2xx_and_redelivery_completes_once(loop: Loop) -> None:
    loop.intercom.control("POST", "/_sandbox/faults", {"status": 500, "count": 100})
    event = failed_sepa_invoice_event(loop)

    response = loop.deliver(event)

    assert response.status_code == 503
    row = loop.ledger_row(event["id"])
    assert row["outcome"] == "failed" and row["handled_at"] is None
    assert "IntercomUnavailable" in row["error"] and "500" in row["error"]
    assert loop.events("contact_sepa") == [] and loop.tags("contact_sepa") == set()

    loop.intercom.control("DELETE", "/_sandbox/faults")
    again = loop.deliver(event)

    assert again.status_code == 200 and again.json()["status"] == "handled"
    row = loop.ledger_row(event["id"])
    assert row["outcome"] == "handled" and row["error"] is None and row["attempts"] == 2
    assert len(loop.events("contact_sepa", "stripe-payment-failed")) == 1
    assert loop.tags("contact_sepa") == {"Billing-Issue"}


def test_failure_halfway_is_completed_by_redelivery_without_duplicates(loop: Loop) -> None:
    # Attributes and tag get through; the data event does not.
    loop.intercom.control(
        "POST", "/_sandbox/faults", {"status": 503, "count": 100, "path_prefix": "/events"}
    )
    event = failed_sepa_invoice_event(loop)
    assert loop.deliver(event).status_code == 503
    assert loop.tags("contact_sepa") == {"Billing-Issue"}
    assert loop.events("contact_sepa") == []

    loop.intercom.control("DELETE", "/_sandbox/faults")
    assert loop.deliver(event).status_code == 200
    assert loop.deliver(event).json()["status"] == "duplicate"

    assert len(loop.events("contact_sepa", "stripe-payment-failed")) == 1
    assert len(timeline(loop, "contact_sepa", "tag_added")) == 1


def test_stripe_outage_answers_non_2xx_and_writes_nothing(loop: Loop) -> None:
    loop.stripe.control("POST", "/_sandbox/faults", {"status": 500, "count": 100})
    event = loop.event("customer.updated", {"object": "customer", "id": "cus_DemoSepa"})

    response = loop.deliver(event)

    assert response.status_code == 503
    assert "StripeUnavailable" in loop.ledger_row(event["id"])["error"]
    assert loop.requests() == []


def test_note_that_failed_is_written_once_on_redelivery(loop: Loop) -> None:
    # Lena's lifetime value (577 €) is past the VIP threshold: invoice.paid asks for a note.
    paid = loop.stripe_api("/v1/invoices", {"customer": "cus_DemoVip", "status": "paid"})["data"]
    event = loop.event("invoice.paid", paid[0])
    loop.intercom.control(
        "POST",
        "/_sandbox/faults",
        {"status": 500, "count": 100, "path_prefix": "/contacts/contact_vip/notes"},
    )
    assert loop.deliver(event).status_code == 503
    assert loop.notes("contact_vip") == []

    loop.intercom.control("DELETE", "/_sandbox/faults")
    assert loop.deliver(event).status_code == 200
    second_paid_event = loop.event("invoice.paid", paid[1])
    assert loop.deliver(second_paid_event).status_code == 200

    notes = loop.notes("contact_vip")
    assert len(notes) == 1 and "VIP customer" in notes[0]
    assert loop.attributes("contact_vip")["VIP_Status"] is True


def test_note_written_by_an_attempt_that_then_crashed_is_not_written_again(loop: Loop) -> None:
    # The world after a crash between Intercom accepting the note and our marking it done:
    # the mark is still pending, the note is in Intercom.
    path = loop.app.settings.database_url.split(":///", 1)[1]
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO automation_marks (key, created_at, detail) VALUES (?, ?, ?)",
            (
                "vip/cus_DemoVip",
                "2026-01-01 00:00:00",
                json.dumps({"state": "pending", "created_at": 1}),
            ),
        )
    intercom_api(
        loop,
        "POST",
        "/contacts/contact_vip/notes",
        {"body": "<p>VIP customer</p><p>ref vip/cus_DemoVip</p>", "admin_id": "admin_1"},
    )
    paid = loop.stripe_api("/v1/invoices", {"customer": "cus_DemoVip", "status": "paid"})["data"]

    assert loop.deliver(loop.event("invoice.paid", paid[0])).status_code == 200
    assert loop.deliver(loop.event("invoice.paid", paid[1])).status_code == 200

    assert len(loop.notes("contact_vip")) == 1


# --- which contact --------------------------------------------------------------------------
def test_shared_email_without_a_link_writes_to_nobody(loop: Loop) -> None:
    customer = loop.stripe_api("/v1/customers/cus_DemoSharedB")
    event = loop.event("customer.updated", customer)

    response = loop.deliver(event)

    assert response.json()["status"] == "ambiguous_contact"
    assert loop.ledger_row(event["id"])["outcome"] == "ambiguous_contact"
    assert loop.writes() == []


def test_contact_linked_by_stripe_id_attribute_gets_the_data(loop: Loop) -> None:
    intercom_api(
        loop,
        "PUT",
        "/contacts/contact_shared_b",
        {"custom_attributes": {"stripe_id": "cus_DemoSharedB"}},
    )
    customer = loop.stripe_api("/v1/customers/cus_DemoSharedB")

    assert loop.deliver(loop.event("customer.updated", customer)).json()["status"] == "handled"

    assert loop.attributes("contact_shared_b")["stripe_subscription_status"] == "canceled"
    assert "stripe_subscription_status" not in loop.attributes("contact_shared_a")


def test_contact_found_by_unique_email_gets_the_data(loop: Loop) -> None:
    customer = loop.stripe_post("/v1/customers", {"email": "nobody@example.com"})

    assert loop.deliver(loop.event("customer.updated", customer)).json()["status"] == "handled"

    assert loop.attributes("contact_nobody")["stripe_id"] == customer["id"]


def test_user_id_metadata_finds_the_contact_by_external_id(loop: Loop) -> None:
    customer = loop.stripe_api("/v1/customers/cus_DemoTrial")

    assert loop.deliver(loop.event("customer.updated", customer)).json()["status"] == "handled"

    lookups = [r["path"] for r in loop.requests() if r["method"] == "GET"]
    assert "/contacts/find_by_external_id/usr_jonas" in lookups
    assert loop.attributes("contact_trial")["stripe_id"] == "cus_DemoTrial"
