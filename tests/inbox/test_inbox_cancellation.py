"""The sidebar's "Cancel subscription" (at the period end or now, with no refund, the last
payment or its unused part) and "Resume subscription" (of one set to cancel, or paused): review,
then confirm; each change once, audited with the agent, a press that finds it done already says
so; an email-only match needs the identity tick. Every card is checked against the Canvas Kit
contract. (Presses at once: test_inbox_cancellation_concurrency.py.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox.canvas_requests import contact_payload, demo_contact
from tests.conftest import STRIPE_KEY, AppClient, Sandbox
from tests.http import HTTP
from tests.inbox.sidebar import clickable
from tests.inbox.test_inbox_refunds import audit
from tests.inbox.test_inbox_trust import (
    CONFIRMED,
    Sidebar,
    identity_checkbox,
    stripe_get,
    stripe_posts,
)
from tests.inbox.test_inbox_trust import texts as card_texts

SUB = "sub_DemoHealthy"
ANNA = demo_contact("healthy")
KLARA = contact_payload(
    contact_id="contact_klara", email="klara@weber-design.example", external_id="usr_klara"
)


@pytest.fixture
def sidebar(start_app: Callable[..., AppClient], assert_canvas) -> Callable[..., Sidebar]:
    def open_for(contact: dict[str, Any], **settings: Any) -> Sidebar:
        return Sidebar(start_app(**settings), assert_canvas, contact)

    return open_for


def texts(body: dict[str, Any]) -> str:
    """What the agent reads, the choices of the card's selects included."""
    options = [
        o["text"] for c in body["canvas"]["content"]["components"] for o in c.get("options", [])
    ]
    return "\n".join([card_texts(body), *options]).replace("\xa0", " ")


def agent_refunds(stripe: Sandbox) -> list[dict[str, Any]]:
    """Refunds an agent made (the demo world has one of its own)."""
    refunds = stripe_get(stripe, "/v1/refunds", limit=100)["data"]
    return [r for r in refunds if r["metadata"].get("requested_by", "").startswith("admin")]


def stripe_post(stripe: Sandbox, path: str, form: dict[str, str]) -> None:
    """A change made in Stripe behind the app's back (the dashboard, another system)."""
    response = HTTP.post(
        f"{stripe.url}{path}", data=form, headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    )
    response.raise_for_status()


def subscription_changes(stripe: Sandbox) -> list[dict[str, Any]]:
    return [
        r
        for r in stripe.requests()
        if r["method"] in ("POST", "DELETE") and r["path"] == f"/v1/subscriptions/{SUB}"
    ]


def cancel_form(bar: Sidebar) -> dict[str, Any]:
    details = bar.press(bar.open(), "details")
    return bar.press(details, "cancel")


def review(bar: Sidebar, when: str = "period_end", refund: str = "none") -> dict[str, Any]:
    form = cancel_form(bar)
    return bar.press(form, f"cancel:review:{SUB}", {"cancel_when": when, "cancel_refund": refund})


def test_the_details_offer_to_cancel_a_live_subscription(sidebar) -> None:
    bar = sidebar(ANNA)
    details = bar.press(bar.open(), "details")

    assert "cancel" in clickable(details) and "resume" not in clickable(details)

    form = bar.press(details, "cancel")
    text = texts(form)
    assert "**Cancel Pro**" in text
    assert "At period end (" in text and "Now" in text
    assert "Refund the last payment (€79.00)" in text
    assert "Refund the unused time (prorated)" in text


def test_cancel_at_period_end_by_default_then_resume(sidebar, stripe_sandbox: Sandbox) -> None:
    bar = sidebar(ANNA)
    checked = review(bar)
    period_end = stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")["items"]["data"][0][
        "current_period_end"
    ]
    assert "**Cancel Pro at period end?**" in texts(checked)
    assert identity_checkbox(checked) is None  # linked by stripe_id: verified
    assert stripe_posts(stripe_sandbox, f"/v1/subscriptions/{SUB}") == []

    done = bar.press(checked, "cancel:confirm")

    assert "**Pro cancelled: it ends on " in texts(done)
    sub = stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")
    assert sub["cancel_at_period_end"] is True and sub["cancel_at"] == period_end
    assert stripe_posts(stripe_sandbox, "/v1/refunds") == []

    details = bar.press(bar.open(), "details")
    assert "resume" in clickable(details) and "cancel" not in clickable(details)
    resume = bar.press(details, "resume")
    assert "**Resume Pro?**" in texts(resume)
    resumed = bar.press(resume, "resume:confirm")

    assert "**Pro resumed**" in texts(resumed)
    assert stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")["cancel_at_period_end"] is False
    entries = sorted(audit(bar.app), key=lambda e: e.id)
    assert [(e.action, e.reason, e.actor_type, e.actor_id) for e in entries] == [
        ("cancellation", "cancel_at_period_end", "admin", "admin_1"),
        ("subscription_update", "resume", "admin", "admin_1"),
    ]


def test_cancel_now_with_a_prorated_refund_of_the_unused_time(
    sidebar, stripe_sandbox: Sandbox
) -> None:
    bar = sidebar(ANNA)
    item = stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")["items"]["data"][0]
    start, end = item["current_period_start"], item["current_period_end"]
    paid = stripe_get(stripe_sandbox, "/v1/invoices", subscription=SUB, status="paid", limit=1)[
        "data"
    ][0]["amount_paid"]
    before = int(time.time())
    checked = review(bar, when="now", refund="prorated")
    after = int(time.time()) + 1

    # The unused share of the last payment, in cents, rounded down.
    low, high = (paid * (end - t) // (end - start) for t in (after, before))
    assert "**Cancel Pro now?**" in texts(checked)
    done = bar.press(checked, "cancel:confirm")

    sub = stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")
    assert sub["status"] == "canceled"
    [refund] = agent_refunds(stripe_sandbox)
    assert low <= refund["amount"] <= high and 0 < refund["amount"] < paid
    shown = f"€{refund['amount'] / 100:,.2f}"
    assert f"Refund {shown} of the payment of" in texts(checked)
    assert f"{shown} refunded (Stripe refund {refund['id']})." in texts(done)
    entries = sorted(audit(bar.app), key=lambda e: e.id)
    assert [(e.action, e.reason, e.outcome) for e in entries] == [
        ("cancellation", "cancel_now", "succeeded"),
        ("refund", f"cancellation of {SUB} (prorated)", "succeeded"),
    ]


def test_cancel_now_and_refund_the_last_payment_once(sidebar, stripe_sandbox: Sandbox) -> None:
    bar = sidebar(ANNA)
    checked = review(bar, when="now", refund="last")

    done = bar.press(checked, "cancel:confirm")
    again = bar.press(checked, "cancel:confirm")  # a second press of the same button

    [refund] = agent_refunds(stripe_sandbox)
    assert refund["amount"] == 7900
    assert "**Pro cancelled: it has ended**" in texts(done)
    assert "This had been done already; nothing changed again." in texts(again)
    assert len(stripe_posts(stripe_sandbox, "/v1/refunds")) == 1
    cancels = [
        r
        for r in stripe_sandbox.control("GET", "/_sandbox/requests")["requests"]
        if r["method"] == "DELETE" and r["path"] == f"/v1/subscriptions/{SUB}"
    ]
    assert len(cancels) == 1


def test_an_email_only_match_needs_the_identity_tick(sidebar, stripe_sandbox: Sandbox) -> None:
    bar = sidebar(demo_contact("healthy", viewer="lead"))
    checked = review(bar)
    assert identity_checkbox(checked) is not None

    refused = bar.press(checked, "cancel:confirm")  # the box left unticked

    assert "Confirm the customer's identity first" in texts(refused)
    assert stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")["cancel_at_period_end"] is False
    done = bar.press(refused, "cancel:confirm", CONFIRMED)
    assert "**Pro cancelled: it ends on " in texts(done)
    assert stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")["cancel_at_period_end"] is True


def test_several_subscriptions_are_picked_first(sidebar) -> None:
    bar = sidebar(KLARA)
    details = bar.press(bar.open(), "details")

    pick = bar.press(details, "cancel")

    assert "**Cancel which subscription?**" in texts(pick)
    assert {"cancel:sub:sub_DemoMultiPlan", "cancel:sub:sub_DemoMultiAddon"} <= set(clickable(pick))
    form = bar.press(pick, "cancel:sub:sub_DemoMultiAddon")
    assert "**Cancel Priority support**" in texts(form)


def test_the_sidebar_speaks_german(sidebar) -> None:
    bar = sidebar(ANNA, agent_locale="de")
    details = bar.press(bar.open(), "details")

    form = bar.press(details, "cancel")
    checked = bar.press(
        form, f"cancel:review:{SUB}", {"cancel_when": "now", "cancel_refund": "none"}
    )

    assert "Abonnement kündigen" in texts(details)
    assert "**Pro kündigen**" in texts(form) and "Ungenutzte Zeit erstatten" in texts(form)
    assert "**Pro sofort kündigen?**" in texts(checked)
    assert "Ja, kündigen" in texts(checked)


def set_to_cancel(bar: Sidebar, stripe: Sandbox) -> None:
    bar.press(review(bar), "cancel:confirm")
    assert stripe_get(stripe, f"/v1/subscriptions/{SUB}")["cancel_at_period_end"] is True
    stripe.control("DELETE", "/_sandbox/requests")


def test_resume_pressed_twice_resumes_once(sidebar, stripe_sandbox: Sandbox) -> None:
    bar = sidebar(ANNA)
    set_to_cancel(bar, stripe_sandbox)
    details = bar.press(bar.open(), "details")
    resume = bar.press(details, "resume")

    resumed = bar.press(resume, "resume:confirm")
    again = bar.press(resume, "resume:confirm")  # the same button a second time
    stale = bar.press(details, "resume")  # "Resume subscription" on the card from before

    assert "**Pro resumed**" in texts(resumed) and "nothing changed again" not in texts(resumed)
    assert "This had been done already; nothing changed again." in texts(again)
    assert "There is no subscription to change." in texts(stale)
    assert "resume:confirm" not in clickable(stale)
    assert len(subscription_changes(stripe_sandbox)) == 1
    assert stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")["cancel_at_period_end"] is False
    resumes = [e for e in audit(bar.app) if e.action == "subscription_update"]
    assert [(e.reason, e.outcome) for e in resumes] == [("resume", "succeeded")]


def test_a_second_review_confirmed_after_the_resume_changes_nothing(
    sidebar, stripe_sandbox: Sandbox
) -> None:
    bar = sidebar(ANNA)
    set_to_cancel(bar, stripe_sandbox)
    first = bar.press(bar.press(bar.open(), "details"), "resume")
    second = bar.press(bar.press(bar.open(), "details"), "resume")
    bar.press(first, "resume:confirm")

    late = bar.press(second, "resume:confirm")  # another agent's review, confirmed afterwards

    assert "**Pro resumed**" in texts(late)
    assert "This had been done already; nothing changed again." in texts(late)
    assert len(subscription_changes(stripe_sandbox)) == 1
    resumes = [e for e in audit(bar.app) if e.action == "subscription_update"]
    assert [(e.reason, e.outcome) for e in resumes] == [("resume", "succeeded")]


def test_resume_lifts_a_pause(sidebar, stripe_sandbox: Sandbox) -> None:
    in_a_month = str(int(time.time()) + 30 * 86400)
    pause = {"pause_collection[behavior]": "void", "pause_collection[resumes_at]": in_a_month}
    stripe_post(stripe_sandbox, f"/v1/subscriptions/{SUB}", pause)
    bar = sidebar(ANNA)
    details = bar.press(bar.open(), "details")
    assert "resume" in clickable(details)

    checked = bar.press(details, "resume")
    resumed = bar.press(checked, "resume:confirm")

    assert "**Resume Pro?**" in texts(checked)
    assert "**Pro resumed**" in texts(resumed)
    sub = stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")
    assert sub["pause_collection"] is None and sub["status"] == "active"
    assert sub["cancel_at_period_end"] is False
    assert [(e.action, e.reason, e.outcome, e.actor_id) for e in audit(bar.app)] == [
        ("subscription_update", "resume", "succeeded", "admin_1")
    ]
    details = bar.press(bar.open(), "details")
    assert "resume" not in clickable(details) and "cancel" in clickable(details)


def test_the_outcomes_speak_german(sidebar, stripe_sandbox: Sandbox) -> None:
    bar = sidebar(ANNA, agent_locale="de")
    period_end = stripe_get(stripe_sandbox, f"/v1/subscriptions/{SUB}")["items"]["data"][0][
        "current_period_end"
    ]

    at_period_end = bar.press(review(bar), "cancel:confirm")
    resumed = bar.press(bar.press(bar.press(bar.open(), "details"), "resume"), "resume:confirm")
    now = bar.press(review(bar, when="now", refund="last"), "cancel:confirm")

    ends = datetime.fromtimestamp(period_end, UTC).strftime("%d.%m.%Y")
    assert f"**Pro gekündigt: endet am {ends}**" in texts(at_period_end)
    assert "**Pro läuft weiter**" in texts(resumed)
    [refund] = agent_refunds(stripe_sandbox)
    assert "**Pro gekündigt: sofort beendet**" in texts(now)
    assert f"79,00 € erstattet (Stripe-Erstattung {refund['id']})." in texts(now)
