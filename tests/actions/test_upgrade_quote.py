"""`upgrade-quote`: the target plan is matched by name, lookup key or price id; the quote is
Stripe's own preview with a fixed proration_date (applying the change with that date charges
exactly the quoted amount); a downgrade, the same plan or an unknown plan gets a clear answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.actions.conftest import Stripe, who
from tests.conftest import AppClient


def test_an_upgrade_quote_is_exactly_what_stripe_charges_when_applied(
    fin: AppClient, stripe: Stripe
) -> None:
    quote = fin.fin("/fin/upgrade-quote", who("healthy", target_plan="Business")).json()

    updated = stripe.post(
        "/v1/subscriptions/sub_DemoHealthy",
        {
            "items[0][id]": "si_DemoHealthy1",
            "items[0][price]": quote["target_plan"]["price_id"],
            "proration_date": str(quote["proration_date"]),
            "proration_behavior": "always_invoice",
        },
    )
    invoice = stripe.get(f"/v1/invoices/{updated['latest_invoice']}")

    assert quote["quotable"] is True and quote["kind"] == "upgrade"
    assert quote["current_plan"]["name"] == "Pro"
    assert quote["target_plan"]["price_id"] == "price_BusinessMonthly"
    assert quote["new_recurring_price"]["amount"] == 19900
    assert quote["new_interval"] == "month"
    assert quote["amount_due_now"]["amount"] == invoice["amount_due"]
    assert 0 < quote["amount_due_now"]["amount"] < 19900
    assert any(line["proration"] for line in quote["lines"])
    assert quote["effective_date"].endswith("Z")
    assert quote["message"] == (
        f"Business costs €199.00 per month. If you switch now, "
        f"{quote['amount_due_now']['formatted']} would be charged right away; the unused part "
        "of your current Pro period is credited. Nothing has been changed yet."
    )


@pytest.mark.parametrize(
    ("target", "interval", "price_id"),
    [
        ("business", None, "price_BusinessMonthly"),
        ("BUSINESS", None, "price_BusinessMonthly"),
        ("Business", "year", "price_BusinessYearly"),
        ("Business", "yearly", "price_BusinessYearly"),
        ("business_yearly", None, "price_BusinessYearly"),
        ("PRICE_BUSINESSYEARLY", None, "price_BusinessYearly"),
    ],
)
def test_the_target_is_matched_by_name_lookup_key_or_price_id_in_any_case(
    fin: AppClient, target: str, interval: str | None, price_id: str
) -> None:
    body = who("healthy", target_plan=target)
    if interval:
        body["interval"] = interval

    quote = fin.fin("/fin/upgrade-quote", body).json()

    assert quote["quotable"] is True
    assert quote["target_plan"]["price_id"] == price_id


def test_switching_the_same_plan_to_yearly_is_quoted_as_an_interval_change(
    fin: AppClient,
) -> None:
    quote = fin.fin(
        "/fin/upgrade-quote", who("healthy", target_plan="Pro", interval="year", locale="de")
    ).json()

    assert quote["kind"] == "interval_change"
    assert quote["new_recurring_price"]["amount"] == 79000
    assert quote["message"].startswith("Bei jährlicher Abrechnung kostet Pro 790,00\xa0€ pro Jahr.")


def test_a_cheaper_plan_is_not_quoted_but_answered(fin: AppClient, stripe: Stripe) -> None:
    stripe.forget_requests()

    quote = fin.fin("/fin/upgrade-quote", who("healthy", target_plan="Starter")).json()

    assert quote["quotable"] is False and quote["reason"] == "not_an_upgrade"
    assert quote["amount_due_now"] is None and quote["proration_date"] is None
    assert quote["message"] == (
        "Starter would be a downgrade from Pro. A member of our team can help you with that."
    )
    assert not any(r["path"] == "/v1/invoices/create_preview" for r in stripe.requests())


def test_the_current_plan_is_not_quoted(fin: AppClient) -> None:
    quote = fin.fin("/fin/upgrade-quote", who("healthy", target_plan="pro")).json()

    assert (quote["quotable"], quote["reason"]) == (False, "already_on_plan")
    assert quote["message"] == "You're already on Pro, so there is nothing to change."


def test_an_unknown_plan_is_answered_with_its_name(fin: AppClient) -> None:
    quote = fin.fin("/fin/upgrade-quote", who("healthy", target_plan="Enterprise")).json()

    assert (quote["quotable"], quote["reason"]) == (False, "plan_not_found")
    assert '"Enterprise"' in quote["message"]


def test_a_customer_without_subscription_is_told_so(fin: AppClient, stripe: Stripe) -> None:
    stripe.post("/v1/customers", {"email": "new@example.com", "name": "New Customer"})

    quote = fin.fin(
        "/fin/upgrade-quote", {"email": "new@example.com", "target_plan": "Business"}
    ).json()

    assert (quote["quotable"], quote["reason"]) == (False, "no_subscription")


def test_a_quote_takes_two_sequential_stripe_round_trips_and_reuses_the_catalogue(
    start_app: Callable[..., AppClient], stripe: Stripe
) -> None:
    app = start_app(snapshot_cache_seconds=0)
    # Latency makes concurrent requests overlap visibly in the sandbox's request log.
    stripe.sandbox.control("POST", "/_sandbox/latency", {"ms": 100})
    stripe.forget_requests()

    first = app.fin("/fin/upgrade-quote", who("healthy", target_plan="Business"))
    cold = stripe.requests()
    stripe.forget_requests()
    app.fin("/fin/upgrade-quote", who("vip", target_plan="Business", interval="year"))
    warm = stripe.requests()

    assert first.status_code == 200
    assert sequential_round_trips(cold) == 2
    assert sum(r["path"] == "/v1/prices" for r in cold) == 1
    assert not any(r["path"] == "/v1/prices" for r in warm)


def test_stripe_failing_during_a_quote_is_a_503(fin: AppClient, stripe: Stripe) -> None:
    stripe.fault(status=502, count=100, path_prefix="/v1/invoices")

    response = fin.fin("/fin/upgrade-quote", who("healthy", target_plan="Business"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stripe_unavailable"


def sequential_round_trips(requests: list[dict]) -> int:
    """The longest chain of Stripe requests where each started after the previous ended."""
    depth: dict[str, int] = {}
    for request in sorted(requests, key=lambda r: r["start"]):
        before = [
            depth[r["id"]] for r in requests if r["id"] in depth and r["end"] <= request["start"]
        ]
        depth[request["id"]] = 1 + max(before, default=0)
    return max(depth.values(), default=0)


def test_with_a_metered_item_beside_the_plan_the_plan_item_is_switched(
    fin: AppClient, stripe: Stripe
) -> None:
    stripe.forget_requests()

    quote = fin.fin("/fin/upgrade-quote", who("usage", target_plan="Business")).json()
    asked = stripe.requests()
    updated = stripe.post(
        "/v1/subscriptions/sub_DemoUsage",
        {
            "items[0][id]": "si_DemoUsage1",
            "items[0][price]": "price_BusinessMonthly",
            "proration_date": str(quote["proration_date"]),
            "proration_behavior": "always_invoice",
        },
    )
    invoice = stripe.get(f"/v1/invoices/{updated['latest_invoice']}")

    assert quote["current_plan"]["price_id"] == "price_ProMonthly"
    assert quote["amount_due_now"]["amount"] == invoice["amount_due"]
    # The item comes from the customer's expanded subscription, not from another request.
    assert not any(r["path"].startswith("/v1/subscriptions") for r in asked)


def test_plans_beyond_the_first_hundred_prices_are_found(fin: AppClient, stripe: Stripe) -> None:
    # An account with many active prices: Stripe lists the newest first, 100 per page, so the
    # demo plans (a year old) are only on the second page.
    for n in range(101):
        stripe.post(
            "/v1/prices",
            {
                "currency": "eur",
                "unit_amount": str(1000 + n),
                "recurring[interval]": "month",
                "product_data[name]": f"Legacy plan {n}",
            },
        )
    first_page = stripe.get("/v1/prices", active="true", type="recurring", limit=100)
    assert first_page["has_more"] is True
    assert "price_BusinessMonthly" not in {p["id"] for p in first_page["data"]}

    quote = fin.fin("/fin/upgrade-quote", who("healthy", target_plan="Business")).json()

    assert quote["quotable"] is True, quote
    assert quote["target_plan"]["price_id"] == "price_BusinessMonthly"
    pages = [r for r in stripe.requests() if r["method"] == "GET" and r["path"] == "/v1/prices"]
    assert len(pages) >= 2 and "starting_after" in pages[-1]["query"]
