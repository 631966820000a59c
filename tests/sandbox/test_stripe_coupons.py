"""Coupons and discounts: the retention coupon's exact effect in an invoice preview, discounts
on a subscription and its renewal invoices (once / repeating), amounts off spread over lines."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import stripe

from .conftest import Sandbox, is_proration

ANNA_SUB = "sub_DemoHealthy"


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def _advance_to(sandbox: Sandbox, ts: int) -> None:
    now = sandbox.control("GET", "/_sandbox/clock")["now"]
    sandbox.control("POST", "/_sandbox/clock/advance", {"seconds": max(0, ts - now) + 60})


async def _renewals(client: stripe.StripeClient, sub_id: str, since: int) -> list[stripe.Invoice]:
    """Renewal invoices made since ``since``, oldest first."""
    invoices = (await client.v1.invoices.list_async({"subscription": sub_id, "limit": 100})).data
    return [
        i
        for i in reversed(invoices)
        if i.billing_reason == "subscription_cycle" and i.created >= since
    ]


async def test_coupons_are_created_read_listed_and_deleted(client: stripe.StripeClient) -> None:
    coupon = await client.v1.coupons.create_async(
        {
            "id": "WINBACK-10",
            "percent_off": 10,
            "duration": "repeating",
            "duration_in_months": 2,
            "name": "10 % off",
            "metadata": {"campaign": "winback"},
        }
    )
    assert coupon.percent_off == 10 and coupon.amount_off is None and coupon.valid
    assert coupon.duration_in_months == 2 and coupon.metadata is not None
    assert coupon.metadata["campaign"] == "winback"
    assert (await client.v1.coupons.retrieve_async("WINBACK-10")).name == "10 % off"
    listed = [c.id for c in (await client.v1.coupons.list_async()).data]
    assert listed[:2] == ["WINBACK-10", "RETENTION20"]
    gone = await client.v1.coupons.delete_async("WINBACK-10")
    assert gone.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.coupons.retrieve_async("WINBACK-10")
    assert ei.value.code == "resource_missing" and ei.value.http_status == 404


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"duration": "once"}, "percent_off"),
        ({"amount_off": 500}, "currency"),
        ({"percent_off": 120}, "percent_off"),
        ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
        ({"percent_off": 10, "duration": "weekly"}, "duration"),
        ({"id": "RETENTION20", "percent_off": 10}, "id"),
    ],
)
async def test_a_coupon_must_say_what_it_takes_off_and_for_how_long(
    client: stripe.StripeClient, params: Any, param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.coupons.create_async(params)
    assert ei.value.http_status == 400 and ei.value.param == param


async def test_the_preview_shows_the_exact_price_with_the_retention_coupon(
    client: stripe.StripeClient,
) -> None:
    plain = await client.v1.invoices.create_preview_async({"subscription": ANNA_SUB})
    offer = await client.v1.invoices.create_preview_async(
        {"subscription": ANNA_SUB, "discounts": [{"coupon": "RETENTION20"}]}
    )
    assert plain.total == 7900 and plain.total_discount_amounts == []
    assert offer.subtotal == 7900 and offer.total == 7900 - 1580
    assert offer.amount_due == offer.total - 500  # Anna's credit still applies
    assert offer.total_discount_amounts is not None
    [(amount, discount)] = [(d.amount, d.discount) for d in offer.total_discount_amounts]
    assert amount == 1580 and offer.discounts == [discount]
    line = offer.lines.data[0]
    assert line.amount == 7900
    assert [d.amount for d in line.discount_amounts or []] == [1580]
    # Previewing redeems nothing.
    sub = await client.v1.subscriptions.retrieve_async(ANNA_SUB)
    assert sub.discounts == []
    assert (await client.v1.coupons.retrieve_async("RETENTION20")).times_redeemed == 0


async def test_a_percent_off_is_rounded_per_line(client: stripe.StripeClient) -> None:
    await client.v1.coupons.create_async({"id": "ODD", "percent_off": 25.5, "duration": "once"})
    preview = await client.v1.invoices.create_preview_async(
        {"subscription": "sub_DemoUsage", "discounts": [{"coupon": "ODD"}]}
    )
    lines = preview.lines.data
    assert len(lines) == 2  # Pro and the metered API calls
    expected = [_half_up(Decimal(li.amount) * Decimal("25.5") / 100) for li in lines]
    assert [[d.amount for d in li.discount_amounts or []] for li in lines] == [
        [e] for e in expected
    ]
    assert preview.total == sum(li.amount for li in lines) - sum(expected)


async def test_a_cheaper_plan_and_a_coupon_preview_together(client: stripe.StripeClient) -> None:
    sub = await client.v1.subscriptions.retrieve_async(ANNA_SUB)
    item = sub["items"].data[0]
    preview = await client.v1.invoices.create_preview_async(
        {
            "subscription": ANNA_SUB,
            "subscription_details": {
                "items": [{"id": item.id, "price": "price_StarterMonthly"}],
                "proration_date": item.current_period_start + 86400,
            },
            "discounts": [{"coupon": "RETENTION20"}],
        }
    )
    prorations = [li for li in preview.lines.data if is_proration(li)]
    cycle = [li for li in preview.lines.data if not is_proration(li)]
    assert prorations and all(not li.discountable for li in prorations)
    assert all(not li.discount_amounts for li in prorations)
    assert [li.amount for li in cycle] == [2900]
    assert [d.amount for d in cycle[0].discount_amounts or []] == [580]
    assert preview.total == sum(li.amount for li in preview.lines.data) - 580


async def test_a_repeating_discount_discounts_the_renewals_of_its_months(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    sub = await client.v1.subscriptions.update_async(
        ANNA_SUB, {"discounts": [{"coupon": "RETENTION20"}], "expand": ["discounts"]}
    )
    [discount] = sub.discounts
    assert isinstance(discount, stripe.Discount)
    assert discount.source.coupon == "RETENTION20" and discount.subscription == ANNA_SUB
    assert discount.end is not None and discount.end > discount.start
    prev = (
        (await client.v1.events.list_async({"type": "customer.subscription.updated", "limit": 1}))
        .data[0]
        .data.previous_attributes
    )
    assert prev is not None and prev.to_dict() == {"discounts": []}
    created = (await client.v1.events.list_async({"type": "customer.discount.created"})).data
    assert [e.data.object.id for e in created] == [discount.id]
    nxt = await client.v1.invoices.create_preview_async({"subscription": ANNA_SUB})
    assert nxt.total == 6320 and nxt.discounts == [discount.id]

    _advance_to(sandbox, discount.end + 31 * 86400)
    renewals = await _renewals(client, ANNA_SUB, discount.start)
    discounted = [i.total for i in renewals if i.created < discount.end]
    full = [i.total for i in renewals if i.created >= discount.end]
    assert len(discounted) == 3 and set(discounted) == {6320}
    assert full and set(full) == {7900}
    sub = await client.v1.subscriptions.retrieve_async(ANNA_SUB)
    assert sub.discounts == []


async def test_a_once_discount_applies_to_one_invoice(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    await client.v1.coupons.create_async({"id": "HALF1", "percent_off": 50, "duration": "once"})
    await client.v1.subscriptions.update_async(ANNA_SUB, {"discounts": [{"coupon": "HALF1"}]})
    sub = await client.v1.subscriptions.retrieve_async(ANNA_SUB)
    since = sandbox.control("GET", "/_sandbox/clock")["now"]
    _advance_to(sandbox, sub["items"].data[0].current_period_end + 31 * 86400)
    assert [i.total for i in await _renewals(client, ANNA_SUB, since)] == [3950, 7900]
    assert (await client.v1.subscriptions.retrieve_async(ANNA_SUB)).discounts == []


async def test_an_empty_discounts_removes_them(client: stripe.StripeClient) -> None:
    sub = await client.v1.subscriptions.update_async(
        ANNA_SUB, {"discounts": [{"coupon": "RETENTION20"}]}
    )
    sub = await client.v1.subscriptions.update_async(ANNA_SUB, {"discounts": ""})
    assert sub.discounts == []
    deleted = (await client.v1.events.list_async({"type": "customer.discount.deleted"})).data
    assert len(deleted) == 1
    assert (await client.v1.invoices.create_preview_async({"subscription": ANNA_SUB})).total == 7900


async def test_an_amount_off_is_spread_over_the_lines(client: stripe.StripeClient) -> None:
    await client.v1.coupons.create_async(
        {"id": "TENEUR", "amount_off": 1000, "currency": "eur", "duration": "once"}
    )
    preview = await client.v1.invoices.create_preview_async(
        {"subscription": "sub_DemoUsage", "discounts": [{"coupon": "TENEUR"}]}
    )
    lines = preview.lines.data
    subtotal = sum(li.amount for li in lines)
    shares = [sum(d.amount for d in li.discount_amounts or []) for li in lines]
    assert sum(shares) == 1000 and preview.total == subtotal - 1000
    for li, share in zip(lines, shares, strict=True):
        assert abs(share - 1000 * li.amount / subtotal) < 1


async def test_a_coupon_in_another_currency_is_refused(client: stripe.StripeClient) -> None:
    await client.v1.coupons.create_async(
        {"id": "USD5", "amount_off": 500, "currency": "usd", "duration": "once"}
    )
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(ANNA_SUB, {"discounts": [{"coupon": "USD5"}]})
    assert ei.value.param == "discounts[0][coupon]"
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(ANNA_SUB, {"discounts": [{"coupon": "NOPE"}]})
    assert ei.value.code == "resource_missing"
