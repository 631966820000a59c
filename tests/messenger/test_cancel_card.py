"""The Messenger's `cancel` card: what cancelling means, the offers to stay with Stripe's amounts,
a confirm step for each choice, and what happened; once, audited with the customer as the actor.
Every answer is checked against the Canvas Kit contract by the driver."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer

from sandbox.canvas_requests import contact_payload
from tests.conftest import SECRET_KEY
from tests.messenger.driver import Messenger, button_ids, visible

SUB = "sub_DemoHealthy"
KLARA = contact_payload(
    contact_id="contact_klara", email="klara@weber-design.example", external_id="usr_klara"
)


@pytest.fixture
def messenger(start_messenger) -> Messenger:
    return start_messenger(retention_coupon="RETENTION20")


def subscription_changes(messenger: Messenger, sub: str = SUB) -> list[dict[str, Any]]:
    return messenger.stripe_posts(f"/v1/subscriptions/{sub}")


def plan_quote_in(body: dict[str, Any]) -> dict[str, Any]:
    """The plan-change quote a confirm step signed into `stored_data` (readable, not secret)."""
    token = body["canvas"]["stored_data"]["cancel_token"]
    grant = URLSafeTimedSerializer(SECRET_KEY, salt="messenger-cancellation").loads(token)
    return grant["offer"]["quote"]


def stripe_preview_of(messenger: Messenger, quote: dict[str, Any]) -> dict[str, Any]:
    """What Stripe's invoice preview says switching costs at the quote's proration date."""
    return messenger.stripe_post(
        "/v1/invoices/create_preview",
        {
            "customer": "cus_DemoHealthy",
            "subscription": SUB,
            "subscription_details[items][0][id]": quote["item"],
            "subscription_details[items][0][price]": quote["target"]["price"],
            "subscription_details[proration_date]": str(quote["proration_date"]),
            "subscription_details[proration_behavior]": "always_invoice",
        },
    )


def euros(cents: int) -> str:
    return f"€{cents / 100:,.2f}"


def subscribed_price(messenger: Messenger) -> str:
    return messenger.stripe_get(f"/v1/subscriptions/{SUB}")["items"]["data"][0]["price"]["id"]


def test_the_admin_can_pick_the_cancel_card(messenger: Messenger) -> None:
    screen = messenger.configure()
    picked = messenger.configure("card:cancel", screen["canvas"])

    assert "Cancel or pause | What cancelling means" in visible(screen)
    assert picked["results"] == {"card": "cancel"}


def test_the_card_says_what_cancelling_means_and_offers_ways_to_stay(
    messenger: Messenger,
) -> None:
    body = messenger.initialize("healthy", "cancel")

    text = visible(body)
    period_end = messenger.stripe_get(f"/v1/subscriptions/{SUB}")["items"]["data"][0]
    assert "**Cancel Pro?**" in text
    assert "If you cancel, your subscription ends on " in text
    assert "20% off for 3 months: €63.20 / month instead of €79.00 / month." in text
    assert "Switch to Starter for €29.00 / month instead of €79.00 / month." in text
    assert button_ids(body) == [
        f"cancel_offer:pause:1:{SUB}",
        f"cancel_offer:pause:2:{SUB}",
        f"cancel_offer:pause:3:{SUB}",
        f"cancel_offer:coupon:{SUB}",
        f"cancel_offer:plan_switch:{SUB}",
        f"cancel_offer:cancel_at_period_end:{SUB}",
    ]
    assert period_end["current_period_end"]  # the date shown is the items' period end
    assert body["canvas"]["content_url"].endswith("/canvas/messenger/content")
    assert subscription_changes(messenger) == []


def test_the_card_in_german(messenger: Messenger) -> None:
    text = visible(messenger.initialize("healthy", "cancel", locale="de"))

    assert "**Pro kündigen?**" in text
    assert "Wenn Sie kündigen, endet Ihr Abonnement am" in text
    assert "[2 Monate pausieren]" in text
    assert "[Zum Ende des Zeitraums kündigen]" in text
    assert "20 % Rabatt für 3 Monate: 63,20 € / Monat statt 79,00 € / Monat." in text


def test_a_pause_is_confirmed_then_made_once(messenger: Messenger) -> None:
    card = messenger.initialize("healthy", "cancel")
    confirm = messenger.press("healthy", card, f"cancel_offer:pause:2:{SUB}")
    assert "**Pause for 2 months?**" in visible(confirm)
    assert button_ids(confirm) == ["confirm_cancel", "back"]
    assert subscription_changes(messenger) == []

    done = messenger.press("healthy", confirm, "confirm_cancel")
    again = messenger.press("healthy", confirm, "confirm_cancel")  # a double click

    sub = messenger.stripe_get(f"/v1/subscriptions/{SUB}")
    resumes = sub["pause_collection"]["resumes_at"]
    assert sub["pause_collection"]["behavior"] == "void"
    assert "**Paused until " in visible(done)
    assert visible(done) == visible(again)
    assert len(subscription_changes(messenger)) == 1
    [entry] = messenger.audit("cus_DemoHealthy")
    assert (entry["action"], entry["reason"], entry["outcome"]) == (
        "cancellation",
        "pause",
        "succeeded",
    )
    assert entry["actor_type"] == "customer" and entry["actor_id"] == "contact_healthy"
    assert resumes > sub["items"]["data"][0]["current_period_start"]


def test_the_discount_outcome_names_the_exact_new_price(messenger: Messenger) -> None:
    card = messenger.initialize("healthy", "cancel")
    confirm = messenger.press("healthy", card, f"cancel_offer:coupon:{SUB}")

    done = messenger.press("healthy", confirm, "confirm_cancel")

    assert "**20% off for 3 months: €63.20 / month**" in visible(done)
    assert len(messenger.stripe_get(f"/v1/subscriptions/{SUB}")["discounts"]) == 1


def test_cancel_at_period_end_then_keep_the_subscription(messenger: Messenger) -> None:
    card = messenger.initialize("healthy", "cancel")
    confirm = messenger.press("healthy", card, f"cancel_offer:cancel_at_period_end:{SUB}")
    assert "[Yes, cancel at period end]" in visible(confirm)

    done = messenger.press("healthy", confirm, "confirm_cancel")

    assert "**Your subscription ends on " in visible(done)
    assert messenger.stripe_get(f"/v1/subscriptions/{SUB}")["cancel_at_period_end"] is True
    # The live canvas now says so, with a way back.
    live = messenger.content("healthy", card["canvas"])
    assert f"cancel_offer:resume:{SUB}" in button_ids(live)

    keep = messenger.press("healthy", done, f"cancel_offer:resume:{SUB}")
    kept = messenger.press("healthy", keep, "confirm_cancel")

    assert "**Your subscription continues**" in visible(kept)
    assert messenger.stripe_get(f"/v1/subscriptions/{SUB}")["cancel_at_period_end"] is False
    actions = [(e["action"], e["reason"]) for e in messenger.audit("cus_DemoHealthy")]
    assert actions == [
        ("cancellation", "cancel_at_period_end"),
        ("subscription_update", "resume"),
    ]


def test_concurrent_confirmations_change_the_subscription_once(messenger: Messenger) -> None:
    card = messenger.initialize("healthy", "cancel")
    confirm = messenger.press("healthy", card, f"cancel_offer:pause:1:{SUB}")
    messenger.forget_stripe_requests()
    messenger.stripe.control("POST", "/_sandbox/latency", {"ms": 300})

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(
            pool.map(lambda _: messenger.press("healthy", confirm, "confirm_cancel"), range(5))
        )

    assert all("**Paused until " in visible(a) for a in answers)
    assert len(subscription_changes(messenger)) == 1
    assert [e["outcome"] for e in messenger.audit("cus_DemoHealthy")] == ["succeeded"]


def test_several_subscriptions_ask_which_one(messenger: Messenger) -> None:
    card = messenger.initialize("multi", "cancel", contact=KLARA)
    assert "**Which subscription?**" in visible(card)
    assert "Pro | €79.00 / month" in visible(card)

    addon = messenger.submit(
        "multi", "cancel_pick:sub_DemoMultiAddon", card["canvas"], contact=KLARA
    )

    text = visible(addon)
    assert "**Cancel Priority support?**" in text
    assert "Switch to" not in text  # an add-on has no cheaper plan
    assert "cancel_offer:cancel_at_period_end:sub_DemoMultiAddon" in button_ids(addon)


def test_a_lead_sees_the_sign_in_card_and_nothing_reaches_stripe(messenger: Messenger) -> None:
    card = messenger.initialize("healthy", "cancel", viewer="lead")
    pressed = messenger.submit(
        "healthy", f"cancel_offer:pause:1:{SUB}", card["canvas"], viewer="lead"
    )

    assert "**Sign in to see your billing**" in visible(card)
    assert "**Sign in to see your billing**" in visible(pressed)
    assert messenger.stripe_requests() == []


def test_a_subscription_of_someone_else_is_not_offered(messenger: Messenger) -> None:
    card = messenger.initialize("healthy", "cancel")

    pressed = messenger.submit("healthy", "cancel_offer:pause:1:sub_DemoVip", card["canvas"])

    assert "**No active subscription**" in visible(pressed)
    assert "cancel_token" not in pressed["canvas"]["stored_data"]


def test_the_cheaper_plan_is_quoted_as_stripe_previews_it(messenger: Messenger) -> None:
    card = messenger.initialize("healthy", "cancel")
    messenger.forget_stripe_requests()

    confirm = messenger.press("healthy", card, f"cancel_offer:plan_switch:{SUB}")

    # Nothing changed yet: only reads and previews reached Stripe.
    assert {r["path"] for r in messenger.stripe_posts()} == {"/v1/invoices/create_preview"}
    quote = plan_quote_in(confirm)
    stripe_says = stripe_preview_of(messenger, quote)
    assert stripe_says["total"] < 0 and stripe_says["amount_due"] == 0  # a credit, no charge
    assert visible(confirm).splitlines() == [
        "**Switch to Starter?**",
        "Switch to Starter for €29.00 / month instead of €79.00 / month. The unused time on "
        f"Pro is credited to your account: {euros(-stripe_says['total'])}.",
        "[Confirm]",
        "[Back]",
    ]
    assert (quote["current"]["price"], quote["target"]["price"]) == (
        "price_ProMonthly",
        "price_StarterMonthly",
    )
    assert subscribed_price(messenger) == "price_ProMonthly"


def test_confirming_the_cheaper_plan_switches_once_and_credits_the_quote(
    messenger: Messenger,
) -> None:
    balance = messenger.stripe_get("/v1/customers/cus_DemoHealthy")["balance"]
    card = messenger.initialize("healthy", "cancel")
    confirm = messenger.press("healthy", card, f"cancel_offer:plan_switch:{SUB}")
    quote = plan_quote_in(confirm)
    credit = -stripe_preview_of(messenger, quote)["total"]

    done = messenger.press("healthy", confirm, "confirm_cancel")
    again = messenger.press("healthy", confirm, "confirm_cancel")  # a double click

    assert visible(done).splitlines() == [
        "**You're now on Starter: €29.00 / month**",
        f"The unused time on Pro is credited to your account: {euros(credit)}.",
    ]
    assert visible(again) == visible(done)
    assert subscribed_price(messenger) == "price_StarterMonthly"
    assert len(subscription_changes(messenger)) == 1
    assert messenger.stripe_get("/v1/customers/cus_DemoHealthy")["balance"] == balance - credit
    invoice = messenger.stripe_get("/v1/invoices?customer=cus_DemoHealthy&limit=1")["data"][0]
    assert (invoice["billing_reason"], invoice["total"], invoice["amount_due"]) == (
        "subscription_update",
        -credit,
        0,
    )
    assert {line["period"]["start"] for line in invoice["lines"]["data"]} == {
        quote["proration_date"]
    }
    [entry] = messenger.audit("cus_DemoHealthy")
    assert (entry["action"], entry["reason"], entry["outcome"], entry["actor_id"]) == (
        "cancellation",
        "plan_switch",
        "succeeded",
        "contact_healthy",
    )
    # The card, opened again, is about the new plan; there is no cheaper one left.
    live = visible(messenger.content("healthy", card["canvas"]))
    assert "**Cancel Starter?**" in live and "Switch to" not in live


def test_concurrent_confirmations_of_the_cheaper_plan_switch_once(messenger: Messenger) -> None:
    balance = messenger.stripe_get("/v1/customers/cus_DemoHealthy")["balance"]
    card = messenger.initialize("healthy", "cancel")
    confirm = messenger.press("healthy", card, f"cancel_offer:plan_switch:{SUB}")
    credit = -stripe_preview_of(messenger, plan_quote_in(confirm))["total"]
    messenger.forget_stripe_requests()
    messenger.stripe.control("POST", "/_sandbox/latency", {"ms": 300})

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(
            pool.map(lambda _: messenger.press("healthy", confirm, "confirm_cancel"), range(5))
        )

    messenger.stripe.control("POST", "/_sandbox/latency", {"ms": 0})
    assert all("**You're now on Starter: €29.00 / month**" in visible(a) for a in answers)
    assert len(subscription_changes(messenger)) == 1
    assert subscribed_price(messenger) == "price_StarterMonthly"
    assert messenger.stripe_get("/v1/customers/cus_DemoHealthy")["balance"] == balance - credit
    assert [e["outcome"] for e in messenger.audit("cus_DemoHealthy")] == ["succeeded"]
