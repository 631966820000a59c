"""Cancel or save: cancel at period end and resume, cancel now (with a proration credit),
pause collection, and what happens at renewal — driven through the stripe SDK."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import stripe

from .conftest import Sandbox

ANNA_SUB = "sub_DemoHealthy"


async def _updated_event(client: stripe.StripeClient) -> dict[str, Any]:
    evt = (
        await client.v1.events.list_async({"type": "customer.subscription.updated", "limit": 1})
    ).data[0]
    assert evt.data.previous_attributes is not None
    return evt.data.previous_attributes.to_dict()


def _advance_past(sandbox: Sandbox, ts: int, *, extra: int = 60) -> dict[str, Any]:
    now = sandbox.control("GET", "/_sandbox/clock")["now"]
    return sandbox.control("POST", "/_sandbox/clock/advance", {"seconds": ts - now + extra})


async def _period_end(client: stripe.StripeClient, sub_id: str) -> int:
    sub = await client.v1.subscriptions.retrieve_async(sub_id)
    return sub["items"].data[0].current_period_end


async def _sub_invoices(client: stripe.StripeClient, sub_id: str) -> list[stripe.Invoice]:
    return (await client.v1.invoices.list_async({"subscription": sub_id, "limit": 100})).data


async def test_cancel_at_period_end_then_resume_names_exactly_the_changed_fields(
    client: stripe.StripeClient,
) -> None:
    end = await _period_end(client, ANNA_SUB)
    sub = await client.v1.subscriptions.update_async(
        ANNA_SUB,
        {
            "cancel_at_period_end": True,
            "cancellation_details": {"feedback": "too_expensive", "comment": "Budget cut"},
        },
    )
    assert sub.cancel_at_period_end is True and sub.cancel_at == end
    assert sub.canceled_at is not None and sub.status == "active"
    assert sub.cancellation_details is not None
    assert sub.cancellation_details.reason == "cancellation_requested"
    assert sub.cancellation_details.feedback == "too_expensive"
    assert await _updated_event(client) == {
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
    }

    resumed = await client.v1.subscriptions.update_async(ANNA_SUB, {"cancel_at_period_end": False})
    assert resumed.cancel_at_period_end is False and resumed.cancel_at is None
    assert resumed.canceled_at is None
    prev = await _updated_event(client)
    assert set(prev) == {"cancel_at", "cancel_at_period_end", "canceled_at", "cancellation_details"}
    assert prev["cancel_at"] == end and prev["cancel_at_period_end"] is True
    assert prev["cancellation_details"]["reason"] == "cancellation_requested"


async def test_a_subscription_set_to_cancel_ends_at_period_end_and_is_not_billed_again(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    before = await _sub_invoices(client, ANNA_SUB)
    end = await _period_end(client, ANNA_SUB)
    await client.v1.subscriptions.update_async(ANNA_SUB, {"cancel_at_period_end": True})
    _advance_past(sandbox, end)
    sub = await client.v1.subscriptions.retrieve_async(ANNA_SUB)
    assert sub.status == "canceled" and sub.ended_at == end
    assert len(await _sub_invoices(client, ANNA_SUB)) == len(before)
    deleted = (
        await client.v1.events.list_async({"type": "customer.subscription.deleted", "limit": 1})
    ).data
    assert [e.data.object.id for e in deleted] == [ANNA_SUB]


async def test_renewal_moves_the_period_and_charges_the_next_one(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    end = await _period_end(client, ANNA_SUB)
    result = _advance_past(sandbox, end)
    assert ANNA_SUB in result["renewed"]
    sub = await client.v1.subscriptions.retrieve_async(ANNA_SUB)
    assert sub["items"].data[0].current_period_start == end
    inv = (await _sub_invoices(client, ANNA_SUB))[0]
    assert inv.billing_reason == "subscription_cycle" and inv.id == sub.latest_invoice
    assert inv.status == "paid" and inv.total == 7900
    assert inv.amount_paid == 7900 - 500  # Anna's 5 € credit was applied first
    prev = await _updated_event(client)
    assert "items" in prev and prev["latest_invoice"] != sub.latest_invoice


@pytest.mark.parametrize(
    ("behavior", "status"),
    [("void", "void"), ("mark_uncollectible", "uncollectible"), ("keep_as_draft", "draft")],
)
async def test_paused_collection_bills_the_renewal_without_charging_it(
    sandbox: Sandbox, client: stripe.StripeClient, behavior: str, status: str
) -> None:
    charges_before = (await client.v1.charges.list_async({"customer": "cus_DemoHealthy"})).data
    end = await _period_end(client, ANNA_SUB)
    resumes_at = end + 40 * 86400
    sub = await client.v1.subscriptions.update_async(
        ANNA_SUB, {"pause_collection": {"behavior": behavior, "resumes_at": resumes_at}}
    )
    assert sub.pause_collection is not None
    assert sub.pause_collection.behavior == behavior
    assert sub.pause_collection.resumes_at == resumes_at
    assert await _updated_event(client) == {"pause_collection": None}
    _advance_past(sandbox, end)
    sub = await client.v1.subscriptions.retrieve_async(ANNA_SUB)
    assert sub.status == "active" and sub.pause_collection is not None
    inv = (await _sub_invoices(client, ANNA_SUB))[0]
    assert inv.billing_reason == "subscription_cycle" and inv.status == status
    assert inv.amount_paid == 0 and inv.attempt_count == 0
    charges = (await client.v1.charges.list_async({"customer": "cus_DemoHealthy"})).data
    assert [c.id for c in charges] == [c.id for c in charges_before]
    if status == "draft":
        assert inv.number is None and inv.hosted_invoice_url is None
    else:
        assert inv.number is not None and inv.hosted_invoice_url is not None
        kind = "invoice.voided" if status == "void" else "invoice.marked_uncollectible"
        evt = (await client.v1.events.list_async({"type": kind, "limit": 1})).data
        assert [e.data.object.id for e in evt] == [inv.id]


async def test_collection_resumes_at_resumes_at_before_the_renewal_it_reaches(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    end = await _period_end(client, ANNA_SUB)
    await client.v1.subscriptions.update_async(
        ANNA_SUB, {"pause_collection": {"behavior": "void", "resumes_at": end}}
    )
    _advance_past(sandbox, end)
    sub = await client.v1.subscriptions.retrieve_async(ANNA_SUB)
    assert sub.pause_collection is None
    assert (await _sub_invoices(client, ANNA_SUB))[0].status == "paid"
    resumed = [
        e.data.previous_attributes.to_dict()
        for e in (await client.v1.events.list_async({"type": "customer.subscription.updated"})).data
        if e.data.previous_attributes is not None
        and "pause_collection" in e.data.previous_attributes
    ]
    assert resumed[0] == {"pause_collection": {"behavior": "void", "resumes_at": end}}


async def test_an_empty_pause_collection_resumes_now(client: stripe.StripeClient) -> None:
    await client.v1.subscriptions.update_async(
        ANNA_SUB, {"pause_collection": {"behavior": "keep_as_draft"}}
    )
    sub = await client.v1.subscriptions.update_async(ANNA_SUB, {"pause_collection": ""})
    assert sub.pause_collection is None
    assert await _updated_event(client) == {
        "pause_collection": {"behavior": "keep_as_draft", "resumes_at": None}
    }


async def test_a_pause_needs_a_known_behavior(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(
            ANNA_SUB, {"pause_collection": {"behavior": "skip"}}
        )
    assert ei.value.param == "pause_collection[behavior]" and ei.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(
            ANNA_SUB, {"cancellation_details": {"feedback": "bored"}}
        )
    assert ei.value.param == "cancellation_details[feedback]"


async def test_cancel_now_with_proration_credits_the_unused_time_to_the_balance(
    client: stripe.StripeClient,
) -> None:
    before = await client.v1.subscriptions.retrieve_async(ANNA_SUB)
    item = before["items"].data[0]
    balance_before = (await client.v1.customers.retrieve_async("cus_DemoHealthy")).balance
    assert balance_before is not None
    sub = await client.v1.subscriptions.cancel_async(
        ANNA_SUB,
        {
            "prorate": True,
            "invoice_now": True,
            "cancellation_details": {"comment": "Moving to another tool", "feedback": "other"},
        },
    )
    assert sub.status == "canceled" and sub.canceled_at is not None
    assert sub.ended_at == sub.canceled_at
    assert sub.cancellation_details is not None
    assert sub.cancellation_details.reason == "cancellation_requested"
    assert sub.cancellation_details.comment == "Moving to another tool"
    remaining = item.current_period_end - sub.canceled_at
    length = item.current_period_end - item.current_period_start
    credit = int((Decimal(7900 * remaining) / length).quantize(Decimal(1), ROUND_HALF_UP))
    final = (await _sub_invoices(client, ANNA_SUB))[0]
    assert final.total == -credit and final.status == "paid" and final.amount_paid == 0
    assert [li.amount for li in final.lines.data] == [-credit]
    balance = (await client.v1.customers.retrieve_async("cus_DemoHealthy")).balance
    assert balance == balance_before - credit
    deleted = (
        await client.v1.events.list_async({"type": "customer.subscription.deleted", "limit": 1})
    ).data
    assert [e.data.object.id for e in deleted] == [ANNA_SUB]


async def test_cancel_now_without_flags_bills_nothing_more(client: stripe.StripeClient) -> None:
    before = await _sub_invoices(client, ANNA_SUB)
    sub = await client.v1.subscriptions.cancel_async(ANNA_SUB)
    assert sub.status == "canceled"
    assert len(await _sub_invoices(client, ANNA_SUB)) == len(before)
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(ANNA_SUB, {"cancel_at_period_end": True})
    assert "can only update its cancellation_details and metadata" in str(ei.value)
    kept = await client.v1.subscriptions.update_async(
        ANNA_SUB, {"cancellation_details": {"comment": "Too pricey"}}
    )
    assert kept.cancellation_details is not None
    assert kept.cancellation_details.comment == "Too pricey"


async def test_cancel_now_and_refund_the_last_payment(client: stripe.StripeClient) -> None:
    last = (await _sub_invoices(client, ANNA_SUB))[0]
    pay = (await client.v1.invoice_payments.list_async({"invoice": last.id})).data[0]
    await client.v1.subscriptions.cancel_async(ANNA_SUB)
    assert pay.payment.payment_intent is not None
    refund = await client.v1.refunds.create_async(
        {"payment_intent": str(pay.payment.payment_intent), "reason": "requested_by_customer"}
    )
    assert refund.status == "succeeded" and refund.amount == last.amount_paid
