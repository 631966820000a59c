"""A customer with several live subscriptions in the Messenger (Klara of Weber Design Studio:
Pro monthly and the Priority support add-on): the status card lists each; the savings card
offers the plan's saving, never the add-on as a plan, and asks which subscription first when
more than one has a saving; the quote names the subscription it changes."""

from __future__ import annotations

from billing.quotes import CATALOGUE_QUERY
from billing.savings import catalogue_from_prices, options_by_subscription
from billing.snapshot_loader import load_snapshot
from gateways.stripe import StripeGateway
from tests.conftest import STRIPE_KEY
from tests.messenger.driver import Messenger, button_ids, visible
from tests.messenger.test_savings_card import quote_in


def second_plan(messenger: Messenger) -> str:
    """Klara's second subscription becomes a plan (Starter monthly) with a yearly saving of
    its own: two subscriptions that each have a saving."""
    sub = messenger.stripe_post(
        "/v1/subscriptions/sub_DemoMultiAddon",
        {
            "items[0][id]": "si_DemoMultiAddon1",
            "items[0][price]": "price_StarterMonthly",
            "proration_behavior": "none",
        },
    )
    return sub["id"]


def test_the_billing_status_card_lists_each_subscription(messenger: Messenger):
    text = visible(messenger.initialize("multi", "billing_status"))
    assert "**Pro** · €79.00 / month · Active" in text
    assert "**Priority support** · €15.00 / month · Active" in text
    # The first one to renew is the next payment: Pro's.
    assert "Next payment: €79.00 on" in text
    assert "Status:" not in text  # each line says its own status


def test_the_billing_status_card_in_german(messenger: Messenger):
    text = visible(messenger.initialize("multi", "billing_status", locale="de"))
    assert "**Pro** · 79,00 € / Monat · Aktiv" in text
    assert "**Priority support** · 15,00 € / Monat · Aktiv" in text
    assert "Nächste Zahlung: 79,00 € am" in text


def test_the_savings_card_offers_the_plan_and_names_it_not_the_add_on(messenger: Messenger):
    body = messenger.initialize("multi", "savings")
    text = visible(body)
    assert "**Save €158.00 a year**" in text
    assert "For your Pro subscription" in text
    assert "Priority support" not in text  # an add-on is no plan, and has no saving
    assert button_ids(body) == ["switch_plan", "show_savings"]


def test_the_quote_names_the_subscription_it_changes(messenger: Messenger):
    card = messenger.initialize("multi", "savings")
    quote = messenger.press("multi", card, "switch_plan")
    text = visible(quote)
    assert "**Switch to Pro, yearly**" in text
    assert "For your Pro subscription" in text
    assert quote_in(quote)["subscription"] == "sub_DemoMultiPlan"


def test_with_savings_on_two_subscriptions_the_card_asks_which_one_first(messenger: Messenger):
    starter = second_plan(messenger)
    body = messenger.initialize("multi", "savings")
    text = visible(body)
    assert "**You could save on more than one subscription**" in text
    assert "[Pro: save €158.00 a year]" in text
    assert "[Starter: save €58.00 a year]" in text
    assert button_ids(body) == ["subscription:sub_DemoMultiPlan", f"subscription:{starter}"]

    chosen = messenger.press("multi", body, f"subscription:{starter}")
    text = visible(chosen)
    assert "**Save €58.00 a year**" in text
    assert "For your Starter subscription" in text
    assert "[Another subscription]" in text
    assert chosen["canvas"]["stored_data"]["subscription_id"] == starter

    quote = messenger.press("multi", chosen, "switch_plan")
    assert "**Switch to Starter, yearly**" in visible(quote)
    assert "For your Starter subscription" in visible(quote)

    done = messenger.press("multi", quote, "confirm_switch")
    assert "**You're now on Starter, yearly**" in visible(done)
    changed = messenger.stripe_get(f"/v1/subscriptions/{starter}")
    assert changed["items"]["data"][0]["price"]["id"] == "price_StarterYearly"
    untouched = messenger.stripe_get("/v1/subscriptions/sub_DemoMultiPlan")
    assert untouched["items"]["data"][0]["price"]["id"] == "price_ProMonthly"


def test_another_subscription_asks_again(messenger: Messenger):
    starter = second_plan(messenger)
    body = messenger.initialize("multi", "savings")
    chosen = messenger.press("multi", body, f"subscription:{starter}")
    again = messenger.press("multi", chosen, "subscription:")
    assert "**You could save on more than one subscription**" in visible(again)
    assert "subscription_id" not in again["canvas"]["stored_data"]


def test_the_question_in_german(messenger: Messenger):
    second_plan(messenger)
    text = visible(messenger.initialize("multi", "savings", locale="de"))
    assert "**Sie könnten bei mehr als einem Abonnement sparen**" in text
    assert "[Pro: 158,00 € im Jahr sparen]" in text


def test_another_customers_subscription_is_never_chosen(messenger: Messenger):
    second_plan(messenger)
    body = messenger.initialize("multi", "savings")
    crafted = messenger.submit("multi", "subscription:sub_DemoHealthy", body["canvas"])
    assert "**You could save on more than one subscription**" in visible(crafted)


async def test_add_ons_are_left_out_of_the_catalogue_and_the_plan_comes_first(stripe_sandbox):
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe_sandbox.url, max_network_retries=0)
    try:
        prices = await gateway.list_prices(CATALOGUE_QUERY)
        snapshot = await load_snapshot(gateway, await gateway.retrieve_customer("cus_DemoMulti"))
    finally:
        await gateway.close()
    catalogue = catalogue_from_prices(prices)
    assert "price_PrioritySupportMonthly" in {p.id for p in prices}
    assert "prod_PrioritySupport" not in {p.product_id for p in catalogue}
    assert {p.product_id for p in catalogue} == {"prod_Starter", "prod_Pro", "prod_Business"}
    # Stripe lists the add-on (the newer subscription) first; the primary one is the plan.
    assert [s.id for s in snapshot.subscriptions][0] == "sub_DemoMultiAddon"
    assert snapshot.subscription is not None and snapshot.subscription.id == "sub_DemoMultiPlan"
    assert snapshot.next_invoice is not None
    assert snapshot.next_invoice.subscription_id == "sub_DemoMultiPlan"
    assert {i.subscription_id for i in snapshot.next_invoices} == {
        "sub_DemoMultiPlan",
        "sub_DemoMultiAddon",
    }
    assert [sub.id for sub, _ in options_by_subscription(snapshot, catalogue)] == [
        "sub_DemoMultiPlan"
    ]


def test_the_recovery_card_names_the_failed_invoices_subscription(messenger: Messenger):
    invoice = messenger.stripe.control(
        "POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoMulti"}
    )
    name = {"sub_DemoMultiPlan": "Pro", "sub_DemoMultiAddon": "Priority support"}[
        invoice["parent"]["subscription_details"]["subscription"]
    ]
    text = visible(messenger.initialize("multi", "payment_recovery"))
    assert "didn't go through**" in text
    assert f"For your {name} subscription" in text
    german = visible(messenger.initialize("multi", "payment_recovery", locale="de"))
    assert f"Für Ihr Abonnement {name}" in german
