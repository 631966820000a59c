"""The billing-status card (what a customer may see of their own billing) and the trial card
(days left; with a payment method "you're all set", without one a signed link to add it)."""

from __future__ import annotations

import html

from tests.http import HTTP
from tests.messenger.driver import Messenger, button, button_ids, visible


def test_billing_status_shows_plan_next_payment_and_payment_method(messenger: Messenger):
    text = visible(messenger.initialize("healthy", "billing_status"))
    assert "**Pro** · €79.00 / month" in text
    assert "Status: Active" in text
    assert "Next payment: €74.00 on " in text  # 79 € less Anna's 5 € credit, per Stripe's preview
    assert "Payment method: Visa •••• 4242 (12/2028)" in text
    assert "Nothing needs your attention." in text


def test_billing_status_keeps_internal_flags_internal(messenger: Messenger):
    text = visible(messenger.initialize("vip", "billing_status"))
    assert "Lifetime" not in text and "VIP" not in text and "cus_DemoVip" not in text


def test_billing_status_names_what_needs_action_and_leads_to_the_fix(messenger: Messenger):
    card = messenger.initialize("sepa", "billing_status")
    text = visible(card)
    assert "Status: Past due" in text
    assert "⚠ Your payment of €29.00 didn't go through: insufficient funds." in text
    assert button(card, "show:payment_recovery")["label"] == "Fix payment"

    recovery = messenger.press("sepa", card, "show:payment_recovery")
    assert "Your bank returned the direct debit (code AM04)" in visible(recovery)
    assert "retry_payment" in button_ids(recovery)
    stored = recovery["canvas"]["stored_data"]
    assert stored["card"] == "payment_recovery"
    assert set(stored) == {"card", "shown"}  # and, signed, the invoice the card shows


def test_billing_status_of_a_trial_without_payment_method_links_to_add_one(messenger: Messenger):
    card = messenger.initialize("trial", "billing_status")
    assert "and there is no payment method on file." in visible(card)
    link = button(card, "add_payment_method")["action"]
    assert link["type"] == "url" and "/l/" in link["url"]


def test_the_trial_card_counts_the_days_and_offers_to_add_a_payment_method(messenger: Messenger):
    card = messenger.initialize("trial", "trial")
    text = visible(card)
    assert text.startswith("**2 days left in your trial**")
    assert "Your Pro trial ends on " in text
    assert "Add a payment method now so your account keeps running without interruption." in text
    assert button(card, "add_payment_method")["label"] == "Add a payment method"


def test_the_trial_card_in_german(messenger: Messenger):
    text = visible(messenger.initialize("trial", "trial", locale="de"))
    assert "**Noch 2 Tage in Ihrer Testphase**" in text
    assert "[Zahlungsmethode hinzufügen]" in text


def test_adding_a_card_through_the_trial_link_sets_it_up_for_the_end_of_the_trial(
    messenger: Messenger,
):
    card = messenger.initialize("trial", "trial")
    link = button(card, "add_payment_method")["action"]["url"]
    hosted = HTTP.get(link).headers["location"]
    session = messenger.stripe_get(f"/v1/checkout/sessions/{hosted.rsplit('/', 1)[1]}")
    assert session["mode"] == "setup" and session["currency"] == "eur"
    back = HTTP.post(
        hosted, data={"card": "4242424242424242", "exp_month": "1", "exp_year": "2031"}
    )
    page = HTTP.get(back.headers["location"])
    assert "You're all set" in html.unescape(page.text)
    assert "Your card •••• 4242 is saved" in html.unescape(page.text)

    customer = messenger.stripe_get("/v1/customers/cus_DemoTrial")
    new_card = customer["invoice_settings"]["default_payment_method"]
    assert new_card is not None
    assert (
        messenger.stripe_get("/v1/subscriptions/sub_DemoTrial")["default_payment_method"]
        == new_card
    )
    assert messenger.stripe_posts("/pay") == []  # nothing is charged before the trial ends

    # The same card, viewed again: all set.
    again = visible(messenger.content("trial", card["canvas"]))
    assert "You're all set: €79.00 will be charged to Visa •••• 4242 (01/2031) on " in again
    assert "add_payment_method" not in again


def test_the_trial_card_for_a_paying_customer(messenger: Messenger):
    body = messenger.initialize("healthy", "trial")
    assert "You're not on a trial." in visible(body)
    assert button_ids(body) == []
