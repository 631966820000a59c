"""The savings card: the best option with the saving per month and year, "Show me" → the
breakdown, "Switch" → Stripe's exact quote, "Confirm" → the switch with the quoted proration date,
once, audited. Nothing to save → the plan fits."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from billing.quotes import CATALOGUE_QUERY, quote_plan_change
from billing.savings import catalogue_from_prices
from billing.snapshot_loader import load_snapshot
from gateways.stripe import StripeGateway
from tests.conftest import SECRET_KEY, STRIPE_KEY
from tests.http import HTTP
from tests.messenger.driver import Messenger, button_ids, visible


def quote_in(body: dict[str, Any]) -> dict[str, Any]:
    """The quote the card keeps in stored_data (signed, readable)."""
    sealed = body["canvas"]["stored_data"]["quote"]
    return URLSafeTimedSerializer(SECRET_KEY, salt="plan-quote").loads(sealed)["quote"]


def subscription_updates(messenger: Messenger) -> list[dict[str, Any]]:
    return messenger.stripe_posts("/v1/subscriptions/sub_DemoHealthy")


def test_the_card_shows_the_best_saving_per_month_and_year(messenger: Messenger):
    body = messenger.initialize("healthy", "savings")
    text = visible(body)
    assert "**Save €158.00 a year**" in text
    assert (
        "Pay for Pro yearly instead of monthly: €13.17 less per month, €158.00 less per year."
        in text
    )
    assert button_ids(body) == ["switch_plan", "show_savings"]
    assert "[Switch to Pro, yearly]" in text


def test_the_card_in_german(messenger: Messenger):
    text = visible(messenger.initialize("healthy", "savings", locale="de"))
    assert "**Sparen Sie 158,00 € im Jahr**" in text
    assert "Zahlen Sie Pro jährlich statt monatlich: 13,17 € weniger pro Monat" in text
    assert "[Zu Pro, jährlich wechseln]" in text


def test_show_me_explains_the_arithmetic(messenger: Messenger):
    card = messenger.initialize("healthy", "savings")
    breakdown = visible(messenger.press("healthy", card, "show_savings"))
    assert "Pro, monthly: 12 × €79.00 = €948.00" in breakdown
    assert "Pro, yearly: €790.00 / year" in breakdown
    assert "You save: €158.00 / year (€13.17 / month)" in breakdown


def test_usage_within_the_plan_suggests_the_yearly_plan_not_a_bigger_one(messenger: Messenger):
    # Paul uses 8,500 of Pro's 10,000 calls: Business would not pay off.
    text = visible(messenger.initialize("usage", "savings"))
    assert "Pay for Pro yearly instead of monthly" in text
    assert "Business" not in text


def test_switch_shows_stripes_exact_quote_before_anything_changes(messenger: Messenger):
    card = messenger.initialize("healthy", "savings")
    messenger.forget_stripe_requests()
    quote_card = messenger.press("healthy", card, "switch_plan")

    quote = quote_in(quote_card)
    stripe_says = messenger.stripe_post(
        "/v1/invoices/create_preview",
        {
            "customer": "cus_DemoHealthy",
            "subscription": "sub_DemoHealthy",
            "subscription_details[items][0][id]": "si_DemoHealthy1",
            "subscription_details[items][0][price]": "price_ProYearly",
            "subscription_details[proration_date]": str(quote["proration_date"]),
            "subscription_details[proration_behavior]": "always_invoice",
        },
    )
    text = visible(quote_card)
    assert "**Switch to Pro, yearly**" in text
    amount = stripe_says["amount_due"] / 100
    assert f"Charged now: €{amount:,.2f}" in text
    assert "New price: €790.00 / year" in text
    assert "Effective: " in text
    assert button_ids(quote_card) == ["confirm_switch", "back"]
    # Nothing changed yet: only reads and a preview reached Stripe.
    assert {r["path"] for r in messenger.stripe_posts()} <= {"/v1/invoices/create_preview"}


def test_confirm_switches_with_the_quoted_proration_date_once(messenger: Messenger):
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    quote = quote_in(quote_card)

    done = messenger.press("healthy", quote_card, "confirm_switch")
    text = visible(done)
    assert "**You're now on Pro, yearly**" in text
    assert f"We charged €{quote['amount_now'] / 100:,.2f} today." in text
    assert "Your new price is €790.00 / year, next due on" in text

    subscription = messenger.stripe_get("/v1/subscriptions/sub_DemoHealthy")
    assert subscription["items"]["data"][0]["price"]["id"] == "price_ProYearly"
    assert len(subscription_updates(messenger)) == 1
    # The charge is the quote: same amount, prorated from the quoted date.
    invoice = messenger.stripe_get("/v1/invoices?customer=cus_DemoHealthy&limit=1")["data"][0]
    assert invoice["billing_reason"] == "subscription_update"
    assert invoice["amount_due"] == quote["amount_now"]
    prorations = [
        line
        for line in invoice["lines"]["data"]
        if line["parent"]["subscription_item_details"]["proration"]
    ]
    assert prorations and all(
        line["period"]["start"] == quote["proration_date"] for line in prorations
    )

    # A double click on Confirm (the same quote again): the first result, no second update.
    again = messenger.press("healthy", quote_card, "confirm_switch")
    assert "**You're now on Pro, yearly**" in visible(again)
    assert len(subscription_updates(messenger)) == 1

    rows = [r for r in messenger.audit("cus_DemoHealthy") if r["action"] == "subscription_update"]
    assert [(r["actor_type"], r["actor_id"], r["outcome"], r["amount"]) for r in rows] == [
        ("customer", "contact_healthy", "succeeded", quote["amount_now"])
    ]
    assert rows[0]["reason"].startswith("price_ProMonthly -> price_ProYearly")


def test_after_switching_the_plan_fits(messenger: Messenger):
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    messenger.press("healthy", quote_card, "confirm_switch")
    fits = messenger.content("healthy", card["canvas"])
    assert "**Your plan fits**" in visible(fits)
    assert "Pro is already the best value for you" in visible(fits)


def test_a_tampered_quote_changes_nothing(messenger: Messenger):
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    canvas = quote_card["canvas"]
    sealed = canvas["stored_data"]["quote"]
    payload, rest = sealed.split(".", 1)
    canvas["stored_data"]["quote"] = (
        payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest
    )
    body = messenger.submit("healthy", "confirm_switch", canvas)
    assert "**Save €158.00 a year**" in visible(body)  # back to the card, nothing applied
    assert subscription_updates(messenger) == []


def test_a_quote_cannot_be_confirmed_by_another_customer(messenger: Messenger):
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    # Lena's Messenger submits Anna's signed quote.
    body = messenger.submit("vip", "confirm_switch", quote_card["canvas"])
    assert "Business" in visible(body)
    assert subscription_updates(messenger) == []
    assert messenger.stripe_posts("/v1/subscriptions/sub_DemoVip") == []


def test_an_expired_quote_is_quoted_afresh_not_applied(messenger: Messenger):
    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3600

    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    canvas = quote_card["canvas"]
    old = URLSafeTimedSerializer(SECRET_KEY, salt="plan-quote").loads(
        canvas["stored_data"]["quote"]
    )
    canvas["stored_data"]["quote"] = URLSafeTimedSerializer(
        SECRET_KEY, salt="plan-quote", signer=Backdated
    ).dumps(old)
    body = messenger.submit("healthy", "confirm_switch", canvas)
    assert "That quote had expired, so here is a fresh one." in visible(body)
    assert button_ids(body) == ["confirm_switch", "back"]
    assert subscription_updates(messenger) == []


def test_stripe_failing_on_confirm_changes_nothing_and_try_again_switches_once(
    messenger: Messenger,
):
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    messenger.stripe.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/subscriptions/", "method": "POST", "status": 500, "count": 1},
    )
    failed = messenger.press("healthy", quote_card, "confirm_switch")
    assert "**We couldn't reach the payment provider**" in visible(failed)
    assert (
        messenger.stripe_get("/v1/subscriptions/sub_DemoHealthy")["items"]["data"][0]["price"]["id"]
        == "price_ProMonthly"
    )
    done = messenger.press("healthy", failed, "confirm_switch")  # "Try again"
    assert "**You're now on Pro, yearly**" in visible(done)
    assert [r["status"] for r in subscription_updates(messenger)] == [500, 200]


def test_a_plan_changed_since_the_quote_is_not_switched(messenger: Messenger):
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    # Meanwhile an agent moved Anna to Business in the dashboard.
    messenger.stripe_post(
        "/v1/subscriptions/sub_DemoHealthy",
        {"items[0][id]": "si_DemoHealthy1", "items[0][price]": "price_BusinessMonthly"},
    )
    messenger.forget_stripe_requests()
    body = messenger.press("healthy", quote_card, "confirm_switch")
    assert "Your plan changed in the meantime" in visible(body)
    assert subscription_updates(messenger) == []


async def test_the_quote_switches_the_plans_item_whatever_order_stripe_lists_items_in(
    stripe_sandbox,
):
    # Each plan of the snapshot carries its own subscription item, so the order in which Stripe
    # lists a metered item and the plan's item can't make the quote switch the wrong one.
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe_sandbox.url, max_network_retries=0)
    try:
        snapshot = await load_snapshot(gateway, await gateway.retrieve_customer("cus_DemoUsage"))
        sub = snapshot.subscription
        assert sub is not None
        assert [p.metered for p in sub.plans] == [False, True]
        metered_first = replace(sub, plans=tuple(reversed(sub.plans)))
        prices = await gateway.list_prices(CATALOGUE_QUERY)
        target = next(p for p in catalogue_from_prices(prices) if p.price_id == "price_ProYearly")
        quote = await quote_plan_change(gateway, "cus_DemoUsage", metered_first, target.as_target())
    finally:
        await gateway.close()
    assert quote.item_id == "si_DemoUsage1"  # the Pro item, not the API-calls item


# --- a switch applies only when its payment goes through ---
DECLINING_VISA = "4000000000009995"  # saved fine, declines when charged (insufficient funds)


def pay_with_declining_card(messenger: Messenger) -> str:
    """Anna's saved card now declines (a new one, made the customer's and the plan's default)."""
    session = messenger.stripe_post(
        "/v1/checkout/sessions",
        {
            "mode": "setup",
            "customer": "cus_DemoHealthy",
            "currency": "eur",
            "success_url": "https://example.com/ok",
        },
    )
    HTTP.post(session["url"], data={"card": DECLINING_VISA, "exp_month": "12", "exp_year": "2031"})
    done = messenger.stripe_get(f"/v1/checkout/sessions/{session['id']}?expand[]=setup_intent")
    pm = done["setup_intent"]["payment_method"]
    messenger.stripe_post(
        "/v1/customers/cus_DemoHealthy", {"invoice_settings[default_payment_method]": pm}
    )
    messenger.stripe_post("/v1/subscriptions/sub_DemoHealthy", {"default_payment_method": pm})
    messenger.app.services.billing.clear()
    return pm


def test_a_switch_whose_payment_fails_keeps_the_plan_and_says_so(messenger: Messenger):
    pay_with_declining_card(messenger)
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    quote = quote_in(quote_card)

    done = messenger.press("healthy", quote_card, "confirm_switch")

    text = visible(done)
    assert "We charged" not in text and "You're now on" not in text
    assert (
        f"Your payment of €{quote['amount_now'] / 100:,.2f} didn't go through (insufficient "
        "funds), so your plan did not change: you stay on Pro. Nothing was charged." in text
    )
    subscription = messenger.stripe_get("/v1/subscriptions/sub_DemoHealthy")
    assert subscription["items"]["data"][0]["price"]["id"] == "price_ProMonthly"
    assert subscription["status"] == "active"
    assert subscription["pending_update"] is not None  # Stripe holds the change, unapplied
    # A second press on Confirm: the same answer, no second update.
    again = messenger.press("healthy", quote_card, "confirm_switch")
    assert "so your plan did not change" in visible(again)
    assert len(subscription_updates(messenger)) == 2  # the new default card, then the switch
    rows = [r for r in messenger.audit("cus_DemoHealthy") if r["action"] == "subscription_update"]
    assert [(r["outcome"], r["error_code"]) for r in rows] == [("failed", "insufficient_funds")]


def test_a_failed_switch_in_german(messenger: Messenger):
    pay_with_declining_card(messenger)
    card = messenger.initialize("healthy", "savings", locale="de")
    quote_card = messenger.press("healthy", card, "switch_plan", locale="de")
    done = visible(messenger.press("healthy", quote_card, "confirm_switch", locale="de"))
    assert "ist nicht durchgegangen (Kontodeckung nicht ausreichend)" in done
    assert "Sie bleiben bei Pro. Es wurde nichts abgebucht." in done


def test_stripe_refusing_a_switch_is_told_in_our_words_not_stripes(messenger: Messenger):
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    messenger.stripe.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/subscriptions/", "method": "POST", "status": 400, "count": 1},
    )
    done = messenger.press("healthy", quote_card, "confirm_switch")
    refusal = [r for r in subscription_updates(messenger) if r["status"] == 400]
    assert len(refusal) == 1
    text = visible(done)
    assert (
        "The switch didn't go through, so your plan did not change: you stay on Pro. "
        "Nothing was charged." in text
    )
    assert "Stripe" not in text
    assert "We charged" not in text


def test_a_subscription_that_owes_money_is_offered_no_switch(messenger: Messenger):
    # Müller's subscription is past due: the open payment comes first.
    card = messenger.initialize("sepa", "savings")
    text = visible(card)
    assert "**Settle your open payment first**" in text
    assert "switch_plan" not in button_ids(card)
    assert "show:payment_recovery" in button_ids(card)
    messenger.forget_stripe_requests()
    crafted = messenger.submit("sepa", "switch_plan", card["canvas"])
    assert "**Settle your open payment first**" in visible(crafted)
    assert "quote" not in crafted["canvas"].get("stored_data", {})
    assert messenger.stripe_posts("/v1/subscriptions/sub_DemoSepa") == []


def test_a_quote_is_not_applied_once_the_subscription_owes_money(messenger: Messenger):
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    # Before Anna confirms, her renewal fails: the subscription is past due.
    messenger.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})
    messenger.forget_stripe_requests()
    done = messenger.press("healthy", quote_card, "confirm_switch")
    assert "Your subscription has a payment outstanding" in visible(done)
    assert subscription_updates(messenger) == []


def test_confirming_again_while_stripe_still_applies_the_first_attempt_says_so(
    start_messenger,
):
    messenger = start_messenger(stripe_timeout_seconds=0.5)
    card = messenger.initialize("healthy", "savings")
    quote_card = messenger.press("healthy", card, "switch_plan")
    # Stripe applies the switch but answers only after our client gave up.
    messenger.stripe.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/subscriptions/", "method": "POST", "status": "hang", "delay_ms": 1500},
    )
    timed_out = messenger.press("healthy", quote_card, "confirm_switch")
    assert "**We couldn't reach the payment provider**" in visible(timed_out)

    # "Try again" while Stripe still works on the first request (same idempotency key: 409).
    while_applying = messenger.press("healthy", timed_out, "confirm_switch")

    text = visible(while_applying)
    assert "Your switch is already being processed." in text
    assert "Nothing was charged" not in text and "didn't go through" not in text
    wait_until(lambda: current_price(messenger) == "price_ProYearly")
    done = messenger.press("healthy", while_applying, "confirm_switch")  # "Refresh"
    assert "**You're now on Pro, yearly**" in visible(done)
    posts = subscription_updates(messenger)
    assert len({r["idempotency_key"] for r in posts}) == 1
    assert [r["status"] for r in posts] == [200, 409]  # one switch at Stripe


def test_a_switch_refused_after_another_confirmation_switched_the_plan_says_switched(
    messenger: Messenger,
):
    card = messenger.initialize("healthy", "savings")
    first_tab = messenger.press("healthy", card, "switch_plan")
    second_tab = messenger.press("healthy", card, "switch_plan")
    # The first tab's update is refused by Stripe, but only after a moment...
    messenger.stripe.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/subscriptions/", "method": "POST", "status": 400, "delay_ms": 1500},
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        refused = pool.submit(messenger.press, "healthy", first_tab, "confirm_switch")
        wait_until(lambda: len(subscription_updates(messenger)) == 1)
        # ...in which the second tab's confirmation switches the plan.
        switched = messenger.press("healthy", second_tab, "confirm_switch")
        answer = refused.result()

    assert "**You're now on Pro, yearly**" in visible(switched)
    assert current_price(messenger) == "price_ProYearly"
    text = visible(answer)
    assert "**You're now on Pro, yearly**" in text
    assert "didn't go through" not in text and "did not change" not in text


def current_price(messenger: Messenger) -> str:
    subscription = messenger.stripe_get("/v1/subscriptions/sub_DemoHealthy")
    return subscription["items"]["data"][0]["price"]["id"]


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
