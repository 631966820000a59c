"""`billing-status` and `next-invoice` answer from Stripe, over HTTP against the sandbox: the
machine fields match what Stripe holds, and the message says it in the customer's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from billing.money import format_day
from tests.actions.conftest import Stripe, who
from tests.conftest import AppClient


def test_billing_status_reports_plan_status_next_payment_and_card(fin: AppClient) -> None:
    response = fin.fin("/fin/billing-status", who("healthy"))

    body = response.json()
    assert response.status_code == 200
    assert body["customer_id"] == "cus_DemoHealthy"
    assert body["plan"] == {
        "name": "Pro",
        "price": {"amount": 7900, "currency": "eur", "formatted": "€79.00"},
        "interval": "month",
        "interval_count": 1,
    }
    assert body["status"] == "active"
    assert body["payment_method"]["type"] == "card"
    assert body["payment_method"]["last4"] == "4242"
    # 79 € minus the 5 € credit balance.
    assert body["next_payment"]["amount"]["amount"] == 7400
    assert body["next_payment"]["date"].endswith("Z")
    assert body["balance"]["amount"] == -500
    assert body["open_invoices"] == []
    assert len(body["recent_payments"]) == 3
    assert body["message"] == (
        "You're on the Pro plan (€79.00 per month), and it is active. Your next payment of "
        "€74.00 is due on " + _day(body["next_payment"]["date"]) + " and will be charged to "
        "your Visa card ending in 4242."
    )


def test_billing_status_speaks_german_with_german_money(fin: AppClient) -> None:
    body = fin.fin("/fin/billing-status", who("healthy", locale="de-DE")).json()

    assert body["plan"]["price"]["formatted"] == "79,00\xa0€"
    assert body["message"].startswith(
        "Sie nutzen den Tarif Pro (79,00\xa0€ pro Monat); er ist aktiv."
    )
    assert "74,00\xa0€" in body["message"]
    assert "Ihre Visa-Karte mit der Endung 4242" in body["message"]


def test_the_default_language_comes_from_the_settings(start_app: Callable[..., AppClient]) -> None:
    app = start_app(customer_locale="de")

    body = app.fin("/fin/billing-status", who("healthy", locale="fr")).json()

    assert body["message"].startswith("Sie nutzen den Tarif Pro")


def test_billing_status_explains_a_failed_sepa_debit_with_the_bank_reason(fin: AppClient) -> None:
    body = fin.fin("/fin/billing-status", who("sepa", locale="de")).json()

    assert body["status"] == "past_due"
    [invoice] = body["open_invoices"]
    assert invoice["payment_failed"] is True
    assert invoice["amount_remaining"]["amount"] == 2900
    assert invoice["failure_reason"] == "Kontodeckung nicht ausreichend (AM04)"
    assert "eine Zahlung ist überfällig" in body["message"]
    assert (
        "weil die letzte Zahlung nicht durchging: Kontodeckung nicht ausreichend (AM04)"
        in (body["message"])
    )
    assert body["payment_method"]["type"] == "sepa_debit"


def test_an_open_invoices_page_link_goes_only_to_a_verified_contact(fin: AppClient) -> None:
    # Stripe's hosted invoice page opens without a login: like a PDF, not for an email alone.
    by_email = fin.fin("/fin/billing-status", {"email": who("sepa")["email"]}).json()
    verified = fin.fin("/fin/billing-status", who("sepa")).json()

    assert [i["hosted_invoice_url"] for i in by_email["open_invoices"]] == [None]
    [invoice] = verified["open_invoices"]
    assert invoice["hosted_invoice_url"].startswith("http")
    assert by_email["open_invoices"][0]["amount_remaining"] == invoice["amount_remaining"]


def test_billing_status_asks_a_trial_without_payment_method_to_add_one(fin: AppClient) -> None:
    body = fin.fin("/fin/billing-status", who("trial")).json()

    assert body["status"] == "trialing"
    assert body["payment_method"] is None
    assert "in a free trial until" in body["message"]
    assert "Please add a payment method before" in body["message"]


def test_a_shared_email_answers_for_the_customer_with_a_live_subscription(fin: AppClient) -> None:
    # Team Beta's user id is not in Stripe; the email matches Alpha (active) and Beta (canceled).
    body = fin.fin("/fin/billing-status", who("shared_b")).json()

    assert body["customer_id"] == "cus_DemoSharedA"


def test_an_unknown_contact_gets_a_friendly_404(fin: AppClient) -> None:
    response = fin.fin("/fin/billing-status", who("nobody", locale="de"))

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "customer_not_found",
        "message": "Ich konnte kein Kundenkonto für Sie finden. Unser Team sieht sich das gern an.",
    }


def test_the_contact_is_found_by_user_id_alone(fin: AppClient) -> None:
    body = fin.fin("/fin/billing-status", {"user_id": "usr_lena"}).json()

    assert body["customer_id"] == "cus_DemoVip"


def test_next_invoice_is_stripes_preview_with_amount_date_and_lines(
    fin: AppClient, stripe: Stripe
) -> None:
    preview = stripe.post(
        "/v1/invoices/create_preview",
        {"customer": "cus_DemoUsage", "subscription": "sub_DemoUsage"},
    )

    body = fin.fin("/fin/next-invoice", who("usage")).json()

    assert body["has_upcoming_invoice"] is True
    assert body["subscription_id"] == "sub_DemoUsage"
    assert body["amount_due"]["amount"] == preview["amount_due"]
    assert body["total"]["amount"] == preview["total"]
    assert {line["description"] for line in body["lines"]} == {
        line["description"] for line in preview["lines"]["data"]
    }
    amounts = [abs(line["amount"]["amount"]) for line in body["lines"]]
    assert amounts == sorted(amounts, reverse=True)
    assert body["message"] == (
        f"Your next invoice of {body['amount_due']['formatted']} is due on {_day(body['date'])}."
    )


def test_next_invoice_mentions_the_credit_balance_it_includes(fin: AppClient) -> None:
    body = fin.fin("/fin/next-invoice", who("healthy", locale="de")).json()

    assert (body["total"]["amount"], body["amount_due"]["amount"]) == (7900, 7400)
    assert body["message"].endswith("Darin ist ein Guthaben von 5,00\xa0€ bereits verrechnet.")


def test_next_invoice_of_a_subscription_ending_at_period_end_says_there_is_none(
    fin: AppClient, stripe: Stripe
) -> None:
    stripe.post("/v1/subscriptions/sub_DemoVip", {"cancel_at_period_end": "true"})

    body = fin.fin("/fin/next-invoice", who("vip")).json()

    assert body["has_upcoming_invoice"] is False
    assert body["amount_due"] is None and body["lines"] == []
    assert body["message"].startswith("There is no upcoming invoice: your subscription ends on")


@pytest.mark.slow
@pytest.mark.parametrize("status", [500, 503, 429])
@pytest.mark.parametrize("path", ["/fin/billing-status", "/fin/next-invoice"])
def test_stripe_failing_is_a_503_with_a_message_fin_can_relay(
    fin: AppClient, stripe: Stripe, path: str, status: int
) -> None:
    stripe.fault(status=status, count=100)

    response = fin.fin(path, who("healthy"))

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == {
        "code": "stripe_unavailable",
        "message": "Our billing system isn't responding right now. Please try again in a few "
        "minutes; nothing has been changed.",
    }


def test_stripe_timing_out_is_a_503_within_the_timeout(
    start_app: Callable[..., AppClient], stripe: Stripe
) -> None:
    app = start_app(stripe_timeout_seconds=0.5)
    stripe.fault(status="hang", delay_ms=3000, count=100)

    response = app.fin("/fin/next-invoice", who("healthy"))

    assert response.status_code == 503
    assert response.elapsed.total_seconds() < 2.5
    assert response.json()["error"]["code"] == "stripe_unavailable"


def _day(iso: str) -> str:
    return format_day(datetime.fromisoformat(iso.replace("Z", "+00:00")), "en")


@pytest.mark.slow
def test_a_hanging_stripe_is_answered_with_a_503_before_fin_gives_up(
    start_app: Callable[..., AppClient], stripe_sandbox
) -> None:
    import time

    app = start_app(stripe_timeout_seconds=30)  # only the endpoint's own budget can end this
    stripe_sandbox.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/", "status": "hang", "delay_ms": 15000, "count": 50},
    )
    started = time.monotonic()
    response = app.fin("/fin/next-invoice", who("healthy"))
    elapsed = time.monotonic() - started
    stripe_sandbox.control("DELETE", "/_sandbox/faults")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stripe_unavailable"
    assert response.headers["Retry-After"]
    assert elapsed < 14
