"""Stripe's rate limit (429) in the sidebar: a short limit is waited out (Stripe's `Retry-After`,
else backoff) and the card shows billing; one that outlasts the 8 s render budget gives the
"temporarily unavailable" card at once or within the budget, never an error page."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.inbox.test_inbox import initialize, texts

UNAVAILABLE = "**Billing data temporarily unavailable**"


def stripe_429s(stripe_sandbox: Any) -> list[dict[str, Any]]:
    return [r for r in stripe_sandbox.requests() if r["status"] == 429]


def test_a_short_rate_limit_is_waited_out_and_the_card_shows_billing(
    app_client, stripe_sandbox, assert_canvas
):
    stripe_sandbox.control(
        "POST", "/_sandbox/faults", {"status": 429, "count": 1, "retry_after": 1}
    )
    started = time.monotonic()
    body = initialize(app_client, "healthy")
    elapsed = time.monotonic() - started

    assert_canvas("initialize_response", body)
    assert texts(body)[0] == "**Pro** · €79.00 / month"
    assert len(stripe_429s(stripe_sandbox)) == 1
    assert 1.0 <= elapsed < 4.0  # Retry-After was honoured, once


@pytest.mark.slow
def test_repeated_429s_without_retry_after_back_off_then_degrade_within_the_budget(
    app_client, stripe_sandbox, assert_canvas
):
    stripe_sandbox.control("POST", "/_sandbox/faults", {"status": 429, "count": 1000})
    started = time.monotonic()
    body = initialize(app_client, "healthy")
    elapsed = time.monotonic() - started

    assert_canvas("initialize_response", body)
    assert texts(body)[0] == UNAVAILABLE
    assert elapsed < 8.5
    # Backing off: a handful of attempts, not a hammering of Stripe.
    attempts = stripe_429s(stripe_sandbox)
    assert 2 <= len(attempts) <= 8, len(attempts)
    assert all(r["path"] == "/v1/customers/cus_DemoHealthy" for r in attempts)


def test_a_retry_after_beyond_the_budget_degrades_at_once(
    app_client, stripe_sandbox, assert_canvas
):
    stripe_sandbox.control(
        "POST", "/_sandbox/faults", {"status": 429, "count": 1000, "retry_after": 30}
    )
    started = time.monotonic()
    body = initialize(app_client, "healthy")
    elapsed = time.monotonic() - started

    assert_canvas("initialize_response", body)
    assert texts(body)[0] == UNAVAILABLE
    assert elapsed < 1.5
    assert len(stripe_429s(stripe_sandbox)) == 1

    # Stripe asked for 30 s: the next render doesn't even ask before then.
    stripe_sandbox.control("DELETE", "/_sandbox/faults")
    stripe_sandbox.control("DELETE", "/_sandbox/requests")
    again = initialize(app_client, "healthy")
    assert texts(again)[0] == UNAVAILABLE
    assert stripe_sandbox.requests() == []


def test_a_lock_timeout_is_retried_by_the_sdk_alone(start_app, stripe_sandbox, assert_canvas):
    # Stripe-Should-Retry: true → the SDK's own retry (max_network_retries); we don't add ours.
    client = start_app(stripe_max_network_retries=1)
    stripe_sandbox.control(
        "POST", "/_sandbox/faults", {"status": 429, "count": 2, "code": "lock_timeout"}
    )
    body = initialize(client, "healthy")

    assert_canvas("initialize_response", body)
    assert texts(body)[0] == UNAVAILABLE
    assert len(stripe_429s(stripe_sandbox)) == 2  # first try + the SDK's one retry
