"""Every fault path answers like the happy path: Stripe refusing a read (a 4xx other than
`resource_missing`) gives the "temporarily unavailable" card in the sidebar and the Messenger and
a JSON error for Fin; signed but malformed input gets a 4xx JSON error; 405 names `Allow`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe
from itsdangerous import URLSafeTimedSerializer

from sandbox.canvas_requests import (
    demo_contact,
    inbox_initialize,
    inbox_submit,
    messenger_initialize,
    messenger_submit,
)
from tests.conftest import FIN_TOKEN, SECRET_KEY, WEBHOOK_SECRET, AppClient, Sandbox

# Stripe's 400s for reads, as Stripe words them (https://docs.stripe.com/error-codes).
STRIPE_READ_REFUSALS = {
    "unparseable_query": {
        "type": "invalid_request_error",
        "code": "parameter_invalid",
        "param": "query",
        "message": "We were unable to parse your search query. Query: email:'anna@example.com'",
    },
    "malformed_id": {
        "type": "invalid_request_error",
        "code": "parameter_invalid",
        "param": "id",
        "message": "Invalid string: cus_%%%",
    },
    "search_unavailable_in_region": {
        "type": "invalid_request_error",
        "message": "Search is not available for accounts in your region.",
    },
}


def refuse_reads(stripe_sandbox: Sandbox, error: dict[str, str]) -> None:
    stripe_sandbox.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/customers", "status": 400, "count": 1000, "error": error},
    )


def texts(body: dict[str, Any]) -> list[str]:
    canvas = body.get("canvas", body)
    return [c.get("text", c.get("label", "")) for c in canvas["content"]["components"]]


@pytest.mark.parametrize("refusal", sorted(STRIPE_READ_REFUSALS))
def test_stripe_refusing_a_read_gives_the_unavailable_card_and_a_fin_error(
    refusal: str,
    app_client: AppClient,
    stripe_sandbox: Sandbox,
    assert_canvas: Callable[[str, dict[str, Any]], None],
) -> None:
    refuse_reads(stripe_sandbox, STRIPE_READ_REFUSALS[refusal])
    for key in ("healthy", "sepa"):  # resolved by stripe_id, and by email (search)
        inbox = app_client.canvas(
            "/canvas/inbox/initialize", inbox_initialize(demo_contact(key), f"conv_{key}")
        )
        assert inbox.status_code == 200, inbox.text
        assert_canvas("initialize_response", inbox.json())
        assert texts(inbox.json())[0] == "**Billing data temporarily unavailable**"
        assert "Retry" in texts(inbox.json())

        retry = app_client.canvas(
            "/canvas/inbox/submit",
            inbox_submit(demo_contact(key), f"conv_{key}", "retry", inbox.json()["canvas"]),
        )
        assert retry.status_code == 200, retry.text
        assert texts(retry.json())[0] == "**Billing data temporarily unavailable**"

        card = app_client.canvas(
            "/canvas/messenger/initialize",
            messenger_initialize({"card": "billing_status"}, demo_contact(key)),
        )
        assert card.status_code == 200, card.text
        assert_canvas("initialize_response", card.json())
        assert texts(card.json())[0] == "**We couldn't reach the payment provider**"

        pressed = app_client.canvas(
            "/canvas/messenger/submit",
            messenger_submit("retry_payment", card.json()["canvas"], demo_contact(key)),
        )
        assert pressed.status_code == 200, pressed.text
        assert_canvas("submit_response", pressed.json())
        assert texts(pressed.json())[0] == "**We couldn't reach the payment provider**"

    fin = app_client.fin("/fin/billing-status", {"email": "anna@example.com"})
    assert fin.status_code == 409
    assert fin.json()["error"]["code"] == "stripe_rejected"
    assert "anna@example.com" not in fin.text


def deeply_nested(depth: int = 100_000) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def test_deeply_nested_json_is_a_400_everywhere(app_client: AppClient) -> None:
    secret = app_client.settings.intercom_client_secret.get_secret_value()
    body = deeply_nested()
    from sandbox.canvas_requests import sign

    for path in ("/canvas/inbox/initialize", "/canvas/messenger/submit"):
        response = app_client.http.post(
            path,
            content=body,
            headers={"X-Body-Signature": sign(body, secret), "Content-Type": "application/json"},
        )
        assert response.status_code == 400, (path, response.status_code)
        assert response.json()["error"]["code"] == "invalid_json"
    fin = app_client.http.post(
        "/fin/billing-status",
        content=body,
        headers={"Authorization": f"Bearer {FIN_TOKEN}", "Content-Type": "application/json"},
    )
    assert fin.status_code == 400
    webhook = deliver_raw(app_client, body.decode())
    assert webhook.status_code == 400
    assert webhook.json()["error"]["code"] == "invalid_payload"


def deliver_raw(app_client: AppClient, payload: str) -> httpx.Response:
    header = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=int(time.time())
    )
    return app_client.http.post(
        "/webhooks/stripe",
        content=payload.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
    )


@pytest.mark.parametrize(
    "payload",
    [
        "[]",
        "{}",
        '"evt"',
        "null",
        '{"id": 1, "type": "invoice.paid", "data": {"object": {"id": "in_1"}}}',
        '{"id": "evt_1", "type": "invoice.paid"}',
        '{"id": "evt_1", "type": "invoice.paid", "data": {"object": "in_1"}}',
        '{"id": "evt_1", "type": "invoice.paid", "data": {"object": {"customer": "cus_x"}}}',
        '{"id": "evt_1", "type": "invoice.paid", "data": {"object": {"id": "in_1", '
        '"customer": 7}}}',
        '{"id": "evt_1", "type": "billing.alert.triggered", "data": {"object": '
        '{"object": "billing.alert_triggered", "customer": "cus_DemoUsage"}}}',
        '{"id": "evt_1", "type": "invoice.paid", "data": {"object": {"id": "in_1", '
        '"object": "invoice", "customer": "cus_DemoSepa", "currency": "eur"}}}',
    ],
)
def test_a_signed_webhook_body_that_is_not_an_event_is_a_400(
    app_client: AppClient, payload: str
) -> None:
    response = deliver_raw(app_client, payload)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_payload"


def test_an_event_whose_object_stripe_calls_malformed_is_a_4xx(
    app_client: AppClient, stripe_sandbox: Sandbox
) -> None:
    stripe_sandbox.control(
        "POST",
        "/_sandbox/faults",
        {
            "path_prefix": "/v1/invoices",
            "status": 400,
            "count": 10,
            "error": STRIPE_READ_REFUSALS["malformed_id"],
        },
    )
    event = {
        "id": "evt_malformed_1",
        "object": "event",
        "type": "invoice.payment_failed",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "in_%%%",
                "object": "invoice",
                "customer": "cus_DemoSepa",
                "amount_due": 2900,
                "amount_paid": 0,
                "amount_remaining": 2900,
                "currency": "eur",
            }
        },
    }
    response = deliver_raw(app_client, json.dumps(event))
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == "not_handled"


def test_a_non_string_customer_in_stored_data_is_not_a_500(
    app_client: AppClient, assert_canvas: Callable[[str, dict[str, Any]], None]
) -> None:
    for bad in ({"id": "cus_DemoHealthy"}, ["cus_DemoHealthy"], 42, True):
        canvas = {"content": {"components": []}, "stored_data": {"customer_id": bad}}
        for component in ("details", "retry", "refund", "send_card:savings"):
            response = app_client.canvas(
                "/canvas/inbox/submit",
                inbox_submit(demo_contact("healthy"), "conv_1", component, canvas),
            )
            assert response.status_code == 200, (bad, component, response.text)
            assert_canvas("submit_response", response.json())


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "recover", "invoice": "in_1"},  # no customer
        {"kind": "recover", "customer": {"id": "cus_DemoSepa"}, "locale": "en"},
        {"kind": "trial", "customer": "cus_DemoTrial", "invoice": ["in_1"]},
        {"kind": "trial", "customer": "cus_DemoTrial", "payment_method": 5},
        {"kind": "refund", "customer": "cus_DemoSepa"},
        ["recover", "cus_DemoSepa"],
        "cus_DemoSepa",
    ],
)
def test_a_malformed_link_payload_signed_with_our_key_is_a_400_page(
    app_client: AppClient, payload: Any
) -> None:
    token = URLSafeTimedSerializer(SECRET_KEY, salt="payment-link").dumps(payload)
    for path in (f"/l/{token}", f"/l/{token}/done?session_id=cs_1", f"/l/{token}/cancel"):
        response = app_client.http.get(path)
        assert response.status_code == 400, (path, response.status_code)
        assert "text/html" in response.headers["content-type"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/canvas/inbox/initialize", {"POST"}),
        ("PUT", "/canvas/messenger/submit", {"POST"}),
        ("GET", "/fin/refunds", {"POST"}),
        ("POST", "/fin/openapi.json", {"GET", "HEAD"}),
        ("DELETE", "/webhooks/stripe", {"POST"}),
        ("PUT", "/l/abc/done", {"GET", "HEAD", "POST"}),
    ],
)
def test_405_names_the_allowed_methods(
    app_client: AppClient, method: str, path: str, allowed: set[str]
) -> None:
    response = app_client.http.request(method, path)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
    assert response.json()["error"]["code"] == "method_not_allowed"
