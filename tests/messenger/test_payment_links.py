""" "Pay by card instead" through the signed link: the link → Stripe's hosted page (the sandbox's
Checkout or Billing Portal form) → back to `/done`, where the card becomes the customer's and the
subscription's default and pays the open invoice, once. Tampered and expired links never reach
Stripe."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass

import httpx
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.conftest import SECRET_KEY
from tests.http import HTTP
from tests.messenger.driver import Messenger, button

VISA = "4242424242424242"
DECLINING_VISA = "4000000000009995"  # saved fine, declines when charged (insufficient funds)
RADAR_BLOCKED_VISA = "4100000000000019"  # saved fine, Radar blocks its payments


@dataclass
class Visit:
    link: str
    done_url: str
    page: httpx.Response


def pay_by_card(messenger: Messenger, card_number: str = VISA, *, locale: str = "en") -> Visit:
    """The customer presses "Pay by card instead", fills the hosted form and comes back."""
    card = messenger.initialize("sepa", "payment_recovery", locale=locale)
    link = button(card, "pay_by_card")["action"]["url"]
    return complete(link, card_number)


def complete(link: str, card_number: str = VISA) -> Visit:
    to_stripe = HTTP.get(link)
    assert to_stripe.status_code == 303, to_stripe.text
    hosted = to_stripe.headers["location"]
    assert HTTP.get(hosted).status_code == 200  # the sandbox's hosted page renders
    back = HTTP.post(hosted, data={"card": card_number, "exp_month": "12", "exp_year": "2031"})
    assert back.status_code == 303, back.text
    done_url = back.headers["location"]
    return Visit(link, done_url, HTTP.get(done_url))


def shown(response: httpx.Response) -> str:
    """The page's HTML as a browser shows its characters (entities decoded)."""
    return html.unescape(response.text)


def backdated_link(messenger: Messenger, hours: int, **payload: object) -> str:
    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - hours * 3600

    serializer = URLSafeTimedSerializer(SECRET_KEY, salt="payment-link", signer=Backdated)
    return f"{messenger.app.settings.public_url}/l/{serializer.dumps(payload)}"


def test_pay_by_card_pays_the_invoice_and_makes_the_card_the_default(messenger: Messenger):
    invoice = messenger.open_invoice("cus_DemoSepa")
    visit = pay_by_card(messenger)

    assert visit.page.status_code == 200
    assert "Thank you, your payment went through" in shown(visit.page)
    assert f"We charged €29.00 to your card •••• 4242 for invoice {invoice['number']}" in shown(
        visit.page
    )
    assert visit.page.headers["cache-control"] == "no-store"

    paid = messenger.stripe_get(f"/v1/invoices/{invoice['id']}")
    assert paid["status"] == "paid"
    customer = messenger.stripe_get("/v1/customers/cus_DemoSepa")
    new_card = customer["invoice_settings"]["default_payment_method"]
    assert new_card != "pm_DemoSepaDebit"
    assert messenger.stripe_get(f"/v1/payment_methods/{new_card}")["type"] == "card"
    subscription = messenger.stripe_get("/v1/subscriptions/sub_DemoSepa")
    assert subscription["default_payment_method"] == new_card
    assert subscription["status"] == "active"
    session_id = visit.done_url.split("session_id=")[1]
    pays = messenger.stripe_posts("/pay")
    assert [p["idempotency_key"] for p in pays] == [f"recover:{invoice['id']}:{session_id}"]


def test_checkout_is_created_in_setup_mode_for_cards_in_the_invoice_currency(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    response = HTTP.get(button(card, "pay_by_card")["action"]["url"])
    session_id = response.headers["location"].rsplit("/", 1)[1]
    session = messenger.stripe_get(f"/v1/checkout/sessions/{session_id}")
    assert session["mode"] == "setup"
    assert session["customer"] == "cus_DemoSepa"
    assert session["currency"] == "eur"
    assert session["payment_method_types"] == ["card"]
    link = button(card, "pay_by_card")["action"]["url"]
    assert session["success_url"] == f"{link}/done?session_id={{CHECKOUT_SESSION_ID}}"
    assert session["cancel_url"] == f"{link}/cancel"


def test_reloading_the_done_page_pays_nothing_twice(messenger: Messenger):
    visit = pay_by_card(messenger)
    again = HTTP.get(visit.done_url)
    assert again.status_code == 200
    assert "This invoice is already paid" in shown(again)
    assert len(messenger.stripe_posts("/pay")) == 1


def test_a_declined_card_is_saved_and_the_customer_can_use_another(messenger: Messenger):
    invoice = messenger.open_invoice("cus_DemoSepa")
    visit = pay_by_card(messenger, DECLINING_VISA)
    assert "Your card was saved, but the payment was declined" in shown(visit.page)
    assert "Reason: insufficient funds. Nothing was charged." in shown(visit.page)
    assert messenger.stripe_get(f"/v1/invoices/{invoice['id']}")["status"] == "open"
    # Reloading repeats nothing.
    HTTP.get(visit.done_url)
    assert len(messenger.stripe_posts("/pay")) == 1
    # "Use another card" is the same link: a new Checkout session, a new attempt.
    assert f'href="{visit.link}"' in shown(visit.page)
    second = complete(visit.link, VISA)
    assert "Thank you, your payment went through" in shown(second.page)
    assert messenger.stripe_get(f"/v1/invoices/{invoice['id']}")["status"] == "paid"
    assert len(messenger.stripe_posts("/pay")) == 2


def test_the_pages_speak_the_customers_language(messenger: Messenger):
    visit = pay_by_card(messenger, locale="de")
    assert '<html lang="de">' in shown(visit.page)
    assert "Danke, Ihre Zahlung ist eingegangen" in shown(visit.page)
    assert "Wir haben 29,00" in shown(visit.page)


def test_a_tampered_link_gets_a_friendly_page_and_no_stripe_call(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    messenger.forget_stripe_requests()
    for tampered in (
        link[:-3] + "AAA",
        link + "x",
        f"{messenger.app.settings.public_url}/l/nonsense",
    ):
        for path in ("", "/done?session_id=cs_test_x", "/cancel"):
            page = HTTP.get(tampered + path)
            assert page.status_code == 400
            assert "This link isn't valid" in shown(page)
    assert messenger.stripe_requests() == []


def test_a_link_signed_for_another_customer_cannot_be_forged(messenger: Messenger):
    # Swapping the customer inside the token breaks the signature.
    forged = URLSafeTimedSerializer("someone-elses-secret-key", salt="payment-link").dumps(
        {"customer": "cus_DemoVip", "invoice": None, "kind": "trial", "locale": "en"}
    )
    page = HTTP.get(f"{messenger.app.settings.public_url}/l/{forged}")
    assert page.status_code == 400
    assert messenger.stripe_requests() == []


def test_an_expired_link_gets_a_friendly_page_in_its_language_and_no_stripe_call(
    messenger: Messenger,
):
    invoice = messenger.open_invoice("cus_DemoSepa")
    messenger.forget_stripe_requests()
    link = backdated_link(
        messenger, 73, customer="cus_DemoSepa", invoice=invoice["id"], kind="recover", locale="de"
    )
    for path in ("", "/done?session_id=cs_test_x"):
        page = HTTP.get(link + path)
        assert page.status_code == 410
        assert "Dieser Link ist abgelaufen" in shown(page)
        assert "Zahlungslinks 72 Stunden" in shown(page)
    assert messenger.stripe_requests() == []


def test_a_link_within_its_lifetime_still_works(messenger: Messenger):
    invoice = messenger.open_invoice("cus_DemoSepa")
    link = backdated_link(
        messenger, 71, customer="cus_DemoSepa", invoice=invoice["id"], kind="recover", locale="en"
    )
    assert "Thank you" in complete(link).page.text


def test_cancelling_on_the_hosted_page_changes_nothing(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    messenger.forget_stripe_requests()
    page = HTTP.get(f"{link}/cancel")
    assert page.status_code == 200 and "Nothing was changed" in shown(page)
    assert f'href="{link}"' in shown(page)
    assert messenger.stripe_requests() == []


def test_coming_back_without_finishing_the_form_saves_and_pays_nothing(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    session_id = HTTP.get(link).headers["location"].rsplit("/", 1)[1]
    page = HTTP.get(f"{link}/done?session_id={session_id}")
    assert "Your card wasn't saved yet" in shown(page)
    assert messenger.stripe_posts("/pay") == []
    assert (
        messenger.stripe_get("/v1/customers/cus_DemoSepa")["invoice_settings"][
            "default_payment_method"
        ]
        == "pm_DemoSepaDebit"
    )


def test_someone_elses_checkout_session_is_refused(messenger: Messenger):
    # Anna's completed session pasted into Müller's link: nothing happens to either.
    anna = messenger.stripe_post(
        "/v1/checkout/sessions",
        {
            "mode": "setup",
            "customer": "cus_DemoHealthy",
            "currency": "eur",
            "success_url": "https://example.com/ok",
        },
    )
    HTTP.post(anna["url"], data={"card": VISA, "exp_month": "12", "exp_year": "2031"})
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    page = HTTP.get(f"{link}/done?session_id={anna['id']}")
    assert page.status_code == 404
    assert messenger.stripe_posts("/pay") == []


def test_a_link_for_an_invoice_already_paid_sends_nobody_to_stripe(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    invoice = messenger.open_invoice("cus_DemoSepa")
    messenger.stripe_post(f"/v1/invoices/{invoice['id']}/pay", {"paid_out_of_band": "true"})
    page = HTTP.get(link)
    assert page.status_code == 200 and "This invoice is already paid" in shown(page)
    assert messenger.stripe_posts("/v1/checkout/sessions") == []


def test_stripe_failing_on_the_way_back_charges_nothing_and_a_reload_pays_once(
    messenger: Messenger,
):
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    hosted = HTTP.get(link).headers["location"]
    done_url = HTTP.post(
        hosted, data={"card": VISA, "exp_month": "12", "exp_year": "2031"}
    ).headers["location"]
    invoice = messenger.open_invoice("cus_DemoSepa")
    messenger.stripe.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": f"/v1/invoices/{invoice['id']}/pay", "method": "POST", "status": 500},
    )
    page = HTTP.get(done_url)
    assert page.status_code == 503
    assert "Nothing was charged. Please reload this page in a moment." in shown(page)
    assert messenger.stripe_get(f"/v1/invoices/{invoice['id']}")["status"] == "open"

    reloaded = HTTP.get(done_url)
    assert "Thank you, your payment went through" in shown(reloaded)
    assert [p["status"] for p in messenger.stripe_posts("/pay")] == [500, 200]


def test_the_billing_portal_flow_asks_before_it_pays(start_messenger):
    messenger = start_messenger(payment_method_flow="portal")
    invoice = messenger.open_invoice("cus_DemoSepa")
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    portal = HTTP.get(link).headers["location"]
    assert "/portal/" in portal
    session = [r for r in messenger.stripe_posts("/v1/billing_portal/sessions")]
    assert len(session) == 1
    back = HTTP.post(portal, data={"card": VISA, "exp_month": "12", "exp_year": "2031"})
    assert back.headers["location"] == f"{link}/done"

    # Back from the portal, a GET only asks: "Pay €29.00 with Visa •••• 4242".
    page = HTTP.get(back.headers["location"])
    assert page.status_code == 200
    assert "Confirm your payment" in shown(page)
    assert "Pay €29.00 with Visa •••• 4242" in shown(page)
    assert f'<form method="post" action="{link}/done">' in shown(page)
    assert messenger.stripe_posts("/pay") == []
    new_card = messenger.stripe_get("/v1/customers/cus_DemoSepa")["invoice_settings"][
        "default_payment_method"
    ]
    form = re.search(r'name="payment_method" value="([^"]+)"', page.text)
    assert form and form.group(1) == new_card

    paid = HTTP.post(f"{link}/done", data={"payment_method": new_card})
    assert "Thank you, your payment went through" in shown(paid)
    assert messenger.stripe_get(f"/v1/invoices/{invoice['id']}")["status"] == "paid"
    assert (
        messenger.stripe_get("/v1/subscriptions/sub_DemoSepa")["default_payment_method"] == new_card
    )
    again = HTTP.post(f"{link}/done", data={"payment_method": new_card})
    assert "This invoice is already paid" in shown(again)
    assert len(messenger.stripe_posts("/pay")) == 1


def test_the_confirmation_speaks_german(start_messenger):
    messenger = start_messenger(payment_method_flow="portal")
    card = messenger.initialize("sepa", "payment_recovery", locale="de")
    link = button(card, "pay_by_card")["action"]["url"]
    portal = HTTP.get(link).headers["location"]
    HTTP.post(portal, data={"card": VISA, "exp_month": "12", "exp_year": "2031"})
    page = HTTP.get(f"{link}/done")
    assert "Zahlung bestätigen" in shown(page)
    assert "29,00 € mit Visa •••• 4242 zahlen" in shown(page).replace("\xa0", " ")


def give_default_card(messenger: Messenger, customer: str, number: str = VISA) -> str:
    """A card the customer saved some other time, made their default (not through our link)."""
    session = messenger.stripe_post(
        "/v1/checkout/sessions",
        {"mode": "setup", "customer": customer, "currency": "eur", "success_url": "https://x"},
    )
    HTTP.post(session["url"], data={"card": number, "exp_month": "12", "exp_year": "2031"})
    done = messenger.stripe_get(f"/v1/checkout/sessions/{session['id']}?expand[]=setup_intent")
    pm = done["setup_intent"]["payment_method"]
    messenger.stripe_post(
        f"/v1/customers/{customer}", {"invoice_settings[default_payment_method]": pm}
    )
    return pm


def test_done_without_a_checkout_session_charges_nothing(messenger: Messenger):
    # Müller has a card as default already; the open invoice failed on SEPA.
    give_default_card(messenger, "cus_DemoSepa")
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    invoice = messenger.open_invoice("cus_DemoSepa")
    messenger.forget_stripe_requests()
    for path in ("/done", "/done?session_id="):
        page = HTTP.get(f"{link}{path}")
        assert page.status_code == 400
        assert "Your card wasn't saved yet" in shown(page)
        assert "Nothing was charged" in shown(page)
    assert messenger.stripe_requests() == []
    assert messenger.stripe_get(f"/v1/invoices/{invoice['id']}")["status"] == "open"


def test_a_checkout_session_started_for_something_else_pays_nothing(messenger: Messenger):
    # Müller's own completed session, but not one this link started (no link metadata).
    session = messenger.stripe_post(
        "/v1/checkout/sessions",
        {
            "mode": "setup",
            "customer": "cus_DemoSepa",
            "currency": "eur",
            "success_url": "https://x",
        },
    )
    HTTP.post(session["url"], data={"card": VISA, "exp_month": "12", "exp_year": "2031"})
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    page = HTTP.get(f"{link}/done?session_id={session['id']}")
    assert page.status_code == 404
    assert messenger.stripe_posts("/pay") == []


def test_portal_done_without_a_new_card_charges_nothing(start_messenger):
    messenger = start_messenger(payment_method_flow="portal")
    old_card = give_default_card(messenger, "cus_DemoSepa")  # before the link was made
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    invoice = messenger.open_invoice("cus_DemoSepa")
    messenger.forget_stripe_requests()
    page = HTTP.get(f"{link}/done")
    assert "Your card wasn't saved yet" in shown(page)
    posted = HTTP.post(f"{link}/done", data={"payment_method": old_card})
    assert "Your card wasn't saved yet" in shown(posted)
    assert messenger.stripe_posts() == []
    assert messenger.stripe_get(f"/v1/invoices/{invoice['id']}")["status"] == "open"


def test_portal_link_made_before_a_card_was_added_elsewhere_asks_first(start_messenger):
    # A link made when the SEPA mandate was the default; a card added later (not through the
    # link) may pay only after the customer confirms it on the page.
    messenger = start_messenger(payment_method_flow="portal")
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    later = give_default_card(messenger, "cus_DemoSepa")
    page = HTTP.get(f"{link}/done")
    assert "Pay €29.00 with Visa •••• 4242" in shown(page)
    wrong = HTTP.post(f"{link}/done", data={"payment_method": "pm_someone_else"})
    assert "Your card wasn't saved yet" in shown(wrong)
    assert messenger.stripe_posts("/pay") == []
    paid = HTTP.post(f"{link}/done", data={"payment_method": later})
    assert "Thank you, your payment went through" in shown(paid)
    assert len(messenger.stripe_posts("/pay")) == 1


def test_a_portal_link_is_bound_to_the_default_of_its_time(start_messenger):
    messenger = start_messenger(payment_method_flow="portal")
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    token = link.rsplit("/", 1)[1]
    payload = URLSafeTimedSerializer(SECRET_KEY, salt="payment-link").loads(token)
    assert payload["payment_method"] == "pm_DemoSepaDebit"


def test_stripe_refusing_the_hosted_page_gets_a_friendly_page(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]
    messenger.stripe.control(
        "POST", "/_sandbox/faults", {"path_prefix": "/v1/checkout/sessions", "status": 400}
    )
    page = HTTP.get(link)
    assert page.status_code == 424  # Stripe refused: not a 5xx (issue 9)
    assert "Something went wrong on our side" in shown(page)
    assert "Nothing was charged." in shown(page)


def test_a_card_radar_blocks_reads_as_a_plain_decline_not_radars_verdict(messenger: Messenger):
    # Radar blocks Visa 0019: `decline_code` fraudulent, `outcome.reason` highest_risk_level.
    visit = pay_by_card(messenger, RADAR_BLOCKED_VISA)
    text = shown(visit.page)
    assert "Your card was saved, but the payment was declined" in text
    assert "Reason: generic decline. Nothing was charged." in text
    assert "risk" not in text and "fraud" not in text


def hosted_page(link: str) -> str:
    response = HTTP.get(link)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_hitting_the_link_again_reuses_its_open_checkout_session(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]

    first, second, third = hosted_page(link), hosted_page(link), hosted_page(link)

    assert first == second == third
    assert len(messenger.stripe_posts("/v1/checkout/sessions")) == 1
    # Once Stripe no longer offers that session (expired), the next hit opens a new one.
    session_id = first.rsplit("/", 1)[1]
    messenger.stripe_post(f"/v1/checkout/sessions/{session_id}/expire", {})
    fresh = hosted_page(link)
    assert fresh != first
    assert messenger.stripe_get(f"/v1/checkout/sessions/{fresh.rsplit('/', 1)[1]}")["status"] == (
        "open"
    )
    assert len(messenger.stripe_posts("/v1/checkout/sessions")) == 2


def test_hitting_a_portal_link_again_reuses_its_fresh_portal_session(start_messenger):
    messenger = start_messenger(payment_method_flow="portal")
    card = messenger.initialize("sepa", "payment_recovery")
    link = button(card, "pay_by_card")["action"]["url"]

    assert hosted_page(link) == hosted_page(link)
    assert len(messenger.stripe_posts("/v1/billing_portal/sessions")) == 1


def test_a_link_opens_a_bounded_number_of_sessions(start_messenger):
    messenger = start_messenger(link_max_sessions=2)
    card = messenger.initialize("sepa", "payment_recovery", locale="de")
    link = button(card, "pay_by_card")["action"]["url"]
    for _ in range(2):
        session_id = hosted_page(link).rsplit("/", 1)[1]
        messenger.stripe_post(f"/v1/checkout/sessions/{session_id}/expire", {})
    messenger.forget_stripe_requests()

    refused = HTTP.get(link)

    assert refused.status_code == 429
    assert "Dieser Link wurde zu oft geöffnet" in shown(refused)
    assert messenger.stripe_posts("/v1/checkout/sessions") == []
