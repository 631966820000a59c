"""Subscription updates beyond a plain price swap: items added/removed, trials, flags."""

from __future__ import annotations

import base64

import pytest
import stripe

from tests.http import async_client

from .conftest import API_KEY, Sandbox, is_proration


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
    prorations = [li for li in preview.lines.data if is_proration(li)]
    assert len(prorations) == 1 and prorations[0].amount > 0  # metered items are not prorated
    assert prorations[0].description is not None
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
    assert sub.trial_end is not None and sub.trial_start is not None
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
    assert evt.data.previous_attributes is not None
    assert evt.data.previous_attributes.cancel_at_period_end is False
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(sub.id, {"trial_from_plan": True})
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
    async with async_client() as h:
        r = await h.get(
            sandbox.base_url + "/v1/customers/cus_DemoVip",
            headers={"Authorization": f"Basic {token}"},
        )
    assert r.status_code == 200 and r.json()["id"] == "cus_DemoVip"


# --- pending updates (payment_behavior=pending_if_incomplete) ---
def _declining_default(sandbox: Sandbox, customer: str, subscription: str) -> str:
    from sandbox.stripe_api import payment_methods as pms

    card = pms.create_card(sandbox.state, "4000000000009995", 1, 2030, customer=customer)
    sandbox.state.objects[customer]["invoice_settings"]["default_payment_method"] = card["id"]
    sandbox.state.objects[subscription]["default_payment_method"] = card["id"]
    return card["id"]


async def test_a_pending_update_whose_payment_fails_keeps_the_old_plan(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    _declining_default(sandbox, "cus_DemoHealthy", "sub_DemoHealthy")
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoHealthy")
    item = sub["items"].data[0]
    updated = await client.v1.subscriptions.update_async(
        sub.id,
        {
            "items": [{"id": item.id, "price": "price_ProYearly"}],
            "proration_behavior": "always_invoice",
            "payment_behavior": "pending_if_incomplete",
            "expand": ["latest_invoice"],
        },
    )
    assert [i.price.id for i in updated["items"].data] == ["price_ProMonthly"]
    assert updated.status == "active"
    pending = updated.pending_update
    assert pending is not None and pending.subscription_items is not None
    assert [i.price.id for i in pending.subscription_items] == ["price_ProYearly"]
    assert pending.expires_at <= sandbox.state.now() + 23 * 3600
    invoice = updated.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.status == "open" and invoice.billing_reason == "subscription_update"

    # Paying the invoice later (another card) applies the change.
    from sandbox.stripe_api import payment_methods as pms

    good = pms.create_card(sandbox.state, "4242424242424242", 1, 2030, customer="cus_DemoHealthy")
    await client.v1.invoices.pay_async(invoice.id, {"payment_method": good["id"]})
    sub = await client.v1.subscriptions.retrieve_async(sub.id)
    assert [i.price.id for i in sub["items"].data] == ["price_ProYearly"]
    assert sub.pending_update is None


async def test_a_pending_update_that_is_paid_applies_at_once(client: stripe.StripeClient) -> None:
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoHealthy")
    updated = await client.v1.subscriptions.update_async(
        sub.id,
        {
            "items": [{"id": sub["items"].data[0].id, "price": "price_ProYearly"}],
            "proration_behavior": "always_invoice",
            "payment_behavior": "pending_if_incomplete",
            "expand": ["latest_invoice"],
        },
    )
    assert [i.price.id for i in updated["items"].data] == ["price_ProYearly"]
    assert updated.pending_update is None
    assert isinstance(updated.latest_invoice, stripe.Invoice)
    assert updated.latest_invoice.status == "paid"


async def test_pending_updates_refuse_other_params_and_bank_debits(
    client: stripe.StripeClient,
) -> None:
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoHealthy")
    items: list[stripe.params.SubscriptionUpdateParamsItem] = [
        {"id": sub["items"].data[0].id, "price": "price_ProYearly"}
    ]
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(
            sub.id,
            {"items": items, "payment_behavior": "pending_if_incomplete", "metadata": {"a": "b"}},
        )
    assert ei.value.param == "metadata"
    sepa = await client.v1.subscriptions.retrieve_async("sub_DemoSepa")
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.subscriptions.update_async(
            sepa.id,
            {
                "items": [{"id": sepa["items"].data[0].id, "price": "price_StarterYearly"}],
                "payment_behavior": "pending_if_incomplete",
            },
        )
    assert ei.value.param == "payment_behavior"
    sepa = await client.v1.subscriptions.retrieve_async("sub_DemoSepa")
    assert sepa["items"].data[0].price.id == "price_StarterMonthly"
