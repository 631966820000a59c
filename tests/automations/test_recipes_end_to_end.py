"""Each recipe of PRODUCT.md §1.5, driven by the sandbox Stripe's own signed webhooks.

A state change in the sandbox Stripe (a failed renewal, a paid invoice, a trial about to end, a
usage alert) is delivered to the app like Stripe delivers it; the test then watches the sandbox
Intercom until the contact shows the effect.
"""

from __future__ import annotations

import re
from typing import Any

from tests.automations.conftest import Loop


def open_invoice(loop: Loop, customer: str) -> dict[str, Any]:
    invoices = loop.stripe_api("/v1/invoices", {"customer": customer, "status": "open"})
    return invoices["data"][0]


def test_failed_sepa_renewal_tags_the_contact_and_tracks_both_events(loop: Loop) -> None:
    loop.connect_webhooks()
    failed_id = loop.stripe.control(
        "POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoSepa"}
    )["id"]
    invoice = loop.stripe_api(f"/v1/invoices/{failed_id}")

    failed = loop.wait_for(
        lambda: loop.events("contact_sepa", "stripe-payment-failed"), what="payment-failed event"
    )
    returned = loop.wait_for(
        lambda: loop.events("contact_sepa", "stripe-sepa-debit-returned"), what="SEPA return"
    )

    # The tag and the events are written concurrently: either may land first.
    loop.wait_for(lambda: "Billing-Issue" in loop.tags("contact_sepa"), what="Billing-Issue")
    metadata = failed[0]["metadata"]
    assert metadata["amount"] == {"amount": 2900, "currency": "eur"}
    assert metadata["failure_code"] == "insufficient_funds"
    assert metadata["sepa_reason"] == "AM04"
    assert metadata["invoice"] == {"url": invoice["hosted_invoice_url"], "value": invoice["number"]}
    assert metadata["attempt"] == invoice["attempt_count"] == 1
    assert metadata["next_payment_attempt_date"] == invoice["next_payment_attempt"]
    assert failed[0]["ignored_metadata_keys"] == []
    assert returned[0]["metadata"]["sepa_reason"] == "AM04"
    assert returned[0]["metadata"]["amount"] == {"amount": 2900, "currency": "eur"}
    attributes = loop.attributes("contact_sepa")
    assert attributes["stripe_last_payment_failure"] == "insufficient_funds (AM04)"
    assert attributes["stripe_delinquent"] is True
    assert attributes["stripe_subscription_status"] == "past_due"
    assert attributes["stripe_plan"] == "Starter" and attributes["stripe_plan_price"] == 29.0


def test_card_failure_then_payment_removes_the_tag_and_flags_a_new_vip_once(loop: Loop) -> None:
    loop.connect_webhooks()
    # Anna has paid 474 € so far; the default VIP threshold is 500 €.
    loop.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})
    loop.wait_for(lambda: "Billing-Issue" in loop.tags("contact_healthy"), what="Billing-Issue")
    failed = loop.wait_for(lambda: loop.events("contact_healthy", "stripe-payment-failed"))
    assert failed[0]["metadata"]["failure_code"] == "card_declined"
    assert "sepa_reason" not in failed[0]["metadata"]
    assert loop.events("contact_healthy", "stripe-sepa-debit-returned") == []
    assert loop.attributes("contact_healthy")["VIP_Status"] is False

    invoice = open_invoice(loop, "cus_DemoHealthy")
    loop.stripe_post(f"/v1/invoices/{invoice['id']}/pay", {})

    loop.wait_for(lambda: "Billing-Issue" not in loop.tags("contact_healthy"), what="untag")
    loop.wait_for(lambda: loop.notes("contact_healthy"), what="VIP note")
    attributes = loop.wait_for(
        lambda: (a := loop.attributes("contact_healthy"))["stripe_delinquent"] is False and a
    )
    # 6 × 79 € + 74 € (79 € less the 5 € credit) = 548 €.
    assert attributes["stripe_ltv"] == 548.0
    assert attributes["VIP_Status"] is True
    assert attributes["stripe_subscription_status"] == "active"
    notes = loop.notes("contact_healthy")
    assert len(notes) == 1
    assert "VIP customer" in notes[0] and "€548.00" in notes[0] and "€500.00" in notes[0]

    # Another payment later: the VIP note is not written again.
    paid = loop.emitted("invoice.paid", "cus_DemoHealthy")[0]
    assert loop.deliver(loop.event("invoice.paid", paid["data"]["object"])).status_code == 200
    assert len(loop.notes("contact_healthy")) == 1


def test_trial_ending_without_payment_method_sends_the_trial_event(loop: Loop) -> None:
    loop.connect_webhooks()
    # The sandbox emits customer.subscription.trial_will_end for trials ending within 3 days.
    loop.stripe.control("POST", "/_sandbox/clock/advance", {"seconds": 0})

    events = loop.wait_for(lambda: loop.events("contact_trial", "stripe-trial-ending"))

    metadata = events[0]["metadata"]
    assert metadata["plan"] == "Pro" and metadata["days_left"] == 2
    assert metadata["subscription"] == "sub_DemoTrial"
    attributes = loop.attributes("contact_trial")
    assert attributes["stripe_has_payment_method"] is False
    assert attributes["stripe_subscription_status"] == "trialing"
    trial_end = loop.stripe_api("/v1/subscriptions/sub_DemoTrial")["trial_end"]
    assert attributes["stripe_trial_end_at"] == trial_end
    assert metadata["trial_end_date"] == trial_end  # a date Workflow rules can compare
    assert "trial_end" not in metadata


def test_usage_alert_marks_the_contact_high_risk(loop: Loop) -> None:
    loop.connect_webhooks()
    loop.stripe.control(
        "POST",
        "/_sandbox/billing_alerts/trigger",
        {"customer": "cus_DemoUsage", "meter": "mtr_ApiCalls", "value": 8500, "gte": 8000},
    )

    events = loop.wait_for(lambda: loop.events("contact_usage", "stripe-usage-threshold"))

    assert loop.attributes("contact_usage")["usage_status"] == "high_risk"
    metadata = events[0]["metadata"]
    assert (metadata["used"], metadata["limit"], metadata["percent"]) == (8500, 10000, 85)
    assert isinstance(metadata["period_end_date"], int) and "period_end" not in metadata
    assert metadata["meter"] == "mtr_ApiCalls"


def test_canceled_subscription_is_synced_as_canceled(loop: Loop) -> None:
    loop.connect_webhooks()
    loop.stripe_delete("/v1/subscriptions/sub_DemoSharedA")

    attributes = loop.wait_for(
        lambda: (
            (a := loop.attributes("contact_shared_a")).get("stripe_subscription_status")
            == "canceled"
            and a
        )
    )
    assert attributes["stripe_id"] == "cus_DemoSharedA"
    assert attributes["stripe_plan"] == "Starter"  # the ex-customer's last plan


def test_only_allowlisted_attributes_reach_intercom(make_loop) -> None:
    loop = make_loop(intercom_attribute_allowlist="stripe_plan,stripe_subscription_status")
    invoice = open_invoice(loop, "cus_DemoSepa")
    assert loop.deliver(loop.event("invoice.payment_failed", invoice)).status_code == 200

    sent = [r["body"]["custom_attributes"] for r in loop.writes() if r["method"] == "PUT"]
    assert sent and all(
        set(values) <= {"stripe_plan", "stripe_subscription_status"} for values in sent
    )
    assert set(loop.attributes("contact_sepa")) == {"stripe_plan", "stripe_subscription_status"}


def test_card_brand_is_sent_only_when_allowlisted(make_loop) -> None:
    loop = make_loop()
    healthy = loop.stripe_api("/v1/customers/cus_DemoHealthy")
    loop.deliver(loop.event("customer.updated", healthy))
    assert "stripe_card_brand" not in loop.attributes("contact_healthy")

    loop = make_loop(intercom_attribute_allowlist="stripe_id,stripe_card_brand")
    loop.deliver(loop.event("customer.updated", healthy))
    assert loop.attributes("contact_healthy")["stripe_card_brand"] == "visa"


def test_no_name_or_email_is_written_to_intercom(loop: Loop) -> None:
    loop.connect_webhooks()
    loop.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoSepa"})
    loop.wait_for(lambda: loop.events("contact_sepa", "stripe-payment-failed"))

    bodies = " ".join(str(r["body"]) for r in loop.writes())
    for personal in ("Müller Maschinenbau", "buchhaltung@mueller-maschinenbau.de"):
        assert personal not in bodies
    # The IBAN's last four digits, as a number of their own: random ids and timestamps may
    # contain the same four digits.
    assert not re.search(r"(?<![0-9A-Za-z])2227(?![0-9A-Za-z])", bodies)
