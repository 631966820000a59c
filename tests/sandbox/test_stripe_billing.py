"""Refund rules, proration previews vs. updates, invoice payment by card and SEPA."""

from __future__ import annotations

from typing import cast

import pytest
import stripe

from .conftest import Sandbox, is_proration


async def _latest_charge(client: stripe.StripeClient, customer: str) -> stripe.Charge:
    return (await client.v1.charges.list_async({"customer": customer, "limit": 1})).data[0]


async def test_refund_rules(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    ch = await _latest_charge(client, "cus_DemoHealthy")
    assert ch.status == "succeeded" and ch.amount == 7900
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.refunds.create_async({"charge": ch.id, "amount": 8000})
    assert ei.value.code == "amount_too_large"
    assert "(€80.00) is greater than unrefunded amount on charge (€79.00)" in str(ei.value)
    part = await client.v1.refunds.create_async(
        {"charge": ch.id, "amount": 900, "reason": "requested_by_customer"}
    )
    assert part.amount == 900 and part.status == "succeeded"
    assert isinstance(ch.payment_intent, str)
    rest = await client.v1.refunds.create_async({"payment_intent": ch.payment_intent})
    assert rest.amount == 7000
    ch = await client.v1.charges.retrieve_async(ch.id)
    assert ch.refunded and ch.amount_refunded == 7900
    assert ch.refunds is not None
    assert [r.amount for r in ch.refunds.data] == [7000, 900]
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.refunds.create_async({"charge": ch.id, "amount": 1})
    assert ei.value.code == "charge_already_refunded"
    assert str(ei.value.user_message) == f"Charge {ch.id} has already been refunded."
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.refunds.create_async({"charge": "ch_missing"})
    assert ei.value.code == "resource_missing" and ei.value.param == "charge"
    types = [e.type for e in (await client.v1.events.list_async({"limit": 5})).data]
    assert types[:2] == ["charge.refunded", "refund.created"]


async def test_refund_disputed_and_failed(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    failed = await _latest_charge(client, "cus_DemoSepa")
    assert failed.status == "failed" and failed.failure_code == "insufficient_funds"
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.refunds.create_async({"charge": failed.id})
    assert ei.value.code == "charge_not_refundable"
    ch = await _latest_charge(client, "cus_DemoVip")
    sandbox.state.objects[ch.id]["disputed"] = True
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.refunds.create_async({"charge": ch.id})
    assert ei.value.code == "charge_disputed"


async def test_vip_lifetime_value(client: stripe.StripeClient) -> None:
    charges = await client.v1.charges.list_async({"customer": "cus_DemoVip"})
    net = sum(
        c.amount_captured - c.amount_refunded for c in charges.data if c.status == "succeeded"
    )
    assert net == 57700


def _prorations(inv: stripe.Invoice) -> list[tuple[str, int]]:
    """(description, amount) of the invoice's proration lines; every one has a description."""
    prorations: list[tuple[str, int]] = []
    for li in inv.lines.data:
        if is_proration(li):
            assert li.description is not None
            prorations.append((li.description, li.amount))
    return prorations


def _price_id(li: stripe.InvoiceLineItem) -> str:
    """The ID of the (unexpanded) price an invoice line is for."""
    assert li.pricing is not None and li.pricing.price_details is not None
    price = li.pricing.price_details.price
    assert isinstance(price, str)
    return price


async def test_preview_matches_update_always_invoice(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoHealthy")
    item = sub["items"].data[0]
    start, end = item.current_period_start, item.current_period_end
    pdate = start + (end - start) // 3
    details: stripe.params.InvoiceCreatePreviewParamsSubscriptionDetails = {
        "items": [{"id": item.id, "price": "price_BusinessMonthly"}],
        "proration_date": pdate,
        "proration_behavior": "always_invoice",
    }
    preview = await client.v1.invoices.create_preview_async(
        {"customer": "cus_DemoHealthy", "subscription": sub.id, "subscription_details": details}
    )
    assert preview.id.startswith("upcoming_in_")
    remaining, length = end - pdate, end - start
    credit = -round(7900 * remaining / length)
    debit = round(19900 * remaining / length)
    pr = _prorations(preview)
    assert [a for _, a in pr] == [credit, debit]
    assert pr[0][0].startswith("Unused time on Pro after ")
    assert pr[1][0].startswith("Remaining time on Business after ")
    assert preview.starting_balance == -500
    assert preview.amount_due == credit + debit - 500
    updated = await client.v1.subscriptions.update_async(
        sub.id,
        {
            "items": [{"id": item.id, "price": "price_BusinessMonthly"}],
            "proration_date": pdate,
            "proration_behavior": "always_invoice",
        },
    )
    assert updated["items"].data[0].price.id == "price_BusinessMonthly"
    assert isinstance(updated.latest_invoice, str)
    inv = await client.v1.invoices.retrieve_async(updated.latest_invoice, {"expand": ["payments"]})
    assert _prorations(inv) == pr
    assert inv.status == "paid" and inv.amount_paid == preview.amount_due
    assert inv.billing_reason == "subscription_update"
    assert inv.parent is not None and inv.parent.subscription_details is not None
    assert inv.parent.subscription_details.subscription == sub.id
    assert inv.payments is not None
    assert inv.payments.data[0].status == "paid"
    cus = await client.v1.customers.retrieve_async("cus_DemoHealthy")
    assert cus.balance == 0


async def test_preview_create_prorations_then_next_invoice(client: stripe.StripeClient) -> None:
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoSharedA")
    item = sub["items"].data[0]
    pdate = item.current_period_start + 86400
    customer = sub.customer
    assert isinstance(customer, str)
    params: stripe.params.InvoiceCreatePreviewParams = {
        "customer": customer,
        "subscription": sub.id,
        "subscription_details": {
            "items": [{"id": item.id, "price": "price_ProMonthly"}],
            "proration_date": pdate,
        },
    }
    preview = await client.v1.invoices.create_preview_async(params)
    pr = _prorations(preview)
    assert len(pr) == 2
    cycle = [li for li in preview.lines.data if not is_proration(li)]
    assert [li.amount for li in cycle] == [7900]
    assert cycle[0].period.start == item.current_period_end
    assert preview.amount_due == sum(a for _, a in pr) + 7900
    await client.v1.subscriptions.update_async(
        sub.id, {"items": [{"id": item.id, "price": "price_ProMonthly"}], "proration_date": pdate}
    )
    nxt = await client.v1.invoices.create_preview_async(
        {"customer": customer, "subscription": sub.id}
    )
    assert _prorations(nxt) == pr
    assert nxt.amount_due == preview.amount_due


async def test_preview_interval_change_resets_anchor(client: stripe.StripeClient) -> None:
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoVip")
    item = sub["items"].data[0]
    pdate = item.current_period_start + 86400 * 10
    preview = await client.v1.invoices.create_preview_async(
        {
            "customer": "cus_DemoVip",
            "subscription": sub.id,
            "subscription_details": {
                "items": [{"id": item.id, "price": "price_BusinessYearly"}],
                "proration_date": pdate,
                "billing_cycle_anchor": {"type": "now"},
            },
        }
    )
    lines = preview.lines.data
    assert [is_proration(li) for li in lines] == [True, False]
    assert lines[1].amount == 199000 and lines[1].period.start == pdate
    assert preview.amount_due == 199000 + lines[0].amount
    updated = await client.v1.subscriptions.update_async(
        sub.id,
        {"items": [{"id": item.id, "price": "price_BusinessYearly"}], "proration_date": pdate},
    )
    new_item = updated["items"].data[0]
    assert new_item.current_period_start == pdate and updated.billing_cycle_anchor == pdate
    assert new_item.current_period_end - pdate >= 365 * 86400
    assert isinstance(updated.latest_invoice, str)
    inv = await client.v1.invoices.retrieve_async(updated.latest_invoice)
    assert inv.status == "paid" and inv.amount_paid == preview.amount_due


async def test_preview_validation(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.invoices.create_preview_async(
            {
                "customer": "cus_DemoVip",
                "subscription": "sub_DemoVip",
                "subscription_details": {
                    "items": [{"id": "si_DemoVip1", "price": "price_ProMonthly"}],
                    "proration_date": 1000,
                },
            }
        )
    assert "proration_date" in (ei.value.param or "")
    # An unknown parameter on purpose: the SDK's params type rightly has no room for it.
    unknown = cast(
        stripe.params.InvoiceCreatePreviewParams, {"customer": "cus_DemoVip", "foo": "1"}
    )
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.invoices.create_preview_async(unknown)
    assert ei.value.code == "parameter_unknown"


async def test_renewal_preview_with_usage(client: stripe.StripeClient) -> None:
    preview = await client.v1.invoices.create_preview_async(
        {"customer": "cus_DemoUsage", "subscription": "sub_DemoUsage"}
    )
    by_price = {_price_id(li): li for li in preview.lines.data}
    assert by_price["price_ApiCallsOverage"].quantity == 8500
    assert by_price["price_ApiCallsOverage"].amount == 4250
    assert by_price["price_ProMonthly"].amount == 7900
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoUsage")
    assert preview.created == sub["items"].data[0].current_period_end
    assert preview.amount_due == 12150


async def test_pay_sepa_processing_then_fails(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    inv = (
        await client.v1.invoices.list_async({"customer": "cus_DemoSepa", "status": "open"})
    ).data[0]
    assert inv.attempt_count == 1
    ipay = (await client.v1.invoice_payments.list_async({"invoice": inv.id})).data[0]
    assert isinstance(ipay.payment.payment_intent, str)
    pi = await client.v1.payment_intents.retrieve_async(ipay.payment.payment_intent)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error is not None
    assert pi.last_payment_error.code == "insufficient_funds"
    paid = await client.v1.invoices.pay_async(inv.id, {"off_session": True})
    # Stripe: only the first attempt and automatic retries count; a manual pay doesn't.
    assert paid.status == "open" and paid.attempt_count == 1
    assert paid.attempted is True
    pi = await client.v1.payment_intents.retrieve_async(pi.id)
    assert pi.status == "processing"
    assert isinstance(pi.latest_charge, str)
    ch = await client.v1.charges.retrieve_async(pi.latest_charge)
    assert ch.payment_method_details is not None
    assert ch.status == "pending" and ch.payment_method_details.type == "sepa_debit"
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.invoices.pay_async(inv.id)
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.refunds.create_async({"charge": ch.id})
    assert ei.value.code == "charge_not_refundable"
    sandbox.control("POST", "/_sandbox/sepa/settle")
    pi = await client.v1.payment_intents.retrieve_async(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error is not None
    assert pi.last_payment_error.code == "insufficient_funds"
    ch = await client.v1.charges.retrieve_async(ch.id)
    assert ch.status == "failed" and ch.failure_code == "insufficient_funds"
    inv = await client.v1.invoices.retrieve_async(inv.id)
    assert inv.status == "open"
    inv = await client.v1.invoices.retrieve_async(
        inv.id, {"expand": ["payments.data.payment.payment_intent"]}
    )
    assert inv.payments is not None
    expanded_pi = inv.payments.data[0].payment.payment_intent
    assert isinstance(expanded_pi, stripe.PaymentIntent)
    assert expanded_pi.last_payment_error is not None
    assert expanded_pi.last_payment_error.code == "insufficient_funds"
    types = [e.type for e in (await client.v1.events.list_async({"limit": 20})).data]
    assert "invoice.payment_failed" in types and "payment_intent.processing" in types


async def test_pay_sepa_with_good_iban_settles_by_clock(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    from sandbox.stripe_api import payment_methods as pms

    pm = pms.create_sepa(sandbox.state, "DE89370400440532013000", customer="cus_DemoSepa")
    inv = (
        await client.v1.invoices.list_async({"customer": "cus_DemoSepa", "status": "open"})
    ).data[0]
    await client.v1.invoices.pay_async(inv.id, {"payment_method": pm["id"]})
    sandbox.control("POST", "/_sandbox/clock/advance", {"seconds": 60})
    assert (await client.v1.invoices.retrieve_async(inv.id)).status == "open"
    sandbox.control("POST", "/_sandbox/clock/advance", {"seconds": 61})
    inv = await client.v1.invoices.retrieve_async(inv.id)
    assert inv.status == "paid" and inv.status_transitions.paid_at
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoSepa")
    assert sub.status == "active"
    assert (await client.v1.customers.retrieve_async("cus_DemoSepa")).delinquent is False


async def test_switch_to_card_and_pay(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    from sandbox.stripe_api import payment_methods as pms

    card = pms.create_card(sandbox.state, "4242424242424242", 1, 2030)
    await client.v1.payment_methods.attach_async(card["id"], {"customer": "cus_DemoSepa"})
    await client.v1.customers.update_async(
        "cus_DemoSepa", {"invoice_settings": {"default_payment_method": card["id"]}}
    )
    await client.v1.subscriptions.update_async(
        "sub_DemoSepa", {"default_payment_method": card["id"]}
    )
    inv = (
        await client.v1.invoices.list_async({"customer": "cus_DemoSepa", "status": "open"})
    ).data[0]
    paid = await client.v1.invoices.pay_async(inv.id)
    assert paid.status == "paid" and paid.amount_paid == 2900
    with pytest.raises(stripe.InvalidRequestError, match="already paid"):
        await client.v1.invoices.pay_async(inv.id)
    assert (await client.v1.subscriptions.retrieve_async("sub_DemoSepa")).status == "active"


async def test_pay_with_declining_card(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    from sandbox.stripe_api import payment_methods as pms

    card = pms.create_card(sandbox.state, "4000000000009995", 1, 2030, customer="cus_DemoSepa")
    inv = (
        await client.v1.invoices.list_async({"customer": "cus_DemoSepa", "status": "open"})
    ).data[0]
    with pytest.raises(stripe.CardError) as ei:
        await client.v1.invoices.pay_async(inv.id, {"payment_method": card["id"]})
    assert ei.value.code == "card_declined"
    assert ei.value.error is not None
    assert ei.value.error.decline_code == "insufficient_funds"
    inv = await client.v1.invoices.retrieve_async(inv.id)
    assert inv.status == "open" and inv.attempt_count == 1


async def test_each_manual_attempt_is_a_new_charge_but_not_a_new_attempt_count(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    from sandbox.stripe_api import payment_methods as pms

    card = pms.create_card(sandbox.state, "4000000000009995", 1, 2030, customer="cus_DemoSepa")
    inv = (
        await client.v1.invoices.list_async({"customer": "cus_DemoSepa", "status": "open"})
    ).data[0]

    async def latest_charge() -> str:
        expanded = await client.v1.invoices.retrieve_async(
            inv.id, {"expand": ["payments.data.payment.payment_intent"]}
        )
        assert expanded.payments is not None
        pi = expanded.payments.data[0].payment.payment_intent
        assert isinstance(pi, stripe.PaymentIntent) and isinstance(pi.latest_charge, str)
        return pi.latest_charge

    charges = [await latest_charge()]
    for _ in range(2):
        with pytest.raises(stripe.CardError):
            await client.v1.invoices.pay_async(inv.id, {"payment_method": card["id"]})
        charges.append(await latest_charge())
    assert len(set(charges)) == 3  # one charge per attempt
    assert (await client.v1.invoices.retrieve_async(inv.id)).attempt_count == 1


async def test_demo_fail_payment(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    inv = sandbox.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})
    assert inv["status"] == "open" and inv["attempt_count"] == 1
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoHealthy")
    assert sub.status == "past_due"
    cus = await client.v1.customers.retrieve_async("cus_DemoHealthy")
    assert cus.delinquent is True
    types = [e.type for e in reversed((await client.v1.events.list_async({"limit": 20})).data)]
    for t in (
        "invoice.created",
        "invoice.finalized",
        "charge.failed",
        "payment_intent.payment_failed",
        "invoice.payment_failed",
        "customer.subscription.updated",
        "customer.updated",
    ):
        assert t in types
