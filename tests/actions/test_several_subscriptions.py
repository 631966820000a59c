"""Fin for a customer with several live subscriptions (Klara of Weber Design Studio: Pro monthly
and the Priority support add-on): billing-status lists them all beside the single fields (the
primary one: the plan), next-invoice and upgrade-quote take a `subscription_id` that must be
hers, and upgrade-quote asks which one (409 `subscription_required`) when none is named."""

from __future__ import annotations

from typing import Any

from billing.money import format_day, to_datetime
from tests.actions.conftest import Stripe, who
from tests.actions.test_openapi import document as document  # the fixture
from tests.actions.test_openapi import validator
from tests.conftest import AppClient


def period_end(stripe: Stripe, subscription: str) -> int:
    return stripe.get(f"/v1/subscriptions/{subscription}")["items"]["data"][0]["current_period_end"]


def day(stamp: int, locale: str = "en") -> str:
    return format_day(to_datetime(stamp), locale)


def test_billing_status_lists_every_subscription_the_plan_first(
    fin: AppClient, stripe: Stripe, document: dict[str, Any]
) -> None:
    response = fin.fin("/fin/billing-status", who("multi"))
    body = response.json()

    assert response.status_code == 200
    assert [s["id"] for s in body["subscriptions"]] == ["sub_DemoMultiPlan", "sub_DemoMultiAddon"]
    plan, addon = body["subscriptions"]
    assert (plan["plan"]["name"], plan["add_on"], plan["status"]) == ("Pro", False, "active")
    assert (addon["plan"]["name"], addon["add_on"]) == ("Priority support", True)
    assert addon["plan"]["price"]["amount"] == 1500
    assert plan["next_payment"]["amount"]["amount"] == 7900
    assert addon["next_payment"]["amount"]["amount"] == 1500
    assert plan["cancel_at_period_end"] is addon["cancel_at_period_end"] is False
    # The single fields, kept for compatibility, describe the primary subscription: the plan.
    assert body["plan"]["name"] == "Pro"
    assert body["next_payment"] == plan["next_payment"]
    assert body["message"].startswith(
        "You have 2 subscriptions with us. Your Pro subscription costs €79.00 per month and "
        f"renews on {day(period_end(stripe, 'sub_DemoMultiPlan'))}. Your Priority support "
        "subscription costs €15.00 per month and renews on "
        f"{day(period_end(stripe, 'sub_DemoMultiAddon'))}."
    )
    ref = document["paths"]["/fin/billing-status"]["post"]["responses"]["200"]["content"]
    assert validator(document, ref["application/json"]["schema"]["$ref"]).is_valid(body)


def test_billing_status_lists_them_in_german(fin: AppClient) -> None:
    body = fin.fin("/fin/billing-status", who("multi", locale="de")).json()

    assert body["message"].startswith(
        "Sie haben 2 Abonnements bei uns. Ihr Abonnement Pro kostet 79,00\xa0€ pro Monat"
    )
    assert "Ihr Abonnement Priority support kostet 15,00\xa0€ pro Monat" in body["message"]


def test_a_customer_with_one_subscription_has_a_list_of_one(fin: AppClient) -> None:
    body = fin.fin("/fin/billing-status", who("healthy")).json()

    assert [s["id"] for s in body["subscriptions"]] == ["sub_DemoHealthy"]
    assert body["message"].startswith("You're on the Pro plan")


def test_next_invoice_without_a_subscription_is_the_one_that_renews_first(
    fin: AppClient, stripe: Stripe
) -> None:
    body = fin.fin("/fin/next-invoice", who("multi")).json()

    first = min(("sub_DemoMultiPlan", "sub_DemoMultiAddon"), key=lambda s: period_end(stripe, s))
    assert body["subscription_id"] == first
    assert body["subscription_name"] == {"sub_DemoMultiPlan": "Pro"}.get(first, "Priority support")
    assert body["message"].startswith(f"Your next invoice for {body['subscription_name']} of ")


def test_next_invoice_of_a_named_subscription(fin: AppClient, stripe: Stripe) -> None:
    body = fin.fin(
        "/fin/next-invoice", who("multi", subscription_id="sub_DemoMultiAddon", locale="de")
    ).json()

    assert body["subscription_id"] == "sub_DemoMultiAddon"
    assert body["amount_due"]["amount"] == 1500
    assert body["message"] == (
        "Ihre nächste Rechnung für Priority support über 15,00\xa0€ ist am "
        f"{day(period_end(stripe, 'sub_DemoMultiAddon'), 'de')} fällig."
    )


def test_another_customers_subscription_is_not_found(fin: AppClient) -> None:
    for path, extra in (
        ("/fin/next-invoice", {}),
        ("/fin/upgrade-quote", {"target_plan": "Business"}),
    ):
        response = fin.fin(path, who("multi", subscription_id="sub_DemoHealthy", **extra))

        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "subscription_not_found"


def test_a_malformed_subscription_id_is_a_422(fin: AppClient) -> None:
    response = fin.fin("/fin/next-invoice", who("multi", subscription_id="../cus_DemoHealthy"))

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "subscription_id"


def test_upgrade_quote_without_a_subscription_asks_which_one(
    fin: AppClient, stripe: Stripe, document: dict[str, Any]
) -> None:
    stripe.forget_requests()
    response = fin.fin("/fin/upgrade-quote", who("multi", target_plan="Business"))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "subscription_required"
    assert error["message"] == (
        "You have more than one subscription with us: Pro and Priority support. "
        "Which one do you mean?"
    )
    assert [(s["id"], s["product"], s["price"]["amount"]) for s in error["subscriptions"]] == [
        ("sub_DemoMultiPlan", "Pro", 7900),
        ("sub_DemoMultiAddon", "Priority support", 1500),
    ]
    assert validator(document, "#/components/schemas/ErrorResponse").is_valid(response.json())
    # Nothing was previewed: no quote before the customer said which.
    assert not [r for r in stripe.requests() if r["path"] == "/v1/invoices/create_preview"]


def test_upgrade_quote_asks_in_german(fin: AppClient) -> None:
    error = fin.fin("/fin/upgrade-quote", who("multi", target_plan="Business", locale="de")).json()

    assert error["error"]["message"] == (
        "Sie haben mehr als ein Abonnement bei uns: Pro und Priority support. Welches meinen Sie?"
    )


def test_upgrade_quote_of_a_named_subscription_is_what_stripe_charges(
    fin: AppClient, stripe: Stripe
) -> None:
    quote = fin.fin(
        "/fin/upgrade-quote",
        who("multi", target_plan="Business", subscription_id="sub_DemoMultiPlan"),
    ).json()

    updated = stripe.post(
        "/v1/subscriptions/sub_DemoMultiPlan",
        {
            "items[0][id]": "si_DemoMultiPlan1",
            "items[0][price]": quote["target_plan"]["price_id"],
            "proration_date": str(quote["proration_date"]),
            "proration_behavior": "always_invoice",
        },
    )
    invoice = stripe.get(f"/v1/invoices/{updated['latest_invoice']}")
    assert quote["quotable"] is True
    assert quote["subscription_id"] == "sub_DemoMultiPlan"
    assert quote["current_plan"]["name"] == "Pro"
    assert quote["amount_due_now"]["amount"] == invoice["amount_due"]
    assert quote["message"].startswith(
        "For your Pro subscription: Business costs €199.00 per month."
    )
    # The add-on's subscription was left alone.
    addon = stripe.get("/v1/subscriptions/sub_DemoMultiAddon")
    assert addon["items"]["data"][0]["price"]["id"] == "price_PrioritySupportMonthly"


def test_upgrade_quote_names_the_subscription_in_german(fin: AppClient) -> None:
    quote = fin.fin(
        "/fin/upgrade-quote",
        who("multi", target_plan="Business", subscription_id="sub_DemoMultiPlan", locale="de"),
    ).json()

    assert quote["message"].startswith("Zu Ihrem Abonnement Pro: Business kostet 199,00\xa0€")


def test_an_add_on_is_neither_quoted_as_a_plan_nor_switched(fin: AppClient) -> None:
    addon = fin.fin(
        "/fin/upgrade-quote",
        who("multi", target_plan="Business", subscription_id="sub_DemoMultiAddon"),
    ).json()
    target = fin.fin(
        "/fin/upgrade-quote",
        who("multi", target_plan="Priority support", subscription_id="sub_DemoMultiPlan"),
    ).json()

    assert (addon["quotable"], addon["reason"]) == (False, "not_a_plan")
    assert addon["message"].startswith("Priority support is an add-on to your plan")
    assert (target["quotable"], target["reason"]) == (False, "plan_not_found")
