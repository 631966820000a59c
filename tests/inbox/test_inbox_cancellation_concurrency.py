"""The sidebar's "Yes, cancel" and "Yes, resume" pressed several times at once (a double click,
two agents on one review card, Intercom resending): the subscription changes once, money moves
once, the change is audited once, and every press answers with the outcome, none with an
error. Checked against what the sandbox Stripe holds afterwards."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sandbox.canvas_requests import demo_contact
from tests.conftest import AppClient, Sandbox
from tests.inbox.sidebar import components
from tests.inbox.test_inbox_cancellation import (
    agent_refunds,
    review,
    subscription_changes,
    texts,
)
from tests.inbox.test_inbox_refunds import audit
from tests.inbox.test_inbox_trust import Sidebar, stripe_get

SUB = "sub_DemoHealthy"
ANNA = demo_contact("healthy")
PRESSES = 5
REPLAYED = "This had been done already; nothing changed again."


@pytest.fixture
def bar(start_app: Callable[..., AppClient], assert_canvas) -> Sidebar:
    return Sidebar(start_app(), assert_canvas, ANNA)


def press_at_once(
    bar: Sidebar, stripe: Sandbox, card: dict[str, Any], button: str
) -> list[dict[str, Any]]:
    """`button` of `card` pressed PRESSES times at once; Stripe slowed so the presses overlap."""
    stripe.control("DELETE", "/_sandbox/requests")
    stripe.control("POST", "/_sandbox/latency", {"ms": 300})
    with ThreadPoolExecutor(max_workers=PRESSES) as pool:
        return list(pool.map(lambda _: bar.press(card, button), range(PRESSES)))


def refund_requests(stripe: Sandbox) -> list[dict[str, Any]]:
    return [r for r in stripe.requests() if r["method"] == "POST" and r["path"] == "/v1/refunds"]


def errors(body: dict[str, Any]) -> list[str]:
    return [c["text"] for c in components(body) if c.get("style") == "error"]


@pytest.mark.parametrize(
    ("when", "refund", "option", "outcome"),
    [
        ("period_end", "none", "cancel_at_period_end", "**Pro cancelled: it ends on "),
        ("period_end", "last", "cancel_at_period_end", "**Pro cancelled: it ends on "),
        ("now", "prorated", "cancel_now", "**Pro cancelled: it has ended**"),
    ],
    ids=["at-period-end", "at-period-end-refunding-the-last-payment", "now-refunding-unused-time"],
)
def test_concurrent_cancel_confirmations_cancel_and_refund_once(
    bar: Sidebar, stripe_sandbox: Sandbox, when: str, refund: str, option: str, outcome: str
) -> None:
    checked = review(bar, when=when, refund=refund)

    answers = press_at_once(bar, stripe_sandbox, checked, "cancel:confirm")

    assert [errors(a) for a in answers] == [[]] * PRESSES
    assert all(outcome in texts(a) for a in answers), [texts(a) for a in answers]
    # "Done already" on every press but the one that changed the subscription and the one that
    # made the refund: the same press, or (when another press got to the refund first) two.
    makers = sum(REPLAYED not in texts(a) for a in answers)
    assert makers == 1 if refund == "none" else makers in (1, 2)
    assert len(subscription_changes(stripe_sandbox)) == 1
    sub = stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")
    if when == "now":
        assert sub["status"] == "canceled"
    else:
        assert sub["status"] == "active" and sub["cancel_at_period_end"] is True
    made = agent_refunds(stripe_sandbox)
    assert len(made) == (0 if refund == "none" else 1)
    assert len(refund_requests(stripe_sandbox)) == len(made)
    for answer in answers:  # each press names the one refund
        assert all(f"(Stripe refund {r['id']})." in texts(answer) for r in made)
    entries = sorted(audit(bar.app), key=lambda e: e.id)
    reason = f"cancellation of {SUB}" + (" (prorated)" if refund == "prorated" else "")
    refund_entries = [] if refund == "none" else [("refund", reason, "succeeded")]
    assert [(e.action, e.reason, e.outcome) for e in entries] == [
        ("cancellation", option, "succeeded"),
        *refund_entries,
    ]


def test_concurrent_resume_confirmations_resume_once(bar: Sidebar, stripe_sandbox: Sandbox) -> None:
    checked = review(bar)
    bar.press(checked, "cancel:confirm")
    details = bar.press(bar.open(), "details")
    resume = bar.press(details, "resume")

    answers = press_at_once(bar, stripe_sandbox, resume, "resume:confirm")

    assert [errors(a) for a in answers] == [[]] * PRESSES
    assert all("**Pro resumed**" in texts(a) for a in answers), [texts(a) for a in answers]
    assert sum(REPLAYED in texts(a) for a in answers) == PRESSES - 1
    assert len(subscription_changes(stripe_sandbox)) == 1
    assert stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")["cancel_at_period_end"] is False
    entries = sorted(audit(bar.app), key=lambda e: e.id)
    assert [(e.action, e.reason, e.outcome) for e in entries] == [
        ("cancellation", "cancel_at_period_end", "succeeded"),
        ("subscription_update", "resume", "succeeded"),
    ]


@pytest.mark.slow
def test_a_refund_still_being_made_by_another_press_is_said_so(
    start_app: Callable[..., AppClient], assert_canvas, stripe_sandbox: Sandbox
) -> None:
    # Stripe takes 10 s over the refund: the first press is still making it when the second
    # has waited its 6 s for it. The second says so, and pressing again later shows the outcome.
    bar = Sidebar(start_app(stripe_timeout_seconds=20), assert_canvas, ANNA)
    checked = review(bar, refund="last")
    stripe_sandbox.control(
        "POST",
        "/_sandbox/faults",
        {
            "path_prefix": "/v1/refunds",
            "method": "POST",
            "status": "hang",
            "delay_ms": 10_000,
            "count": 1,
        },
    )

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(bar.press, checked, "cancel:confirm")
        time.sleep(0.5)  # the first press holds the refund by now
        second = bar.press(checked, "cancel:confirm")
        first.result()

    assert "This change is being made right now. Check again in a moment." in texts(second)
    assert errors(second) == []
    again = bar.press(checked, "cancel:confirm")  # once the refund is made: its outcome
    (made,) = agent_refunds(stripe_sandbox)
    assert f"(Stripe refund {made['id']})." in texts(again) and REPLAYED in texts(again)
    assert len(refund_requests(stripe_sandbox)) == 1
    assert len(subscription_changes(stripe_sandbox)) == 1
