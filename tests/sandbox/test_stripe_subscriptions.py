"""Subscription updates beyond a plain price swap: items added/removed, trials, flags."""

from __future__ import annotations

import base64

import httpx
import pytest
import stripe

from .conftest import API_KEY, Sandbox


async def test_remove_metered_item_and_add_licensed(client: stripe.StripeClient) -> None:
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoUsage")
    metered = next(i for i in sub["items"].data if i.price.recurring.usage_type == "metered")
    pdate = metered.current_period_start + 86400
    preview = await client.v1.invoices.create_preview_async(
        {
            "customer": "cus_DemoUsage",
            "subscription": sub.id,
            "subscription_details": {
                "items": [{"id": metered.id, "deleted": True}, {"price": "price_StarterMonthly"}],
                "proration_date": pdate,
            },
        }
    )
    prorations = [li for li in preview.lines.data if li.parent.subscription_item_details.proration]
    assert len(prorations) == 1 and prorations[0].amount > 0  # metered items are not prorated
    assert prorations[0].description.startswith("Remaining time on Starter after ")
    updated = await client.v1.subscriptions.update_async(
        sub.id,
        {
            "items": [{"id": metered.id, "deleted": True}, {"price": "price_StarterMonthly"}],
            "proration_date": pdate,
        },
    )
    assert sorted(i.price.id for i in updated["items"].data) == [
        "price_ProMonthly",
        "price_StarterMonthly",
    ]


async def test_trial_change_has_no_prorations(client: stripe.StripeClient) -> None:
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoTrial")
    assert sub.status == "trialing" and sub.trial_end > sub.trial_start
    item = sub["items"].data[0]
    preview = await client.v1.invoices.create_preview_async(
        {
            "subscription": sub.id,
            "subscription_details": {"items": [{"id": item.id, "price": "price_BusinessMonthly"}]},
        }
    )
    assert [li.amount for li in preview.lines.data] == [19900]
    assert preview.lines.data[0].period.start == sub.trial_end


async def test_flags_and_behaviour_none(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoSharedA")
    item = sub["items"].data[0]
    updated = await client.v1.subscriptions.update_async(
        sub.id,
        {
            "cancel_at_period_end": True,
            "metadata": {"reason": "budget"},
            "items": [{"id": item.id, "price": "price_ProMonthly"}],
            "proration_behavior": "none",
        },
    )
    assert updated.cancel_at_period_end is True and updated.metadata["reason"] == "budget"
    nxt = await client.v1.invoices.create_preview_async({"subscription": sub.id})
    assert [li.amount for li in nxt.lines.data] == [7900]
    evt = (
        await client.v1.events.list_async({"type": "customer.subscription.updated", "limit": 1})
    ).data[0]
    assert evt.data.previous_attributes.cancel_at_period_end is False
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(sub.id, {"trial_from_plan": True})  # type: ignore[typeddict-unknown-key]
    assert ei.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(
            sub.id, {"items": [{"id": "si_nope", "price": "price_ProMonthly"}]}
        )
    assert ei.value.code == "resource_missing"


async def test_cancel_emits_deleted(client: stripe.StripeClient) -> None:
    sub = await client.v1.subscriptions.cancel_async("sub_DemoSharedA")
    assert sub.status == "canceled" and sub.ended_at
    evt = (await client.v1.events.list_async({"types": ["customer.subscription.deleted"]})).data[0]
    assert evt.data.object.id == "sub_DemoSharedA"


async def test_basic_auth_like_curl(sandbox: Sandbox) -> None:
    token = base64.b64encode(f"{API_KEY}:".encode()).decode()
    async with httpx.AsyncClient() as h:
        r = await h.get(
            sandbox.base_url + "/v1/customers/cus_DemoVip",
            headers={"Authorization": f"Basic {token}"},
        )
    assert r.status_code == 200 and r.json()["id"] == "cus_DemoVip"
