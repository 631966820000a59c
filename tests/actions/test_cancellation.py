"""Fin's cancel-or-save: `/fin/cancellation/preview` says when the subscription would end and
offers, with Stripe's exact amounts, a pause, the retention discount and a cheaper plan (each with
its own confirmation token); `/fin/cancellation` does the chosen one once, audited. Checked against
what the sandbox Stripe holds afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from billing.money import format_day
from tests.actions.conftest import Stripe, audit_entries, who
from tests.conftest import FIN_TOKEN, AppClient
from tests.http import async_client

SUB = "sub_DemoHealthy"


@pytest.fixture
def fin(start_app: Callable[..., AppClient]) -> AppClient:
    return start_app(retention_coupon="RETENTION20")


def preview(fin: AppClient, **fields: Any) -> dict[str, Any]:
    response = fin.fin("/fin/cancellation/preview", who("healthy", **fields))
    assert response.status_code == 200, response.text
    return response.json()


def offer(answer: dict[str, Any], option: str, months: int | None = None) -> dict[str, Any]:
    return next(
        o
        for o in answer["offers"]
        if o["option"] == option and (months is None or o["months"] == months)
    )


def choose(fin: AppClient, token: str, key: str = "healthy") -> httpx.Response:
    return fin.fin("/fin/cancellation", who(key, confirmation_token=token))


def subscription_posts(stripe: Stripe, sub: str = SUB) -> list[dict[str, Any]]:
    return [
        r
        for r in stripe.requests()
        if r["method"] in ("POST", "DELETE") and r["path"] == f"/v1/subscriptions/{sub}"
    ]


def test_the_preview_says_when_it_ends_and_offers_exact_amounts(
    fin: AppClient, stripe: Stripe
) -> None:
    answer = preview(fin)

    sub = stripe.get(f"/v1/subscriptions/{SUB}")
    period_end = sub["items"]["data"][0]["current_period_end"]
    assert answer["subscription"]["id"] == SUB and answer["subscription"]["plan"] == "Pro"
    assert answer["ends_at"] == _iso(period_end)
    assert [o["option"] for o in answer["offers"]] == [
        "pause",
        "pause",
        "pause",
        "coupon",
        "plan_switch",
        "cancel_at_period_end",
    ]
    assert [o["months"] for o in answer["offers"][:3]] == [1, 2, 3]
    # The coupon's price is Stripe's own preview of the next invoice with it.
    with_coupon = stripe.post(
        "/v1/invoices/create_preview",
        {"subscription": SUB, "discounts[0][coupon]": "RETENTION20"},
    )
    coupon = offer(answer, "coupon")
    assert coupon["new_price"]["amount"] == with_coupon["total"] == 6320
    assert coupon["current_price"]["amount"] == 7900
    assert (
        coupon["description"] == "20% off for 3 months: €63.20 / month instead of €79.00 / month."
    )
    cheaper = offer(answer, "plan_switch")
    assert cheaper["target_plan"] == "Starter" and cheaper["new_price"]["amount"] == 2900
    assert cheaper["amount_due_now"]["amount"] == 0 and cheaper["credit"]["amount"] > 0
    assert offer(answer, "cancel_at_period_end")["ends_at"] == _iso(period_end)
    assert len({o["confirmation_token"] for o in answer["offers"]}) == 6
    assert "If you cancel, your Pro subscription ends on" in answer["message"]
    assert "pause your payments for up to 3 months" in answer["message"]
    # Nothing changed: reads and previews only.
    assert subscription_posts(stripe) == []


def test_the_preview_in_german(fin: AppClient) -> None:
    answer = preview(fin, locale="de")

    assert "Wenn Sie kündigen, endet Ihr Abonnement Pro am" in answer["message"]
    assert "bis zu 3 Monate pausieren" in answer["message"]
    description = offer(answer, "coupon")["description"].replace("\xa0", " ")
    assert description == "20 % Rabatt für 3 Monate: 63,20 € / Monat statt 79,00 € / Monat."


def test_a_pause_pauses_collection_until_the_offered_date(fin: AppClient, stripe: Stripe) -> None:
    pause = offer(preview(fin), "pause", months=2)

    response = choose(fin, pause["confirmation_token"])

    assert response.status_code == 200, response.text
    done = response.json()
    assert done["option"] == "pause" and done["resumes_at"] == pause["resumes_at"]
    assert done["message"].startswith("Done: your payments are paused until")
    sub = stripe.get(f"/v1/subscriptions/{SUB}")
    assert sub["pause_collection"]["behavior"] == "void"
    assert _iso(sub["pause_collection"]["resumes_at"]) == pause["resumes_at"]
    assert sub["status"] == "active" and sub["cancel_at_period_end"] is False
    [entry] = audit_entries(fin, "cus_DemoHealthy")
    assert (entry.action, entry.reason, entry.outcome) == ("cancellation", "pause", "succeeded")
    assert entry.actor_type == "fin" and entry.object_id == SUB


def test_the_discounted_price_offered_is_the_renewal_stripe_charges(
    fin: AppClient, stripe: Stripe
) -> None:
    coupon = offer(preview(fin), "coupon")

    assert choose(fin, coupon["confirmation_token"]).status_code == 200

    sub = stripe.get(f"/v1/subscriptions/{SUB}")
    assert len(sub["discounts"]) == 1
    period_end = sub["items"]["data"][0]["current_period_end"]
    now = stripe.sandbox.control("GET", "/_sandbox/clock")["now"]
    stripe.sandbox.control("POST", "/_sandbox/clock/advance", {"seconds": period_end - now + 60})
    renewal = stripe.get("/v1/invoices", subscription=SUB, limit=1)["data"][0]
    assert renewal["billing_reason"] == "subscription_cycle"
    assert renewal["total"] == coupon["new_price"]["amount"]


def test_the_cheaper_plan_is_switched_as_quoted_and_the_credit_booked(
    fin: AppClient, stripe: Stripe
) -> None:
    cheaper = offer(preview(fin), "plan_switch")
    balance_before = stripe.get("/v1/customers/cus_DemoHealthy")["balance"]

    assert choose(fin, cheaper["confirmation_token"]).status_code == 200

    sub = stripe.get(f"/v1/subscriptions/{SUB}")
    assert sub["items"]["data"][0]["price"]["id"] == "price_StarterMonthly"
    balance = stripe.get("/v1/customers/cus_DemoHealthy")["balance"]
    assert balance == balance_before - cheaper["credit"]["amount"]


def test_cancel_at_period_end_ends_the_subscription_when_offered(
    fin: AppClient, stripe: Stripe
) -> None:
    cancel = offer(preview(fin), "cancel_at_period_end")

    done = choose(fin, cancel["confirmation_token"]).json()

    sub = stripe.get(f"/v1/subscriptions/{SUB}")
    assert sub["cancel_at_period_end"] is True and _iso(sub["cancel_at"]) == cancel["ends_at"]
    assert done["ends_at"] == cancel["ends_at"]
    assert "nothing more will be charged" in done["message"]
    # Set to cancel: no more offers, the message says when it ends.
    again = preview(fin)
    assert again["offers"] == [] and "already set to end" in again["message"]


def test_a_token_replayed_answers_the_first_result_and_changes_nothing(
    fin: AppClient, stripe: Stripe
) -> None:
    token = offer(preview(fin), "pause", months=1)["confirmation_token"]
    first = choose(fin, token).json()
    stripe.forget_requests()

    second = choose(fin, token).json()

    assert second["replayed"] is True and first["replayed"] is False
    assert second["resumes_at"] == first["resumes_at"]
    assert subscription_posts(stripe) == []
    assert len(audit_entries(fin, "cus_DemoHealthy")) == 1


def test_five_concurrent_confirmations_make_one_change(fin: AppClient, stripe: Stripe) -> None:
    token = offer(preview(fin), "cancel_at_period_end")["confirmation_token"]
    stripe.forget_requests()
    stripe.sandbox.control("POST", "/_sandbox/latency", {"ms": 300})

    async def confirm_five() -> list[httpx.Response]:
        async with async_client(base_url=fin.url, timeout=30) as client:
            body = who("healthy", confirmation_token=token)
            headers = {"Authorization": f"Bearer {FIN_TOKEN}"}
            return await asyncio.gather(
                *(client.post("/fin/cancellation", json=body, headers=headers) for _ in range(5))
            )

    responses = asyncio.run(confirm_five())

    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert sorted(r.json()["replayed"] for r in responses) == [False] + [True] * 4
    assert len(subscription_posts(stripe)) == 1
    entries = audit_entries(fin, "cus_DemoHealthy")
    assert [(e.reason, e.outcome) for e in entries] == [("cancel_at_period_end", "succeeded")]


def test_an_email_alone_gets_no_offers_and_changes_nothing(fin: AppClient) -> None:
    token = offer(preview(fin), "pause", months=1)["confirmation_token"]
    email = {"email": "anna@example.com"}

    asked = fin.fin("/fin/cancellation/preview", email)
    done = fin.fin("/fin/cancellation", {**email, "confirmation_token": token})

    for response in (asked, done):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "verified_identity_required"
    assert audit_entries(fin, "cus_DemoHealthy") == []


def test_a_token_made_for_someone_else_or_forged_is_refused(fin: AppClient) -> None:
    token = offer(preview(fin), "pause", months=1)["confirmation_token"]

    other = choose(fin, token, key="vip")
    forged = choose(fin, token[:-4] + "AAAA")

    for response in (other, forged):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "invalid_confirmation_token"
        assert "look at the options again" in response.json()["error"]["message"]
    assert audit_entries(fin) == []


def test_stripe_refusing_the_change_is_a_409_and_the_token_stays_refused(
    fin: AppClient, stripe: Stripe
) -> None:
    token = offer(preview(fin), "pause", months=1)["confirmation_token"]
    stripe.fault(
        status=400,
        path_prefix=f"/v1/subscriptions/{SUB}",
        method="POST",
        error={
            "type": "invalid_request_error",
            "code": "parameter_invalid_integer",
            "param": "pause_collection[resumes_at]",
            "message": "Invalid integer.",
        },
    )

    refused = choose(fin, token)
    again = choose(fin, token)

    for response in (refused, again):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "stripe_rejected"
    assert stripe.get(f"/v1/subscriptions/{SUB}")["pause_collection"] is None
    [entry] = audit_entries(fin, "cus_DemoHealthy")
    assert (entry.outcome, entry.error_code) == ("refused", "parameter_invalid_integer")


def test_several_subscriptions_need_one_named(fin: AppClient) -> None:
    multi = {"stripe_id": "cus_DemoMulti"}

    unnamed = fin.fin("/fin/cancellation/preview", multi)
    addon = fin.fin("/fin/cancellation/preview", {**multi, "subscription_id": "sub_DemoMultiAddon"})
    plan = fin.fin("/fin/cancellation/preview", {**multi, "subscription_id": "sub_DemoMultiPlan"})
    foreign = fin.fin("/fin/cancellation/preview", {**multi, "subscription_id": SUB})

    assert unnamed.status_code == 409
    error = unnamed.json()["error"]
    assert error["code"] == "subscription_required"
    assert {s["id"] for s in error["subscriptions"]} == {
        "sub_DemoMultiPlan",
        "sub_DemoMultiAddon",
    }
    assert "Pro" in error["message"] and "Priority support" in error["message"]
    # An add-on is never offered a "cheaper plan"; the plan itself is.
    assert "plan_switch" not in [o["option"] for o in addon.json()["offers"]]
    assert addon.json()["subscription"]["plan"] == "Priority support"
    assert "plan_switch" in [o["option"] for o in plan.json()["offers"]]
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "subscription_not_found"


def test_without_a_retention_coupon_and_with_fewer_pause_months(
    start_app: Callable[..., AppClient],
) -> None:
    fin = start_app(cancel_pause_months=1)

    options = [(o["option"], o["months"]) for o in preview(fin)["offers"]]

    assert options == [("pause", 1), ("plan_switch", None), ("cancel_at_period_end", None)]


def _iso(timestamp: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def german_day(iso: str) -> str:
    return format_day(datetime.fromisoformat(iso.replace("Z", "+00:00")), "de")


# What each option says once done, in formal German: (option, months, expected given the offer).
DONE_IN_GERMAN: list[tuple[str, int | None, Callable[[dict[str, Any]], str]]] = [
    (
        "pause",
        2,
        lambda o: (
            f"Erledigt: Ihre Zahlungen sind bis zum {german_day(o['resumes_at'])} "
            "pausiert. Ihr Abonnement bleibt aktiv."
        ),
    ),
    (
        "coupon",
        None,
        lambda o: (
            "Erledigt: 20\xa0% Rabatt für 3 Monate ist eingerichtet. Ihre nächsten "
            "Rechnungen betragen 63,20\xa0€ / Monat."
        ),
    ),
    (
        "cancel_at_period_end",
        None,
        lambda o: (
            f"Erledigt: Ihr Abonnement Pro endet am {german_day(o['ends_at'])}. Bis dahin "
            "behalten Sie den Zugang, und es wird nichts mehr abgebucht."
        ),
    ),
    (
        "plan_switch",
        None,
        lambda o: "Erledigt: Sie sind jetzt im Tarif Starter für 29,00\xa0€ / Monat.",
    ),
]


@pytest.mark.parametrize(
    ("option", "months", "expected"), DONE_IN_GERMAN, ids=[d[0] for d in DONE_IN_GERMAN]
)
def test_what_was_done_is_said_in_formal_german(
    fin: AppClient, option: str, months: int | None, expected: Callable[[dict[str, Any]], str]
) -> None:
    chosen = offer(preview(fin, locale="de"), option, months=months)

    response = fin.fin(
        "/fin/cancellation",
        who("healthy", confirmation_token=chosen["confirmation_token"], locale="de"),
    )

    assert response.status_code == 200, response.text
    assert response.json()["option"] == option
    assert response.json()["message"] == expected(chosen)
