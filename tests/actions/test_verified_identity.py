"""Fin moves money only for a verified contact: the request carries `user_id` or `stripe_id`
and that is what matched the customer. Fin fills `email` from the contact, and a lead's email
is whatever the visitor typed — so an email alone may read billing, never refund."""

from __future__ import annotations

from actions.messages import say
from tests.actions.conftest import Stripe, who
from tests.conftest import AppClient

ANNA = "anna@example.com"


def test_a_refund_preview_with_only_an_email_is_refused_before_stripe_is_asked(
    fin: AppClient, stripe: Stripe
) -> None:
    stripe.forget_requests()

    response = fin.fin("/fin/refunds/preview", {"email": ANNA, "amount": 2500})

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "verified_identity_required"
    assert error["message"] == say("codes/verified_identity_required", "en")
    assert "log in to your account" in error["message"]
    assert "confirmation_token" not in response.text
    assert stripe.requests() == []


def test_executing_a_refund_with_only_an_email_moves_no_money(
    fin: AppClient, stripe: Stripe
) -> None:
    # A genuine token, previewed for Anna as the signed-in user she is.
    previewed = fin.fin("/fin/refunds/preview", who("healthy", amount=2500)).json()
    token = previewed["confirmation_token"]
    charge = previewed["charge"]["id"]
    stripe.forget_requests()

    response = fin.fin("/fin/refunds", {"email": ANNA, "confirmation_token": token})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "verified_identity_required"
    assert stripe.refund_posts() == []
    assert stripe.refunds(charge) == []
    # Nothing was spent: the token still refunds once for Anna herself.
    done = fin.fin("/fin/refunds", who("healthy", confirmation_token=token))
    assert done.status_code == 200, done.text
    assert [r["amount"] for r in stripe.refunds(charge)] == [2500]


def test_a_user_id_that_matches_nobody_does_not_fall_back_to_the_email(
    fin: AppClient, stripe: Stripe
) -> None:
    response = fin.fin("/fin/refunds/preview", {"email": ANNA, "user_id": "usr_somebody_else"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "verified_identity_required"
    assert not [r for r in stripe.requests() if r["path"].startswith("/v1/charges")]
    assert stripe.refund_posts() == []


def test_the_refusal_speaks_german(fin: AppClient) -> None:
    response = fin.fin("/fin/refunds/preview", {"email": ANNA, "locale": "de-DE"})

    assert response.status_code == 403
    message = response.json()["error"]["message"]
    assert message == say("codes/verified_identity_required", "de")
    assert message.startswith("Das kann ich nur für ein angemeldetes Konto erledigen")


def test_a_user_id_or_a_stripe_id_may_refund(fin: AppClient) -> None:
    by_user_id = fin.fin("/fin/refunds/preview", {"user_id": "usr_anna", "amount": 100})
    by_stripe_id = fin.fin("/fin/refunds/preview", {"stripe_id": "cus_DemoHealthy", "amount": 100})

    for response in (by_user_id, by_stripe_id):
        assert response.status_code == 200, response.text
        assert response.json()["eligible"] is True
        assert response.json()["customer_id"] == "cus_DemoHealthy"


def test_reads_by_email_alone_still_answer(fin: AppClient) -> None:
    status = fin.fin("/fin/billing-status", {"email": ANNA})
    upcoming = fin.fin("/fin/next-invoice", {"email": ANNA})
    quote = fin.fin("/fin/upgrade-quote", {"email": ANNA, "target_plan": "Business"})

    for response in (status, upcoming, quote):
        assert response.status_code == 200, response.text
        assert response.json()["customer_id"] == "cus_DemoHealthy"


def test_money_sees_a_customer_created_since_the_contact_was_last_resolved(
    fin: AppClient, stripe: Stripe
) -> None:
    # Fin read Anna's billing a moment ago: her match (by user id) is remembered ...
    assert fin.fin("/fin/billing-status", who("healthy")).status_code == 200
    # ... then a second Stripe customer is given her user id (a duplicate signup).
    stripe.post("/v1/customers", {"email": "anna@example.org", "metadata[user_id]": "usr_anna"})

    response = fin.fin("/fin/refunds/preview", who("healthy", amount=2500))

    # A refund resolves afresh: two customers match, so no money moves and no token is made.
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "ambiguous_customer"
    assert "confirmation_token" not in response.text
