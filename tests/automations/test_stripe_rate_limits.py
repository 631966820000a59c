"""Stripe's rate limit (429) in the automations: a webhook that can't read Stripe in time
answers 503 so Stripe redelivers it; the sweep slows down to the account's limit instead of
failing."""

from __future__ import annotations

import time

import pytest

from tests.automations.conftest import Loop


@pytest.mark.slow  # waits out a 9 s Retry-After
def test_a_rate_limited_webhook_answers_503_and_a_later_redelivery_is_handled(
    loop: Loop,
) -> None:
    customer = loop.stripe_api("/v1/customers/cus_DemoHealthy")
    event = loop.event("customer.updated", customer)
    # Stripe asks for 9 s: more than a webhook may wait (8 s).
    loop.stripe.control("POST", "/_sandbox/faults", {"status": 429, "count": 1, "retry_after": 9})

    started = time.monotonic()
    first = loop.deliver(event)

    assert first.status_code == 503, first.text
    assert time.monotonic() - started < 2  # not waited out
    entry = loop.ledger(event["id"])
    assert entry is not None and entry["outcome"] == "failed"
    assert "StripeRateLimited" in entry["error"]
    assert loop.writes() == []

    # Stripe redelivers (here: every second). The app doesn't ask Stripe again before the 9 s
    # are over: a redelivery answers 503 at once, or waits if the rest fits its 8 s.
    loop.stripe.control("DELETE", "/_sandbox/requests")
    answers = []
    while (answer := loop.deliver(event)).status_code != 200:
        answers.append(answer.status_code)
        assert time.monotonic() - started < 15, answers
        time.sleep(1)
    assert set(answers) <= {503}
    assert time.monotonic() - started >= 9
    entry = loop.ledger(event["id"])
    assert entry is not None and entry["outcome"] == "handled"
    assert entry["attempts"] == len(answers) + 2
    assert not [r for r in loop.stripe.requests() if r["status"] == 429]


@pytest.mark.slow
def test_the_sweep_slows_down_to_the_rate_limit_instead_of_failing(loop: Loop) -> None:
    # Reference: the sweep's work without a limit.
    loop.stripe.control("DELETE", "/_sandbox/requests")
    code, unlimited = loop.cli("sweep", "--dry-run", escalation_delay_hours=24)
    assert code == 0, unlimited
    requests = len([r for r in loop.stripe.requests() if r["path"].startswith("/v1/")])

    # Stripe's limiter at 10 requests/s: the sweep's burst (8 customers at once) exceeds it.
    loop.stripe.control("POST", "/_sandbox/rate_limit", {"per_second": 10})
    loop.stripe.control("DELETE", "/_sandbox/requests")
    started = time.monotonic()
    code, output = loop.cli("sweep", escalation_delay_hours=24)
    elapsed = time.monotonic() - started
    loop.stripe.control("POST", "/_sandbox/rate_limit", {"per_second": None})

    assert code == 0, output
    assert " 0 failed" in output
    refused = [r for r in loop.stripe.requests() if r["status"] == 429]
    assert refused, "the limiter never refused: the test proves nothing"
    assert elapsed >= requests / 10 - 1  # paced by the limit
    # The same work as without a limit.
    assert len(loop.notes("contact_sepa")) == 1
    assert "Billing-Escalated" in loop.tags("contact_sepa")
    assert len(loop.events("contact_trial", "stripe-trial-ending")) == 1
    assert len(loop.events("contact_usage", "stripe-usage-threshold")) == 1
