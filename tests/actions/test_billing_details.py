"""`/fin/billing-details`: "please put our VAT ID on the invoice" — the tax ids and billing
country on file, and a personal link into the Billing Portal where the customer changes their
address and tax ids (nothing else). The link edits the customer, so it needs a verified
contact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.actions.conftest import Stripe
from tests.billing_portal import MULTI, enabled_features, open_portal
from tests.conftest import AppClient, Sandbox

KLARA = {"user_id": "usr_klara"}


def test_the_tax_id_country_and_a_link_to_update_them(fin: AppClient) -> None:
    before = datetime.now(UTC)

    body = fin.fin("/fin/billing-details", KLARA).json()

    assert body["customer_id"] == MULTI
    assert body["tax_ids"] == [
        {
            "type": "eu_vat",
            "value": "DE123456789",
            "country": "DE",
            "verification_status": "verified",
        }
    ]
    assert body["address_country"] == "DE"
    assert body["url"].startswith(f"{fin.settings.public_url}/l/")
    expires = datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(hours=72) <= expires <= datetime.now(UTC) + timedelta(hours=72)
    assert body["message"] == (
        "Your tax ID on file is DE123456789 (verified). Your billing address is in Germany. "
        "You can update your billing address and tax ID here (the link works for 72 hours): "
        f"{body['url']}"
    )


def test_german_formal_and_informal(fin: AppClient, start_app: Callable[..., AppClient]) -> None:
    formal = fin.fin("/fin/billing-details", {**KLARA, "locale": "de"}).json()["message"]
    informal = (
        start_app(german_address="du")
        .fin("/fin/billing-details", {**KLARA, "locale": "de"})
        .json()["message"]
    )

    assert formal.startswith(
        "Bei uns ist Ihre Steuer-ID DE123456789 hinterlegt (bestätigt). Ihre Rechnungsadresse "
        "liegt in: Deutschland. Hier können Sie Ihre Rechnungsadresse und Steuer-ID ändern"
    )
    assert informal.startswith("Bei uns ist deine Steuer-ID DE123456789 hinterlegt (bestätigt).")
    assert "Hier kannst du deine Rechnungsadresse" in informal


def test_a_customer_without_tax_id_is_told_so(fin: AppClient) -> None:
    body = fin.fin("/fin/billing-details", {"user_id": "usr_anna"}).json()

    assert body["tax_ids"] == [] and body["address_country"] is None
    assert body["message"].startswith("There is no tax ID on your account yet. You can update")


def test_the_link_opens_a_portal_for_address_and_tax_ids_only(
    fin: AppClient, stripe_sandbox: Sandbox
) -> None:
    url = fin.fin("/fin/billing-details", KLARA).json()["url"]
    # PUBLIC_URL is the default here: the same path on the app's real address.
    visit = open_portal(url.replace(fin.settings.public_url, fin.url), stripe_sandbox)

    assert visit.session["customer"] == MULTI
    assert visit.session["flow"]["type"] == "customer_update"
    features = enabled_features(visit.configuration)
    assert list(features) == ["customer_update"]
    assert sorted(features["customer_update"]["allowed_updates"]) == ["address", "tax_id"]
    assert "DE123456789" in visit.page.text


def test_an_email_alone_gets_no_link(fin: AppClient, stripe: Stripe) -> None:
    stripe.forget_requests()

    response = fin.fin("/fin/billing-details", {"email": "klara@weber-design.example"})

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "verified_identity_required"
    assert "/l/" not in response.text
    assert stripe.requests() == []  # refused before Stripe was asked anything


def test_a_user_id_of_nobody_does_not_fall_back_to_the_email(fin: AppClient) -> None:
    response = fin.fin(
        "/fin/billing-details", {"email": "klara@weber-design.example", "user_id": "usr_x"}
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "verified_identity_required"
