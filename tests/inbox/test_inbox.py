"""The inbox sidebar, end to end: signed Canvas Kit requests → app → sandbox Stripe over HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe

from sandbox.bench import longest_chain
from sandbox.canvas_requests import demo_contact, inbox_initialize, inbox_submit, sign
from tests.conftest import STRIPE_KEY, WEBHOOK_SECRET


def texts(body: dict[str, Any]) -> list[str]:
    """Every visible string of a canvas: texts, table cells, buttons, list items."""
    out = []
    for c in body["canvas"]["content"]["components"]:
        if c["type"] == "text":
            out.append(c["text"])
        elif c["type"] == "data-table":
            out += [f"{i['field']}: {i['value']}" for i in c["items"]]
        elif c["type"] == "button":
            out.append(f"[{c['label']}]")
        elif c["type"] == "list":
            out += [f"{i['title']} | {i.get('subtitle', '')}" for i in c["items"]]
    return out


def component_ids(body: dict[str, Any]) -> list[str]:
    ids = []
    for c in body["canvas"]["content"]["components"]:
        if "id" in c:
            ids.append(c["id"])
        if c["type"] == "list":
            ids += [i["id"] for i in c["items"]]
    return ids


def initialize(app_client, key: str) -> dict[str, Any]:
    response = app_client.canvas(
        "/canvas/inbox/initialize", inbox_initialize(demo_contact(key), f"conv_{key}")
    )
    assert response.status_code == 200, response.text
    return response.json()


def submit(app_client, key: str, component_id: str, previous: dict[str, Any]) -> dict[str, Any]:
    payload = inbox_submit(demo_contact(key), f"conv_{key}", component_id, previous["canvas"])
    response = app_client.canvas("/canvas/inbox/submit", payload)
    assert response.status_code == 200, response.text
    return response.json()


def test_healthz(app_client):
    assert app_client.http.get("/healthz").json() == {"status": "ok", "invalidations": "in-process"}


# --- request verification ---
def test_unsigned_request_is_refused_before_any_stripe_call(app_client, stripe_sandbox):
    body = json.dumps(inbox_initialize(demo_contact("healthy"), "conv_healthy"))
    response = app_client.http.post(
        "/canvas/inbox/initialize", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert stripe_sandbox.requests() == []


def test_wrong_signature_is_refused(app_client, stripe_sandbox):
    body = json.dumps(inbox_initialize(demo_contact("healthy"), "conv_healthy")).encode()
    response = app_client.http.post(
        "/canvas/inbox/initialize",
        content=body,
        headers={"X-Body-Signature": sign(body, "not-the-client-secret")},
    )
    assert response.status_code == 401
    assert stripe_sandbox.requests() == []


def test_signature_is_checked_over_the_raw_bytes(app_client):
    # Same JSON, different bytes (whitespace): the signature of the compact form must not pass.
    payload = inbox_initialize(demo_contact("healthy"), "conv_healthy")
    compact = json.dumps(payload, separators=(",", ":")).encode()
    spaced = json.dumps(payload, indent=2).encode()
    secret = app_client.settings.intercom_client_secret.get_secret_value()
    response = app_client.http.post(
        "/canvas/inbox/initialize",
        content=spaced,
        headers={"X-Body-Signature": sign(compact, secret)},
    )
    assert response.status_code == 401


def test_signed_but_malformed_json_is_a_400(app_client):
    body = b'{"contact": {"id": '
    secret = app_client.settings.intercom_client_secret.get_secret_value()
    response = app_client.http.post(
        "/canvas/inbox/initialize", content=body, headers={"X-Body-Signature": sign(body, secret)}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_signed_json_of_the_wrong_shape_is_a_422(app_client):
    body = json.dumps({"contact": "anna@example.com"}).encode()
    secret = app_client.settings.intercom_client_secret.get_secret_value()
    response = app_client.http.post(
        "/canvas/inbox/initialize", content=body, headers={"X-Body-Signature": sign(body, secret)}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "contact"


def test_body_over_one_megabyte_is_a_413(app_client, stripe_sandbox):
    body = b'{"padding": "' + b"x" * 1_100_000 + b'"}'
    secret = app_client.settings.intercom_client_secret.get_secret_value()
    response = app_client.http.post(
        "/canvas/inbox/initialize", content=body, headers={"X-Body-Signature": sign(body, secret)}
    )
    assert response.status_code == 413
    assert stripe_sandbox.requests() == []


# --- the cards, one per demo customer ---
def test_healthy_customer_summary(app_client, assert_canvas):
    body = initialize(app_client, "healthy")
    assert_canvas("initialize_response", body)
    shown = texts(body)
    assert shown[0] == "**Pro** · €79.00 / month"
    assert "Status: Active" in shown
    assert "Payment method: Visa •••• 4242 (12/2028)" in shown
    assert any(s.startswith("Next invoice: €") and " on " in s for s in shown)
    assert not any(s.startswith("⚠") for s in shown)
    assert body["canvas"]["stored_data"]["customer_id"] == "cus_DemoHealthy"


def test_sepa_customer_shows_the_failed_debit_and_its_reason(app_client, assert_canvas):
    body = initialize(app_client, "sepa")
    assert_canvas("initialize_response", body)
    shown = texts(body)
    assert shown[0] == "**Starter** · €29.00 / month"
    assert "Status: Past due" in shown
    assert "Payment method: SEPA •••• 2227" in shown
    assert "⚠ Last payment failed: insufficient funds (AM04)" in shown
    assert "⚠ Subscription is past due" in shown


def test_trial_without_payment_method_is_flagged(app_client, assert_canvas):
    body = initialize(app_client, "trial")
    assert_canvas("initialize_response", body)
    shown = texts(body)
    assert any(s.startswith("Status: Trial until ") for s in shown)
    assert "Payment method: None" in shown
    assert "⚠ Trial ends in 2 day(s), no payment method" in shown


def test_details_show_payments_balance_lifetime_value_and_stripe_link(app_client, assert_canvas):
    summary = initialize(app_client, "healthy")
    details = submit(app_client, "healthy", "details", summary)
    assert_canvas("submit_response", details)
    shown = texts(details)
    assert "**Last payments**" in shown
    paid_rows = [s for s in shown if s.endswith(": €79.00 · Paid")]
    assert len(paid_rows) == 3
    assert "Balance: €5.00 credit" in shown
    assert "Lifetime value: €474.00" in shown  # 6 paid invoices × €79
    assert "[Open in Stripe](https://dashboard.stripe.com/test/customers/cus_DemoHealthy)" in shown
    back = submit(app_client, "healthy", "summary", details)
    assert texts(back)[0] == "**Pro** · €79.00 / month"


def test_vip_lifetime_value_is_net_of_refunds(app_client):
    details = submit(app_client, "vip", "details", initialize(app_client, "vip"))
    assert "Lifetime value: €577.00" in texts(details)


def test_usage_against_the_plan_limit(app_client):
    summary = initialize(app_client, "usage")
    assert "Usage at 85 % of the plan's limit" in " ".join(texts(summary))
    details = submit(app_client, "usage", "details", summary)
    assert "Usage: 8,500 / 10,000 (85 %)" in texts(details)


def test_sepa_failed_payment_in_details_names_the_reason(app_client):
    details = submit(app_client, "sepa", "details", initialize(app_client, "sepa"))
    assert any(s.endswith("€29.00 · Failed: insufficient funds (AM04)") for s in texts(details))


def test_two_customers_sharing_an_email_let_the_agent_pick(app_client, assert_canvas):
    body = initialize(app_client, "shared_b")  # Team Beta: no user_id in Stripe → email match
    assert_canvas("initialize_response", body)
    assert texts(body)[0] == "**2 Stripe customers match**"
    assert {"pick:cus_DemoSharedA", "pick:cus_DemoSharedB"} <= set(component_ids(body))
    items = [c for c in body["canvas"]["content"]["components"] if c["type"] == "list"][0]["items"]
    assert all(item["action"] == {"type": "submit"} for item in items)  # clickable in Intercom
    chosen = submit(app_client, "shared_b", "pick:cus_DemoSharedB", body)
    assert_canvas("submit_response", chosen)
    assert chosen["canvas"]["stored_data"]["customer_id"] == "cus_DemoSharedB"
    assert "Status: Canceled" in texts(chosen)
    # The choice is kept: the details view is about the chosen customer.
    details = submit(app_client, "shared_b", "details", chosen)
    assert "Customer: cus_DemoSharedB" in texts(details)
    # And the agent can go back to the list.
    again = submit(app_client, "shared_b", "pick_other", details)
    assert texts(again)[0] == "**2 Stripe customers match**"


def test_user_id_in_stripe_metadata_wins_over_a_shared_email(app_client):
    body = initialize(app_client, "shared_a")  # usr_alpha is in Team Alpha's metadata
    assert body["canvas"]["stored_data"]["customer_id"] == "cus_DemoSharedA"


def test_no_match_names_what_was_searched(app_client, assert_canvas):
    body = initialize(app_client, "nobody")
    assert_canvas("initialize_response", body)
    shown = texts(body)
    assert shown[0] == "**No Stripe customer found**"
    assert "Searched for email nobody@example.com." in shown


def test_email_matches_case_insensitively(app_client):
    contact = demo_contact("vip") | {"email": "LENA@Fischer-Digital.example", "external_id": None}
    response = app_client.canvas("/canvas/inbox/initialize", inbox_initialize(contact, "conv_vip"))
    assert response.json()["canvas"]["stored_data"]["customer_id"] == "cus_DemoVip"


def test_german_agent_locale(start_app):
    client = start_app(agent_locale="de")
    shown = texts(initialize(client, "sepa"))
    assert shown[0] == "**Starter** · 29,00\xa0€ / Monat"
    assert "⚠ Letzte Zahlung fehlgeschlagen: Kontodeckung nicht ausreichend (AM04)" in shown


# --- Stripe failing or slow ---
def test_stripe_down_gives_a_retry_card_then_recovers(app_client, stripe_sandbox, assert_canvas):
    stripe_sandbox.control(
        "POST", "/_sandbox/faults", {"path_prefix": "/v1/", "status": 500, "count": 100}
    )
    body = initialize(app_client, "healthy")
    assert_canvas("initialize_response", body)
    assert texts(body)[:2] == [
        "**Billing data temporarily unavailable**",
        "Stripe did not answer in time. Nothing was changed.",
    ]
    assert "retry" in component_ids(body)
    stripe_sandbox.control("DELETE", "/_sandbox/faults")
    again = submit(app_client, "healthy", "retry", body)
    assert_canvas("submit_response", again)
    assert texts(again)[0] == "**Pro** · €79.00 / month"


@pytest.mark.slow
def test_stripe_hanging_answers_within_ten_seconds(start_app, stripe_sandbox):
    client = start_app(stripe_timeout_seconds=8)
    stripe_sandbox.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/", "status": "hang", "delay_ms": 15000, "count": 100},
    )
    started = time.monotonic()
    body = initialize(client, "healthy")
    elapsed = time.monotonic() - started
    stripe_sandbox.control("DELETE", "/_sandbox/faults")
    assert texts(body)[0] == "**Billing data temporarily unavailable**"
    assert elapsed < 10


# --- speed ---
def test_cold_render_needs_two_sequential_round_trips_and_warm_render_none(
    app_client, stripe_sandbox
):
    # With latency injected, concurrent requests overlap in the sandbox's log. It is long enough
    # that a busy machine starting one of a concurrent batch late can't make it look sequential.
    stripe_sandbox.control("POST", "/_sandbox/latency", {"ms": 250})
    initialize(app_client, "usage")
    log = stripe_sandbox.requests()
    assert longest_chain(log) <= 2, log
    stripe_sandbox.control("DELETE", "/_sandbox/requests")
    initialize(app_client, "usage")
    assert stripe_sandbox.requests() == []


def test_a_customer_with_500_paid_invoices_renders_within_two_round_trips(
    start_app, stripe_sandbox
):
    app_client = start_app(snapshot_cache_seconds=0)  # every render cold
    # Long enough that a busy machine starting one of a concurrent batch late can't make it
    # look sequential (as in the test above).
    stripe_sandbox.control("POST", "/_sandbox/latency", {"ms": 200})
    summary = initialize(app_client, "loyal")
    answered = time.monotonic()  # the sandbox logs monotonic times too
    # What the answer waited for ended before it; later pages of the history go on after it.
    waited_for = [r for r in stripe_sandbox.requests() if r["end"] and r["end"] <= answered]
    assert longest_chain(waited_for) <= 2, waited_for
    assert texts(summary)[0] == "**Business** · €199.00 / month"
    # The rest of the history (5 pages of invoices and of charges) is added up meanwhile;
    # the details show the sum as soon as it is known.
    deadline = time.monotonic() + 10
    while True:
        shown = texts(submit(app_client, "loyal", "details", summary))
        if "Lifetime value: €9,488.40" in shown or time.monotonic() > deadline:
            break
        assert "Lifetime value: being calculated…" in shown
        time.sleep(0.2)
    assert "Lifetime value: €9,488.40" in shown  # 24 × €199 + 476 label packs × €9.90
    # Later cold renders take the lifetime value from its own cache: no paging again.
    stripe_sandbox.control("DELETE", "/_sandbox/requests")
    initialize(app_client, "loyal")
    paths = [f"{r['path']}?{r['query']}" for r in stripe_sandbox.requests()]
    assert not [p for p in paths if "status=paid" in p or "starting_after" in p], paths
    assert len(paths) <= 5, paths


def test_a_refund_webhook_drops_the_cached_lifetime_value(start_app, stripe_sandbox):
    app_client = start_app(snapshot_cache_seconds=0)
    before = texts(submit(app_client, "vip", "details", initialize(app_client, "vip")))
    assert "Lifetime value: €577.00" in before
    stripe_sandbox.control(
        "POST",
        "/_sandbox/webhook_endpoints",
        {"url": f"{app_client.url}/webhooks/stripe", "secret": WEBHOOK_SECRET},
    )
    charge = next(
        c
        for c in stripe_sandbox.state.all("charge")
        if c["customer"] == "cus_DemoVip" and not c["amount_refunded"]
    )
    stripe.StripeClient(STRIPE_KEY, base_addresses={"api": stripe_sandbox.url}).v1.refunds.create(
        {"charge": charge["id"], "amount": 1000}
    )  # as if refunded in the Stripe dashboard: Stripe sends charge.refunded
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = texts(submit(app_client, "vip", "details", initialize(app_client, "vip")))
        if "Lifetime value: €567.00" in after:
            break
        time.sleep(0.2)
    assert "Lifetime value: €567.00" in after


def test_an_action_on_a_customer_stripe_no_longer_knows_answers_with_a_card(
    app_client, assert_canvas
):
    summary = initialize(app_client, "healthy")
    gone = {**summary["canvas"], "stored_data": {"customer_id": "cus_Gone", "matches": 1}}
    payload = inbox_submit(demo_contact("healthy"), "conv_healthy", "send_card:savings", gone)
    response = app_client.canvas("/canvas/inbox/submit", payload)
    assert response.status_code == 200, response.text
    assert_canvas("submit_response", response.json())
    assert texts(response.json())[0] == "**That didn't work**"
