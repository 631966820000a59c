"""Money actions answer within Intercom's patience (~10 s) however slow Stripe is: "processing —
this card updates" while the work finishes in the background, once; the next view shows the
outcome."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.messenger.driver import Messenger, button_ids, visible

SLOW_MS = 7000  # per Stripe request: a retry makes ~7 sequential requests


def slow_stripe(messenger: Messenger, ms: float) -> None:
    messenger.stripe.control("POST", "/_sandbox/latency", {"ms": ms})


def wait_for(condition: Callable[[], bool], timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the background work did not finish"
        time.sleep(0.2)


def idle(messenger: Messenger) -> bool:
    """Every Stripe request the app sent has been answered, and the app holds no work."""
    pending = [r for r in messenger.stripe_requests() if r["end"] is None]
    return not pending and not messenger.app.services.background


@pytest.mark.slow
def test_a_slow_retry_answers_processing_in_time_and_debits_once(start_messenger):
    messenger = start_messenger(stripe_timeout_seconds=20)
    card = messenger.initialize("sepa", "payment_recovery")
    messenger.forget_stripe_requests()
    slow_stripe(messenger, SLOW_MS)

    started = time.monotonic()
    answer = messenger.press("sepa", card, "retry_payment")
    elapsed = time.monotonic() - started

    assert elapsed < 9.0, f"answered after {elapsed:.1f} s"
    assert "**We're on it: processing**" in visible(answer)
    assert "This card updates with the outcome" in visible(answer)
    assert button_ids(answer) == ["refresh"]
    assert answer["canvas"]["content_url"].endswith("/canvas/messenger/content")
    assert messenger.stripe_posts("/pay") == []  # still on its way

    slow_stripe(messenger, 0)
    wait_for(lambda: idle(messenger))
    assert len(messenger.stripe_posts("/pay")) == 1
    # The next view (the live canvas repaints from content_url) shows the outcome.
    later = messenger.content("sepa", answer["canvas"])
    assert "**Your payment of €29.00 is processing**" in visible(later)
    assert len(messenger.stripe_posts("/pay")) == 1


@pytest.mark.slow
def test_a_slow_plan_switch_answers_in_time_and_switches_once(start_messenger):
    messenger = start_messenger(stripe_timeout_seconds=20)
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    messenger.forget_stripe_requests()
    slow_stripe(messenger, SLOW_MS)

    started = time.monotonic()
    answer = messenger.press("healthy", quote_card, "confirm_switch")
    elapsed = time.monotonic() - started

    assert elapsed < 9.0, f"answered after {elapsed:.1f} s"
    assert "**We're on it: processing**" in visible(answer)

    slow_stripe(messenger, 0)
    wait_for(lambda: idle(messenger))
    updates = messenger.stripe_posts("/v1/subscriptions/sub_DemoHealthy")
    assert len(updates) == 1
    subscription = messenger.stripe_get("/v1/subscriptions/sub_DemoHealthy")
    assert subscription["items"]["data"][0]["price"]["id"] == "price_ProYearly"
    later = messenger.content("healthy", answer["canvas"])
    assert "**Your plan fits**" in visible(later)  # on yearly now: nothing left to save


def test_a_fast_retry_still_answers_with_its_outcome(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    after = messenger.press("sepa", card, "retry_payment")
    assert "**Your payment of €29.00 is processing**" in visible(after)
    assert not messenger.app.services.background
