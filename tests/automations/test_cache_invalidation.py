"""A Stripe event about a customer drops what the inbox card cached about them (issue item 9):
the sidebar shows the failure as soon as the webhook has arrived, not when the cache expires."""

from __future__ import annotations

from typing import Any

from sandbox.canvas_requests import demo_contact, inbox_initialize
from tests.automations.conftest import Loop


def sidebar_text(loop: Loop, key: str) -> str:
    response = loop.app.canvas(
        "/canvas/inbox/initialize", inbox_initialize(demo_contact(key), f"conv_{key}")
    )
    assert response.status_code == 200, response.text
    components: list[dict[str, Any]] = response.json()["canvas"]["content"]["components"]
    return " ".join(str(component) for component in components)


def test_webhook_refreshes_the_cached_sidebar(make_loop) -> None:
    loop = make_loop(snapshot_cache_seconds=600)  # a cache that would outlive the test
    assert "past due" not in sidebar_text(loop, "healthy").lower()
    loop.connect_webhooks()

    loop.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})
    loop.wait_for(lambda: loop.events("contact_healthy", "stripe-payment-failed"))

    assert "past due" in sidebar_text(loop, "healthy").lower()


def test_webhook_refreshes_the_sidebar_even_with_the_automations_off(make_loop) -> None:
    loop = make_loop(snapshot_cache_seconds=600, intercom_access_token="", setup=False)
    assert "past due" not in sidebar_text(loop, "healthy").lower()
    loop.connect_webhooks()

    loop.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})

    loop.wait_for(lambda: "past due" in sidebar_text(loop, "healthy").lower(), what="refresh")
    assert loop.requests() == []  # nothing went to Intercom
