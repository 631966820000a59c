"""`/fin/invoices`: "Could you send me a copy of my last invoice?" answered from Stripe — the
finalized invoices, newest first, with the hosted page and the PDF (both reachable), one by its
number, and a message in the customer's language; `subscription_id` lists one subscription's
only, named by its plan. Invoice links are personal: an email alone lists the invoices without
them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator

from actions.messages import say
from billing.money import format_day
from sandbox.stripe_api import billing as sandbox_billing
from tests.actions.conftest import Stripe, who
from tests.conftest import AppClient, Sandbox
from tests.http import HTTP

ANNA = "cus_DemoHealthy"


def stripe_invoices(stripe: Stripe, customer: str = ANNA) -> list[dict[str, Any]]:
    """What Stripe holds, newest first: the test's second pair of eyes."""
    return stripe.get("/v1/invoices", customer=customer, limit=100)["data"]


def day(timestamp: int, locale: str = "en") -> str:
    return format_day(datetime.fromtimestamp(timestamp, UTC), locale)


def add_draft(sandbox: Sandbox, customer: str, subscription: str) -> dict[str, Any]:
    """A renewal's draft, as Stripe keeps one for about an hour before finalizing it."""
    state = sandbox.state
    sub = state.objects[subscription]
    item = sub["items"]["data"][0]
    now = state.now()
    line = sandbox_billing.cycle_line(
        state, subscription, item["id"], state.objects[item["price"]], 1, now, now + 86400 * 30
    )
    return sandbox_billing.create_invoice(
        state,
        state.objects[customer],
        sub,
        [line],
        "subscription_cycle",
        (now, now),
        at=now + 60,
        finalize=False,
    )


def test_the_last_invoice_comes_with_its_pdf_link_and_a_sentence_to_say(
    fin: AppClient, stripe: Stripe
) -> None:
    latest = stripe_invoices(stripe)[0]

    body = fin.fin("/fin/invoices", who("healthy", limit=1)).json()

    [invoice] = body["invoices"]
    assert invoice["number"] == latest["number"]
    assert invoice["id"] == latest["id"]
    assert invoice["status"] == "paid"
    assert invoice["currency"] == "eur"
    assert invoice["amount_due"] == {"amount": 7900, "currency": "eur", "formatted": "€79.00"}
    assert invoice["amount_paid"]["amount"] == latest["amount_paid"]
    assert invoice["created"] == datetime.fromtimestamp(latest["created"], UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert invoice["subscription_id"] == "sub_DemoHealthy"
    assert invoice["hosted_invoice_url"] == latest["hosted_invoice_url"]
    assert invoice["invoice_pdf"] == latest["invoice_pdf"]
    assert body["links_included"] is True
    assert body["message"] == (
        f"Your invoice {latest['number']} of {day(latest['created'])} for €79.00 — "
        f"PDF: {latest['invoice_pdf']}"
    )


def test_the_links_lead_to_the_invoice_page_and_a_pdf(fin: AppClient) -> None:
    [invoice] = fin.fin("/fin/invoices", who("healthy", limit=1)).json()["invoices"]

    page = HTTP.get(invoice["hosted_invoice_url"])
    pdf = HTTP.get(invoice["invoice_pdf"])

    assert page.status_code == 200 and invoice["number"] in page.text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_german_formal_and_informal(
    fin: AppClient, start_app: Callable[..., AppClient], stripe: Stripe
) -> None:
    latest = stripe_invoices(stripe)[0]
    expected = (
        f"Rechnung {latest['number']} vom {day(latest['created'], 'de')} über 79,00\xa0€ — "
        f"PDF: {latest['invoice_pdf']}"
    )

    formal = fin.fin("/fin/invoices", who("healthy", limit=1, locale="de")).json()
    informal = start_app(german_address="du").fin(
        "/fin/invoices", who("healthy", limit=1, locale="de")
    )

    assert formal["message"] == f"Ihre {expected}"
    assert informal.json()["message"] == f"Deine {expected}"
    assert formal["invoices"][0]["total"]["formatted"] == "79,00\xa0€"


def test_several_invoices_newest_first_as_a_short_list(fin: AppClient, stripe: Stripe) -> None:
    newest = stripe_invoices(stripe)[:3]

    body = fin.fin("/fin/invoices", who("healthy", limit=3)).json()

    assert [i["number"] for i in body["invoices"]] == [i["number"] for i in newest]
    message = body["message"]
    assert message.startswith("Your latest 3 invoices: ")
    for invoice in newest:
        entry = f"{invoice['number']} of {day(invoice['created'])}, €79.00, paid"
        assert f"{entry} (PDF: {invoice['invoice_pdf']})" in message


def test_without_a_limit_the_latest_five(fin: AppClient, stripe: Stripe) -> None:
    body = fin.fin("/fin/invoices", who("healthy")).json()

    assert [i["id"] for i in body["invoices"]] == [i["id"] for i in stripe_invoices(stripe)[:5]]


def test_drafts_are_never_shown_and_a_void_invoice_is_shown_as_void(
    fin: AppClient, stripe: Stripe, stripe_sandbox: Sandbox
) -> None:
    finalized = stripe_invoices(stripe)
    stripe_sandbox.state.objects[finalized[0]["id"]]["status"] = "void"  # voided in the dashboard
    draft = add_draft(stripe_sandbox, ANNA, "sub_DemoHealthy")
    assert stripe_invoices(stripe)[0]["id"] == draft["id"]  # Stripe lists the draft first

    body = fin.fin("/fin/invoices", who("healthy", limit=2)).json()

    assert [i["id"] for i in body["invoices"]] == [i["id"] for i in finalized[:2]]
    assert [i["status"] for i in body["invoices"]] == ["void", "paid"]
    assert (
        f"{finalized[0]['number']} of {day(finalized[0]['created'])}, €79.00, void"
        in (body["message"])
    )


def test_one_invoice_by_its_number_whatever_the_case(fin: AppClient, stripe: Stripe) -> None:
    older = stripe_invoices(stripe)[3]

    body = fin.fin("/fin/invoices", who("healthy", number=f" {older['number'].lower()} ")).json()

    assert [i["id"] for i in body["invoices"]] == [older["id"]]
    assert body["message"] == (
        f"Your invoice {older['number']} of {day(older['created'])} for €79.00 — "
        f"PDF: {older['invoice_pdf']}"
    )


def test_an_unknown_number_is_a_404_with_a_message(fin: AppClient) -> None:
    response = fin.fin("/fin/invoices", who("healthy", number="ANNABECK-9999", locale="de"))

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "invoice_not_found"
    assert error["message"].startswith("Ich konnte in Ihrem Konto keine Rechnung")


def test_another_customers_number_is_not_found(fin: AppClient, stripe: Stripe) -> None:
    theirs = stripe_invoices(stripe, "cus_DemoSepa")[0]["number"]

    response = fin.fin("/fin/invoices", who("healthy", number=theirs))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "invoice_not_found"


# --- trust: invoice links only for a verified contact ---
def test_an_email_alone_lists_the_invoices_without_links(fin: AppClient, stripe: Stripe) -> None:
    latest = stripe_invoices(stripe)[0]

    body = fin.fin("/fin/invoices", {"email": "anna@example.com", "limit": 1}).json()

    [invoice] = body["invoices"]
    assert invoice["number"] == latest["number"]
    assert invoice["hosted_invoice_url"] is None and invoice["invoice_pdf"] is None
    assert body["links_included"] is False
    assert "http" not in body["message"]
    assert body["message"] == (
        f"Your invoice {latest['number']} of {day(latest['created'])} is for €79.00. "
        "I can only send links to your invoices to a signed-in account: please log in and ask "
        "me again, or a member of our team will send you a copy."
    )


def test_a_user_id_that_matches_nobody_does_not_unlock_links_by_email(fin: AppClient) -> None:
    body = fin.fin(
        "/fin/invoices", {"email": "anna@example.com", "user_id": "usr_someone_else"}
    ).json()

    assert body["customer_id"] == ANNA
    assert body["links_included"] is False
    assert all(i["invoice_pdf"] is None for i in body["invoices"])


@pytest.mark.parametrize(
    "identity",
    [
        {"user_id": "usr_anna"},
        {"stripe_id": ANNA},
        {"email": "anna@example.com", "user_id": "usr_anna"},
    ],
)
def test_a_verified_contact_gets_the_links(fin: AppClient, identity: dict[str, str]) -> None:
    body = fin.fin("/fin/invoices", {**identity, "limit": 2}).json()

    assert body["links_included"] is True
    assert all(i["invoice_pdf"] and i["hosted_invoice_url"] for i in body["invoices"])


def test_a_customer_without_invoices_is_told_so(fin: AppClient, stripe: Stripe) -> None:
    stripe.post("/v1/customers", {"email": "new@example.com", "metadata[user_id]": "usr_new"})

    body = fin.fin("/fin/invoices", {"user_id": "usr_new", "locale": "de"}).json()

    assert body["invoices"] == []
    assert body["message"] == "In Ihrem Konto gibt es noch keine Rechnungen."


def test_nobody_found_is_a_404(fin: AppClient) -> None:
    response = fin.fin("/fin/invoices", who("nobody"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"


@pytest.mark.parametrize("fields", [{"limit": 11}, {"limit": 0}, {"limit": "five"}, {"number": 7}])
def test_bad_fields_are_a_422(fin: AppClient, fields: dict[str, Any]) -> None:
    response = fin.fin("/fin/invoices", who("healthy", **fields))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_blank_fields_from_intercom_mean_not_given(fin: AppClient) -> None:
    response = fin.fin("/fin/invoices", who("healthy", number="", limit=""))

    assert response.status_code == 200
    assert len(response.json()["invoices"]) == 5


def test_the_answers_match_the_openapi_document(fin: AppClient) -> None:
    document = fin.http.get("/fin/openapi.json").json()
    operation = document["paths"]["/fin/invoices"]["post"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    validator = OAS31Validator({**schema, "components": document["components"]})

    for body in (who("healthy"), {"email": "anna@example.com"}, who("healthy", number="x")):
        response = fin.fin("/fin/invoices", body)
        if response.status_code == 200:
            assert list(validator.iter_errors(response.json())) == []
        else:
            assert response.status_code == 404
    assert "send me my last invoice" in operation["description"]
    assert "invoice_not_found" in operation["responses"]["404"]["description"]


# --- one subscription's invoices (`subscription_id`) ---
KLARA = "cus_DemoMulti"
ADDON = "sub_DemoMultiAddon"


def subscription_invoices(stripe: Stripe, subscription: str) -> list[dict[str, Any]]:
    """Stripe's own `subscription` filter, newest first."""
    return stripe.get("/v1/invoices", customer=KLARA, subscription=subscription, limit=100)["data"]


def test_the_invoices_of_one_subscription_only_named_by_its_plan(
    fin: AppClient, stripe: Stripe
) -> None:
    addon = subscription_invoices(stripe, ADDON)
    everything = stripe_invoices(stripe, KLARA)
    assert 0 < len(addon) < len(everything)

    body = fin.fin("/fin/invoices", who("multi", subscription_id=ADDON)).json()

    assert [i["id"] for i in body["invoices"]] == [i["id"] for i in addon]
    assert {i["subscription_id"] for i in body["invoices"]} == {ADDON}
    assert (body["subscription_id"], body["subscription_name"]) == (ADDON, "Priority support")
    entries = [
        f"{i['number']} of {day(i['created'])}, €15.00, paid (PDF: {i['invoice_pdf']})"
        for i in addon
    ]
    assert body["message"] == (
        f"Your latest {len(addon)} invoices for Priority support: " + "; ".join(entries)
    )


def test_one_subscriptions_invoices_in_formal_and_informal_german(
    fin: AppClient, start_app: Callable[..., AppClient], stripe: Stripe
) -> None:
    addon = subscription_invoices(stripe, ADDON)
    latest = addon[0]
    fields = {"subscription_id": ADDON, "locale": "de"}

    several = fin.fin("/fin/invoices", who("multi", **fields)).json()
    one = fin.fin("/fin/invoices", who("multi", limit=1, **fields)).json()
    informal = start_app(german_address="du")
    du_several = informal.fin("/fin/invoices", who("multi", **fields)).json()
    du_one = informal.fin("/fin/invoices", who("multi", limit=1, **fields)).json()

    assert several["message"].startswith(
        f"Ihre letzten {len(addon)} Rechnungen für Priority support: {latest['number']} vom "
        f"{day(latest['created'], 'de')} über 15,00\xa0€, bezahlt"
    )
    expected = (
        f"Rechnung {latest['number']} für Priority support vom {day(latest['created'], 'de')} "
        f"über 15,00\xa0€ — PDF: {latest['invoice_pdf']}"
    )
    assert one["message"] == f"Ihre {expected}"
    assert du_several["message"].startswith(
        f"Deine letzten {len(addon)} Rechnungen für Priority support: "
    )
    assert du_one["message"] == f"Deine {expected}"


def test_a_number_is_looked_for_among_that_subscriptions_invoices(
    fin: AppClient, stripe: Stripe
) -> None:
    theirs = subscription_invoices(stripe, ADDON)[-1]
    plans = subscription_invoices(stripe, "sub_DemoMultiPlan")[0]

    found = fin.fin(
        "/fin/invoices", who("multi", number=theirs["number"], subscription_id=ADDON)
    ).json()
    other = fin.fin("/fin/invoices", who("multi", number=plans["number"], subscription_id=ADDON))

    assert [i["id"] for i in found["invoices"]] == [theirs["id"]]
    assert found["message"].startswith(
        f"Your Priority support invoice {theirs['number']} of {day(theirs['created'])} for "
        "€15.00 — PDF: "
    )
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "invoice_not_found"


@pytest.mark.parametrize(
    "subscription", ["sub_DemoHealthy", "sub_DoesNotExist"], ids=["another customers", "unknown"]
)
def test_a_subscription_not_the_customers_is_a_404(
    fin: AppClient, stripe: Stripe, subscription: str
) -> None:
    listed = fin.fin("/fin/invoices", who("multi", subscription_id=subscription))
    numbered = fin.fin(
        "/fin/invoices",
        who("multi", subscription_id=subscription, number=stripe_invoices(stripe)[0]["number"]),
    )
    german = fin.fin("/fin/invoices", who("multi", subscription_id=subscription, locale="de"))

    for response in (listed, numbered, german):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "subscription_not_found"
        assert "ANNABECK" not in response.text  # nothing of Anna's invoices leaks
    assert german.json()["error"]["message"] != listed.json()["error"]["message"]


def test_a_cancelled_subscriptions_invoices_are_still_listed(
    fin: AppClient, stripe: Stripe
) -> None:
    # Team Beta cancelled months ago; its invoices stay theirs to download.
    beta = {"stripe_id": "cus_DemoSharedB", "subscription_id": "sub_DemoSharedB", "limit": 2}
    listed = stripe.get(
        "/v1/invoices", customer="cus_DemoSharedB", subscription="sub_DemoSharedB", limit=2
    )["data"]

    body = fin.fin("/fin/invoices", beta).json()

    assert [i["id"] for i in body["invoices"]] == [i["id"] for i in listed]
    assert body["subscription_name"] == "Starter"
    assert body["message"].startswith("Your latest 2 invoices for Starter: ")


def test_an_email_alone_lists_one_subscriptions_invoices_without_links(
    fin: AppClient, stripe: Stripe
) -> None:
    latest = subscription_invoices(stripe, ADDON)[0]
    email = {"email": "klara@weber-design.example", "subscription_id": ADDON, "limit": 1}

    body = fin.fin("/fin/invoices", email).json()

    assert [i["id"] for i in body["invoices"]] == [latest["id"]]
    assert body["links_included"] is False
    assert body["invoices"][0]["invoice_pdf"] is None
    assert body["message"] == (
        f"Your Priority support invoice {latest['number']} of {day(latest['created'])} is for "
        "€15.00. I can only send links to your invoices to a signed-in account: please log in "
        "and ask me again, or a member of our team will send you a copy."
    )


def test_a_subscription_without_invoices_is_said_so() -> None:
    assert say("invoices", "en", invoices=[], links=True, subscription="Pro") == (
        "There are no invoices for your Pro subscription yet."
    )
    assert say("invoices", "de", invoices=[], links=True, subscription="Pro") == (
        "Für Ihr Abonnement Pro gibt es noch keine Rechnungen."
    )
    assert say("invoices", "de@informal", invoices=[], links=True, subscription="Pro") == (
        "Für dein Abonnement Pro gibt es noch keine Rechnungen."
    )


@pytest.mark.parametrize("subscription", ["cus_DemoMulti", "../sub_DemoMultiAddon", 7])
def test_a_malformed_subscription_id_is_a_422(fin: AppClient, subscription: object) -> None:
    response = fin.fin("/fin/invoices", who("multi", subscription_id=subscription))

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "subscription_id"


def test_a_blank_subscription_id_lists_every_invoice(fin: AppClient, stripe: Stripe) -> None:
    body = fin.fin("/fin/invoices", who("multi", subscription_id="")).json()

    assert [i["id"] for i in body["invoices"]] == [
        i["id"] for i in stripe_invoices(stripe, KLARA)[:5]
    ]
    assert body["subscription_id"] is None and body["subscription_name"] is None
