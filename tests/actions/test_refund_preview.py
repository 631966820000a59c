"""`refunds/preview` applies the refund policy and moves no money: an eligible payment gets the
amount and a confirmation token; every rule that refuses answers with its reason and a message
Fin can say (200, eligible=false), never with an error page. The payment names the subscription
it paid for (the invoice it paid says which), and so does the sentence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from billing.money import format_day
from tests.actions.conftest import CUSTOMERS, Stripe, who
from tests.conftest import AppClient


def preview(app: AppClient, key: str = "healthy", **fields: object) -> dict:
    response = app.fin("/fin/refunds/preview", who(key, **fields))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_latest_payment_is_previewed_in_full_with_a_token_and_nothing_moves(
    fin: AppClient, stripe: Stripe
) -> None:
    latest = stripe.latest_charge("cus_DemoHealthy")

    body = preview(fin)

    assert body["eligible"] is True and body["reason"] is None
    assert body["amount"] == {"amount": 7900, "currency": "eur", "formatted": "€79.00"}
    assert body["charge"]["id"] == latest["id"]
    assert body["charge"]["refundable"]["amount"] == 7900
    assert body["charge"]["payment_method_last4"] == "4242"
    assert body["confirmation_token"]
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert 590 <= (expires - datetime.now(UTC)).total_seconds() <= 600
    assert body["message"].startswith("I can refund your payment of €79.00 from ")
    assert body["message"].endswith("Shall I go ahead with the refund of €79.00?")
    assert stripe.refunds(latest["id"]) == []
    assert stripe.refund_posts() == []


def test_a_partial_amount_of_a_chosen_payment_is_previewed(fin: AppClient, stripe: Stripe) -> None:
    older = stripe.charges("cus_DemoHealthy")[1]  # about 40 days old

    body = preview(fin, charge_id=older["id"], amount=1250, locale="de")

    assert body["eligible"] is True
    assert body["charge"]["id"] == older["id"]
    assert body["amount"]["amount"] == 1250
    assert body["message"].startswith("Ich kann 12,50\xa0€ Ihrer Zahlung über 79,00\xa0€ vom ")


def test_more_than_the_policy_maximum_is_refused(fin: AppClient) -> None:
    body = preview(fin, "vip")  # 199 € > the default maximum of 100 €

    assert (body["eligible"], body["reason"]) == (False, "refund_amount_too_high")
    assert body["confirmation_token"] is None and body["amount"] is None
    assert body["charge"]["amount"]["amount"] == 19900
    assert body["message"] == (
        "I can refund at most €100.00 here; a member of our team will look at a larger refund."
    )


def test_more_than_remains_of_a_partly_refunded_payment_is_refused(
    start_app: Callable[..., AppClient], stripe: Stripe
) -> None:
    app = start_app(refund_max_amount=50_000)
    partly = next(c for c in stripe.charges("cus_DemoVip") if c["amount_refunded"])

    too_much = preview(app, "vip", charge_id=partly["id"], amount=18_000)
    the_rest = preview(app, "vip", charge_id=partly["id"])

    assert too_much["reason"] == "refund_amount_too_high"
    assert too_much["message"] == "Only €179.00 of that payment can still be refunded."
    assert the_rest["eligible"] is True and the_rest["amount"]["amount"] == 17_900


def test_a_payment_older_than_the_maximum_age_is_refused(
    start_app: Callable[..., AppClient],
) -> None:
    app = start_app(refund_max_age_days=5)  # Anna's latest payment is 12 days old

    body = preview(app)

    assert (body["eligible"], body["reason"]) == (False, "refund_charge_too_old")
    assert "is older than 5 days" in body["message"]


def test_the_per_customer_limit_counts_fins_refunds_in_the_window(
    start_app: Callable[..., AppClient],
) -> None:
    app = start_app(refund_max_per_customer=1)
    first = preview(app, amount=1000)
    done = app.fin("/fin/refunds", who("healthy", confirmation_token=first["confirmation_token"]))
    assert done.status_code == 200

    second = preview(app)

    assert (second["eligible"], second["reason"]) == (False, "refund_limit_reached")
    assert second["message"] == (
        "You've already had 1 refund in the last 30 days, so a member of our team needs to "
        "handle this one."
    )


def test_a_disputed_payment_is_refused(fin: AppClient, stripe: Stripe) -> None:
    latest = stripe.latest_charge("cus_DemoHealthy")
    # The sandbox has no dispute API; a chargeback sets this flag on the charge in Stripe.
    stripe.sandbox.state.objects[latest["id"]]["disputed"] = True

    body = preview(fin)

    assert (body["eligible"], body["reason"]) == (False, "refund_disputed_payment")
    assert "disputed with your bank" in body["message"]


def test_a_sepa_debit_still_processing_is_refused_until_it_settles(
    fin: AppClient, stripe: Stripe
) -> None:
    [open_invoice] = stripe.get("/v1/invoices", customer="cus_DemoSepa", status="open")["data"]
    stripe.post(f"/v1/invoices/{open_invoice['id']}/pay")  # SEPA: the charge is now pending

    body = preview(fin, "sepa", locale="de")

    assert body["charge"]["status"] == "pending"
    assert (body["eligible"], body["reason"]) == (False, "refund_payment_not_settled")
    assert "wird von Ihrer Bank noch bearbeitet" in body["message"]


def test_a_failed_payment_has_nothing_to_refund(fin: AppClient, stripe: Stripe) -> None:
    failed = stripe.latest_charge("cus_DemoSepa", status="failed")

    body = preview(fin, "sepa", charge_id=failed["id"])

    assert (body["eligible"], body["reason"]) == (False, "refund_payment_failed")
    assert "no money was taken" in body["message"]


def test_a_fully_refunded_payment_is_refused(fin: AppClient, stripe: Stripe) -> None:
    latest = stripe.latest_charge("cus_DemoHealthy")
    stripe.post("/v1/refunds", {"charge": latest["id"]})

    body = preview(fin, charge_id=latest["id"])

    assert (body["eligible"], body["reason"]) == (False, "refunded_already")
    assert body["message"].startswith("Your payment of €79.00 from ")
    assert body["message"].endswith("has already been refunded in full.")


@pytest.mark.parametrize("whose", ["cus_DemoVip", "unknown"])
def test_another_customers_payment_looks_like_no_payment_at_all(
    fin: AppClient, stripe: Stripe, whose: str
) -> None:
    charge_id = stripe.latest_charge(whose)["id"] if whose != "unknown" else "ch_doesnotexist"

    body = preview(fin, charge_id=charge_id)

    assert (body["eligible"], body["reason"]) == (False, "refund_charge_not_found")
    assert body["charge"] is None
    assert body["message"] == "I couldn't find that payment on your account, so I can't refund it."


def test_a_customer_without_payments_has_nothing_to_refund(fin: AppClient, stripe: Stripe) -> None:
    # A signed-in user (Intercom sends their user id; an email alone may not move money).
    stripe.post("/v1/customers", {"email": "fresh@example.com", "metadata[user_id]": "usr_fresh"})

    body = fin.fin(
        "/fin/refunds/preview", {"email": "fresh@example.com", "user_id": "usr_fresh"}
    ).json()

    assert (body["eligible"], body["reason"]) == (False, "refund_charge_not_found")


def test_an_ambiguous_customer_is_a_409_and_nothing_is_looked_up(
    fin: AppClient, stripe: Stripe
) -> None:
    response = fin.fin("/fin/refunds/preview", who("shared_b"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ambiguous_customer"
    assert not any(r["path"].startswith("/v1/charges") for r in stripe.requests())


def test_a_contact_linked_by_stripe_id_settles_a_shared_email(fin: AppClient) -> None:
    # An agent set the contact's `stripe_id`: the connector passes it, and the match is unique.
    body = preview(fin, "shared_b", stripe_id="cus_DemoSharedB")

    # Team Beta's last payment is months old: refused by the policy, not as ambiguous.
    assert body["eligible"] is False
    assert body["reason"] == "refund_charge_too_old"


def test_stripe_unavailable_during_a_preview_is_a_503(fin: AppClient, stripe: Stripe) -> None:
    stripe.fault(status=500, count=5, path_prefix="/v1/charges")

    response = fin.fin("/fin/refunds/preview", who("healthy"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stripe_unavailable"


# --- which subscription a payment was for (the invoice it paid says so) ---
def subscription_paid_by(stripe: Stripe, charge: dict[str, Any]) -> str | None:
    """What Stripe says: the invoice the charge's payment intent paid, and that invoice's
    subscription."""
    paid = stripe.get(
        "/v1/invoice_payments",
        **{"payment[type]": "payment_intent", "payment[payment_intent]": charge["payment_intent"]},
    )["data"]
    if not paid:
        return None
    invoice = stripe.get(f"/v1/invoices/{paid[0]['invoice']}")
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription")


def test_stripe_failing_to_say_which_subscription_leaves_the_preview_standing(
    fin: AppClient, stripe: Stripe
) -> None:
    latest = stripe.latest_charge("cus_DemoMulti")
    stripe.fault(status=500, count=5, path_prefix="/v1/invoice_payments")

    body = preview(fin, "multi")

    assert body["eligible"] is True and body["charge"]["id"] == latest["id"]
    assert body["confirmation_token"]
    assert (body["charge"]["subscription_id"], body["charge"]["subscription_name"]) == (None, None)
    assert body["message"].startswith(
        f"I can refund your payment of €15.00 from {paid_on(latest)} "
    )
    assert "subscription" not in body["message"]


def paid_on(charge: dict[str, Any], locale: str = "en") -> str:
    return format_day(datetime.fromtimestamp(charge["created"], UTC), locale)


def test_the_payment_previewed_names_the_subscription_it_paid_for(
    fin: AppClient, stripe: Stripe
) -> None:
    latest = stripe.latest_charge("cus_DemoMulti")  # Klara's add-on renewed last
    assert subscription_paid_by(stripe, latest) == "sub_DemoMultiAddon"

    body = preview(fin, "multi")

    assert body["eligible"] is True and body["charge"]["id"] == latest["id"]
    assert body["charge"]["subscription_id"] == "sub_DemoMultiAddon"
    assert body["charge"]["subscription_name"] == "Priority support"
    assert body["message"] == (
        f"I can refund your payment of €15.00 from {paid_on(latest)} for your Priority support "
        "subscription in full. Shall I go ahead with the refund of €15.00?"
    )


def test_a_chosen_payment_of_another_subscription_names_that_one(
    fin: AppClient, stripe: Stripe
) -> None:
    plan_payment = next(c for c in stripe.charges("cus_DemoMulti") if c["amount"] == 7900)
    assert subscription_paid_by(stripe, plan_payment) == "sub_DemoMultiPlan"

    body = preview(fin, "multi", charge_id=plan_payment["id"], amount=1000)

    assert body["charge"]["subscription_id"] == "sub_DemoMultiPlan"
    assert body["charge"]["subscription_name"] == "Pro"
    assert body["message"] == (
        f"I can refund €10.00 of your payment of €79.00 from {paid_on(plan_payment)} for your "
        "Pro subscription. Shall I go ahead with the refund of €10.00?"
    )


def test_the_subscription_is_named_in_formal_and_informal_german(
    fin: AppClient, start_app: Callable[..., AppClient], stripe: Stripe
) -> None:
    latest = stripe.latest_charge("cus_DemoMulti")
    plan_payment = next(c for c in stripe.charges("cus_DemoMulti") if c["amount"] == 7900)
    informal = start_app(german_address="du")

    full = preview(fin, "multi", locale="de")["message"]
    partial = preview(fin, "multi", charge_id=plan_payment["id"], amount=1000, locale="de")
    du_full = preview(informal, "multi", locale="de")["message"]
    du_partial = preview(informal, "multi", charge_id=plan_payment["id"], amount=1000, locale="de")[
        "message"
    ]

    day, plan_day = paid_on(latest, "de"), paid_on(plan_payment, "de")
    assert full == (
        f"Ich kann Ihre Zahlung über 15,00\xa0€ vom {day} für Ihr Abonnement Priority support "
        "vollständig erstatten. Soll ich die Erstattung von 15,00\xa0€ veranlassen?"
    )
    assert partial["message"] == (
        f"Ich kann 10,00\xa0€ Ihrer Zahlung über 79,00\xa0€ vom {plan_day} für Ihr Abonnement "
        "Pro erstatten. Soll ich die Erstattung von 10,00\xa0€ veranlassen?"
    )
    assert du_full.startswith(
        f"Ich kann deine Zahlung über 15,00\xa0€ vom {day} für dein Abonnement Priority support "
        "vollständig erstatten."
    )
    assert du_partial.startswith(
        f"Ich kann 10,00\xa0€ deiner Zahlung über 79,00\xa0€ vom {plan_day} für dein Abonnement "
        "Pro erstatten."
    )


def test_a_customer_with_one_subscription_hears_its_name_too(fin: AppClient) -> None:
    body = preview(fin)

    assert (body["charge"]["subscription_id"], body["charge"]["subscription_name"]) == (
        "sub_DemoHealthy",
        "Pro",
    )
    assert "for your Pro subscription in full." in body["message"]


def test_a_payment_for_no_subscription_says_nothing_about_one(
    fin: AppClient, stripe: Stripe
) -> None:
    # Schulz Logistik's latest payment is a label pack: a one-off invoice, no subscription.
    latest = stripe.latest_charge("cus_DemoLoyal")
    assert subscription_paid_by(stripe, latest) is None

    english = fin.fin("/fin/refunds/preview", {"stripe_id": "cus_DemoLoyal"}).json()
    german = fin.fin("/fin/refunds/preview", {"stripe_id": "cus_DemoLoyal", "locale": "de"}).json()

    assert english["eligible"] is True and english["charge"]["id"] == latest["id"]
    assert english["charge"]["subscription_id"] is None
    assert english["charge"]["subscription_name"] is None
    assert english["message"] == (
        f"I can refund your payment of €9.90 from {paid_on(latest)} in full. "
        "Shall I go ahead with the refund of €9.90?"
    )
    assert german["message"] == (
        f"Ich kann Ihre Zahlung über 9,90\xa0€ vom {paid_on(latest, 'de')} vollständig "
        "erstatten. Soll ich die Erstattung von 9,90\xa0€ veranlassen?"
    )


def test_a_refused_payment_still_names_its_subscription_even_a_cancelled_one(
    fin: AppClient, stripe: Stripe
) -> None:
    # Team Beta's subscription was cancelled months ago; its last payment is too old to refund.
    assert stripe.get("/v1/subscriptions/sub_DemoSharedB")["status"] == "canceled"

    body = preview(fin, "shared_b", stripe_id="cus_DemoSharedB")

    assert body["reason"] == "refund_charge_too_old"
    assert body["charge"]["subscription_id"] == "sub_DemoSharedB"
    assert body["charge"]["subscription_name"] == "Starter"


def test_an_email_alone_is_refused_before_any_subscription_is_looked_up(
    fin: AppClient, stripe: Stripe
) -> None:
    stripe.forget_requests()

    response = fin.fin("/fin/refunds/preview", {"email": CUSTOMERS["multi"]["email"]})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "verified_identity_required"
    assert "sub_" not in response.text and "Priority support" not in response.text
    assert stripe.requests() == []
