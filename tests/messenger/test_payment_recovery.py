"""The payment-recovery card: the failed invoice and its reason in plain words, Retry (SEPA stays
"processing" for days; never twice), and what happens when Stripe fails mid-flow."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from billing.failed_invoices import load_invoice
from billing.retry import retry_invoice
from gateways.stripe import StripeGateway
from storage import Database
from storage.actions import ActionStore, Actor
from tests.conftest import SECRET_KEY, STRIPE_KEY
from tests.messenger.driver import Messenger, button, button_ids, components, visible


def pay_calls(messenger: Messenger) -> list[dict]:
    return messenger.stripe_posts("/pay")


def latest_charge(messenger: Messenger, invoice_id: str) -> str:
    """The charge of the invoice's latest payment attempt (a new one per attempt)."""
    invoice = messenger.stripe_get(
        f"/v1/invoices/{invoice_id}?expand[]=payments.data.payment.payment_intent"
    )
    return invoice["payments"]["data"][0]["payment"]["payment_intent"]["latest_charge"]


def test_the_card_names_the_failed_invoice_and_the_sepa_reason(messenger: Messenger):
    body = messenger.initialize("sepa", "payment_recovery")
    text = visible(body)
    invoice = messenger.open_invoice("cus_DemoSepa")
    assert "**Your payment of €29.00 didn't go through**" in text
    assert f"Invoice {invoice['number']} from" in text
    assert "Your bank returned the direct debit (code AM04): insufficient funds." in text
    assert button(body, "retry_payment")["label"] == "Retry payment"
    pay_by_card = button(body, "pay_by_card")
    assert pay_by_card["label"] == "Pay by card instead"
    assert pay_by_card["action"]["type"] == "url"
    assert pay_by_card["action"]["url"].startswith(f"{messenger.app.settings.public_url}/l/")


def test_the_card_in_german(messenger: Messenger):
    text = visible(messenger.initialize("sepa", "payment_recovery", locale="de"))
    assert "**Ihre Zahlung über 29,00 € ist nicht durchgegangen**" in text
    assert (
        "Ihre Bank hat die Lastschrift zurückgegeben (Code AM04): "
        "Kontodeckung nicht ausreichend." in text
    )
    assert "[Zahlung erneut versuchen]" in text and "[Stattdessen per Karte zahlen]" in text


def test_nothing_failed_means_all_settled(messenger: Messenger):
    body = messenger.initialize("healthy", "payment_recovery")
    assert visible(body).startswith("**All settled**")
    assert button_ids(body) == []


def test_retry_on_sepa_debits_once_and_shows_processing(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    invoice = messenger.open_invoice("cus_DemoSepa")
    returned_debit = latest_charge(messenger, invoice["id"])
    messenger.forget_stripe_requests()

    after = messenger.press("sepa", card, "retry_payment")

    assert "**Your payment of €29.00 is processing**" in visible(after)
    assert "SEPA direct debits take a few business days" in visible(after)
    assert "retry_payment" not in button_ids(after)
    calls = pay_calls(messenger)
    assert [c["idempotency_key"] for c in calls] == [f"retry:{invoice['id']}:{returned_debit}"]
    # Like Stripe, a manual retry is a new charge but not a new attempt in `attempt_count`.
    assert messenger.open_invoice("cus_DemoSepa")["attempt_count"] == 1
    assert latest_charge(messenger, invoice["id"]) != returned_debit
    rows = [r for r in messenger.audit("cus_DemoSepa") if r["action"] == "invoice_retry"]
    assert [(r["actor_type"], r["actor_id"], r["outcome"], r["amount"]) for r in rows] == [
        ("customer", "contact_sepa", "succeeded", 2900)
    ]


def test_processing_in_german(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery", locale="de")
    after = messenger.press("sepa", card, "retry_payment", locale="de")
    assert "in Bearbeitung" in visible(after)


def test_a_second_retry_while_the_debit_is_processing_is_refused(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    messenger.press("sepa", card, "retry_payment")
    # The same button pressed again on the old card (a double click, a second tab).
    again = messenger.press("sepa", card, "retry_payment")
    assert "is processing" in visible(again)
    assert len(pay_calls(messenger)) == 1
    # And the live canvas says so on every view, for days.
    assert "is processing" in visible(messenger.content("sepa", card["canvas"]))


def test_two_simultaneous_retries_reach_stripe_once(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    messenger.forget_stripe_requests()
    # Stripe answers slowly, so both clicks are in flight together.
    messenger.stripe.control("POST", "/_sandbox/latency", {"ms": 150})
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: messenger.press("sepa", card, "retry_payment"), range(2)))
    assert all("is processing" in visible(a) for a in answers), [visible(a) for a in answers]
    assert len(pay_calls(messenger)) == 1
    assert messenger.open_invoice("cus_DemoSepa")["attempt_count"] == 1


def test_stripe_failing_mid_flow_charges_nothing_and_a_later_retry_succeeds_once(
    messenger: Messenger,
):
    card = messenger.initialize("sepa", "payment_recovery")
    messenger.stripe.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/invoices", "method": "POST", "status": 500, "count": 1},
    )
    failed = messenger.press("sepa", card, "retry_payment")
    text = visible(failed)
    assert "**We couldn't reach the payment provider**" in text
    assert "Nothing was charged. Please try again in a moment." in text
    assert messenger.open_invoice("cus_DemoSepa")["attempt_count"] == 1

    retried = messenger.press("sepa", failed, "retry_payment")  # "Try again"
    assert "is processing" in visible(retried)
    again = messenger.press("sepa", card, "retry_payment")
    assert "is processing" in visible(again)

    calls = pay_calls(messenger)
    assert [c["status"] for c in calls] == [500, 200]
    outcomes = [
        (r["outcome"], r["error_code"])
        for r in messenger.audit("cus_DemoSepa")
        if r["action"] == "invoice_retry"
    ]
    assert outcomes == [("failed", "stripe_unavailable"), ("succeeded", None)]


def test_a_debit_returned_again_can_be_retried_only_after_the_cool_down(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    messenger.press("sepa", card, "retry_payment")
    messenger.stripe.control("POST", "/_sandbox/sepa/settle")  # the bank returns it again
    messenger.app.services.billing.clear()

    returned = messenger.content("sepa", card["canvas"])
    assert "didn't go through" in visible(returned)
    refused = messenger.press("sepa", card, "retry_payment")
    assert "We tried this payment a moment ago. You can retry after" in visible(refused)
    assert "pay_by_card" in button_ids(refused)
    assert len(pay_calls(messenger)) == 1


def test_without_a_cool_down_the_next_attempt_gets_its_own_key(start_messenger):
    messenger = start_messenger(retry_cooldown_minutes=0)
    card = messenger.initialize("sepa", "payment_recovery")
    invoice_id = messenger.open_invoice("cus_DemoSepa")["id"]
    first = latest_charge(messenger, invoice_id)
    messenger.press("sepa", card, "retry_payment")
    second = latest_charge(messenger, invoice_id)
    messenger.stripe.control("POST", "/_sandbox/sepa/settle")
    messenger.press("sepa", card, "retry_payment")
    keys = [c["idempotency_key"] for c in pay_calls(messenger)]
    assert keys == [f"retry:{invoice_id}:{first}", f"retry:{invoice_id}:{second}"]


@pytest.mark.slow
def test_a_debit_returned_again_can_be_retried_again_once_per_click(start_messenger):
    # Stripe doesn't count manual retries in `attempt_count`, so a key built on it would be
    # spent after the first retry and every later one would answer "already in progress".
    messenger = start_messenger(retry_cooldown_minutes=0)
    card = messenger.initialize("sepa", "payment_recovery")
    assert "is processing" in visible(messenger.press("sepa", card, "retry_payment"))
    messenger.stripe.control("POST", "/_sandbox/sepa/settle")  # IBAN …2227: returned again
    returned = messenger.content("sepa", card["canvas"])
    assert "Your bank returned the direct debit (code AM04)" in visible(returned)
    messenger.forget_stripe_requests()

    # The second retry, double-clicked while Stripe answers slowly.
    messenger.stripe.control("POST", "/_sandbox/latency", {"ms": 150})
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: messenger.press("sepa", card, "retry_payment"), range(2)))
    assert all("is processing" in visible(a) for a in answers), [visible(a) for a in answers]
    assert len(pay_calls(messenger)) == 1
    # And once more after it is returned again: still one debit per retry.
    messenger.stripe.control("POST", "/_sandbox/sepa/settle")
    messenger.press("sepa", card, "retry_payment")
    messenger.press("sepa", card, "retry_payment")
    assert len(pay_calls(messenger)) == 2
    rows = [r for r in messenger.audit("cus_DemoSepa") if r["action"] == "invoice_retry"]
    assert [r["outcome"] for r in rows] == ["succeeded"] * 3


def test_a_declined_card_is_paid_by_retry(messenger: Messenger):
    # Anna's renewal failed on her card; the retry goes through.
    messenger.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})
    card = messenger.initialize("healthy", "payment_recovery")
    assert "Your card was declined: insufficient funds." in visible(card)
    paid = messenger.press("healthy", card, "retry_payment")
    assert visible(paid).startswith("**Paid, thank you!**")
    assert "Your payment of €74.00 went through." in visible(paid)  # after her 5 € credit
    invoices = messenger.stripe_get("/v1/invoices?customer=cus_DemoHealthy&status=open")["data"]
    assert invoices == []


def test_an_ambiguous_contact_cannot_retry(messenger: Messenger):
    messenger.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoSharedA"})
    card = messenger.initialize("shared_b", "payment_recovery")
    assert "**Please contact support**" in visible(card)
    # Even a crafted submit of the button does nothing.
    messenger.forget_stripe_requests()
    body = messenger.submit("shared_b", "retry_payment", card["canvas"])
    assert "**Please contact support**" in visible(body)
    assert pay_calls(messenger) == []


async def test_after_stripe_was_unreachable_the_key_is_reused_briefly_then_renewed(
    stripe_sandbox, tmp_path
):
    # Stripe replays a saved 500 for the same key; the sandbox forgets it. Either way: inside
    # the replay window the same key (the first request may still be running), after it a new
    # generation (the re-read invoice shows nothing happened).
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'keys.sqlite3'}")
    await db.start()
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe_sandbox.url, max_network_retries=0)
    try:
        invoice_id = (await gateway.list_invoices("cus_DemoSepa", status="open"))[0].id
        charge = (await load_invoice(gateway, invoice_id)).latest_charge_id
        stripe_sandbox.control(
            "POST",
            "/_sandbox/faults",
            {"path_prefix": f"/v1/invoices/{invoice_id}/pay", "status": 500, "count": 2},
        )
        start = datetime.now(UTC)

        async def retry(after: timedelta) -> str:
            result = await retry_invoice(
                gateway,
                ActionStore(db),
                invoice_id=invoice_id,
                customer_id="cus_DemoSepa",
                actor=Actor("customer", "contact_sepa"),
                cooldown=timedelta(minutes=60),
                now=start + after,
            )
            return result.kind

        assert await retry(timedelta(0)) == "unavailable"
        assert await retry(timedelta(seconds=10)) == "unavailable"
        assert await retry(timedelta(minutes=2)) == "processing"
    finally:
        await gateway.close()
        await db.stop()
    pays = [
        r
        for r in stripe_sandbox.control("GET", "/_sandbox/requests")["requests"]
        if r["path"].endswith("/pay")
    ]
    key = f"retry:{invoice_id}:{charge}"
    assert [(p["idempotency_key"], p["status"]) for p in pays] == [
        (key, 500),
        (key, 500),
        (f"{key}:r2", 200),
    ]


# --- Retry pays the invoice its card showed, and nothing else ---
def shown_seal(customer: str, invoice: str, amount: int, currency: str = "eur") -> str:
    return URLSafeTimedSerializer(SECRET_KEY, salt="recovery-card").dumps(
        [customer, invoice, amount, currency]
    )


def with_shown(card: dict, seal: str | None) -> dict:
    """The card as Intercom would send it back, naming `seal` as what it shows."""
    canvas = copy.deepcopy(card["canvas"])
    for component in canvas["content"]["components"]:
        if component.get("id", "").startswith("shown:"):
            if seal is None:
                del component["id"]
            else:
                component["id"] = f"shown:{seal}"
    canvas["stored_data"].pop("shown", None)
    return canvas


def test_retry_on_an_old_card_does_not_pay_an_invoice_it_never_showed(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    shown = messenger.open_invoice("cus_DemoSepa")
    # Meanwhile the next renewal fails too.
    newer = messenger.stripe.control(
        "POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoSepa"}
    )
    messenger.app.services.billing.clear()
    messenger.forget_stripe_requests()

    answer = messenger.press("sepa", card, "retry_payment")

    assert pay_calls(messenger) == []
    text = visible(answer)
    assert "This payment changed since the card was shown, so nothing was charged." in text
    assert f"Invoice {newer['number']} from" in text
    assert "retry_payment" in button_ids(answer)
    # The answer now shows the newer invoice; retrying from it pays that one, once.
    paid = messenger.press("sepa", answer, "retry_payment")
    assert "is processing" in visible(paid)
    assert [c["path"] for c in pay_calls(messenger)] == [f"/v1/invoices/{newer['id']}/pay"]
    assert shown["id"] != newer["id"]


def test_retry_with_another_amount_than_shown_pays_nothing(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    invoice = messenger.open_invoice("cus_DemoSepa")
    messenger.forget_stripe_requests()
    canvas = with_shown(card, shown_seal("cus_DemoSepa", invoice["id"], 1000))
    answer = messenger.submit("sepa", "retry_payment", canvas)
    assert "This payment changed since the card was shown" in visible(answer)
    assert "**Your payment of €29.00 didn't go through**" in visible(answer)
    assert pay_calls(messenger) == []


def test_retry_from_a_card_that_names_no_invoice_or_a_forged_one_pays_nothing(
    messenger: Messenger,
):
    card = messenger.initialize("sepa", "payment_recovery")
    invoice = messenger.open_invoice("cus_DemoSepa")
    messenger.forget_stripe_requests()
    forged = URLSafeTimedSerializer("not-our-key", salt="recovery-card").dumps(
        ["cus_DemoSepa", invoice["id"], 2900, "eur"]
    )
    for seal in (None, forged):
        answer = messenger.submit("sepa", "retry_payment", with_shown(card, seal))
        assert "This payment changed since the card was shown" in visible(answer)
    assert pay_calls(messenger) == []
    # A card that showed the invoice (here: in stored_data, as a submit answer keeps it) pays.
    sealed = shown_seal("cus_DemoSepa", invoice["id"], 2900)
    canvas = with_shown(card, None)
    canvas["stored_data"]["shown"] = sealed
    assert "is processing" in visible(messenger.submit("sepa", "retry_payment", canvas))
    assert len(pay_calls(messenger)) == 1


def test_the_card_keeps_what_it_shows_signed_in_stored_data(messenger: Messenger):
    card = messenger.initialize("sepa", "payment_recovery")
    invoice = messenger.open_invoice("cus_DemoSepa")
    header = components(card)[0]
    sealed = header["id"].removeprefix("shown:")
    assert URLSafeTimedSerializer(SECRET_KEY, salt="recovery-card").loads(sealed) == [
        "cus_DemoSepa",
        invoice["id"],
        2900,
        "eur",
    ]
    refreshed = messenger.submit("sepa", "refresh", card["canvas"])
    # Re-sealed on each render (the seal carries its time), with the same content.
    kept = refreshed["canvas"]["stored_data"]["shown"]
    assert URLSafeTimedSerializer(SECRET_KEY, salt="recovery-card").loads(kept) == [
        "cus_DemoSepa",
        invoice["id"],
        2900,
        "eur",
    ]


def test_a_double_click_on_a_card_retry_never_calls_the_paid_invoice_processing(
    messenger: Messenger,
):
    messenger.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})
    card = messenger.initialize("healthy", "payment_recovery")
    messenger.forget_stripe_requests()
    # Stripe answers slowly, so both clicks are in flight together.
    messenger.stripe.control("POST", "/_sandbox/latency", {"ms": 150})
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(lambda _: messenger.press("healthy", card, "retry_payment"), range(2))
        )
    texts = sorted(visible(a) for a in answers)
    assert len(pay_calls(messenger)) == 1
    assert messenger.stripe_get("/v1/invoices?customer=cus_DemoHealthy&status=open")["data"] == []
    assert not any("processing" in text for text in texts), texts
    assert texts[0].startswith("**All settled**")  # the click that found it paid
    assert texts[1].startswith("**Paid, thank you!**")  # the click that paid
