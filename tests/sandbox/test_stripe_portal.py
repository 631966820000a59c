"""Billing Portal configurations and the hosted page of a customer-update session: forms for
exactly the allowed updates, applied to the customer, everything else refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
import stripe

from tests.http import async_client

from .conftest import Sandbox

MULTI = "cus_DemoMulti"
RETURN = "https://app.example/conversation/42"


async def _billing_details_config(
    client: stripe.StripeClient,
) -> stripe.billing_portal.Configuration:
    return await client.v1.billing_portal.configurations.create_async(
        {
            "features": {
                "customer_update": {"enabled": True, "allowed_updates": ["address", "tax_id"]},
            },
            "business_profile": {"headline": "Update your billing details"},
            "default_return_url": RETURN,
            "metadata": {"purpose": "billing_details"},
        }
    )


async def test_a_configuration_is_created_listed_and_read(client: stripe.StripeClient) -> None:
    config = await _billing_details_config(client)
    assert config.id.startswith("bpc_") and config.active and not config.is_default
    cu = config.features.customer_update
    assert cu.enabled and cu.allowed_updates == ["address", "tax_id"]
    assert not config.features.payment_method_update.enabled
    assert not config.features.subscription_cancel.enabled
    assert config.business_profile.headline == "Update your billing details"
    listed = await client.v1.billing_portal.configurations.list_async()
    assert [c.is_default for c in listed.data].count(True) == 1
    assert config.id in [c.id for c in listed.data]
    mine = [
        c
        for c in listed.data
        if c.metadata is not None and c.metadata.to_dict().get("purpose") == "billing_details"
    ]
    assert [c.id for c in mine] == [config.id]
    assert (await client.v1.billing_portal.configurations.retrieve_async(config.id)).id == config.id
    unknown_update: Any = {
        "features": {"customer_update": {"enabled": True, "allowed_updates": ["vat"]}}
    }
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.billing_portal.configurations.create_async(unknown_update)
    assert ei.value.param == "features[customer_update][allowed_updates]"


async def test_a_session_without_configuration_uses_the_default(
    client: stripe.StripeClient,
) -> None:
    session = await client.v1.billing_portal.sessions.create_async(
        {"customer": MULTI, "return_url": RETURN}
    )
    default = await client.v1.billing_portal.configurations.retrieve_async(
        str(session.configuration)
    )
    assert default.is_default and default.features.payment_method_update.enabled


async def test_the_customer_update_page_shows_and_applies_exactly_the_allowed_updates(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    config = await _billing_details_config(client)
    session = await client.v1.billing_portal.sessions.create_async(
        {"customer": MULTI, "configuration": config.id}
    )
    assert session.configuration == config.id and session.return_url == RETURN
    async with async_client(base_url=sandbox.base_url) as h:
        page = (await h.get(session.url)).text
        assert "name='line1'" in page and "name='postal_code'" in page
        assert "DE123456789" in page and "action='/portal/" in page
        assert "name='card'" not in page and "name='email'" not in page
        assert f"href='{RETURN}'" in page

        r = await h.post(
            f"{session.url}/address",
            data={
                "line1": "Marienplatz 1",
                "postal_code": "80331",
                "city": "München",
                "country": "DE",
            },
        )
        assert r.status_code == 303
        cus = await client.v1.customers.retrieve_async(MULTI)
        assert cus.address is not None and cus.address.city == "München"
        evt = (await client.v1.events.list_async({"type": "customer.updated", "limit": 1})).data[0]
        assert evt.data.previous_attributes is not None
        assert evt.data.previous_attributes.to_dict()["address"]["city"] == "Berlin"

        r = await h.post(f"{session.url}/tax_ids", data={"type": "eu_vat", "value": "DE 12345"})
        assert r.status_code == 400 and "Invalid value for eu_vat." in r.text
        r = await h.post(f"{session.url}/tax_ids", data={"type": "eu_vat", "value": "ATU12345678"})
        assert r.status_code == 303
        values = [t.value for t in (await client.v1.customers.tax_ids.list_async(MULTI)).data]
        assert values == ["ATU12345678", "DE123456789"]
        page = (await h.get(session.url)).text
        [remove] = re.findall(r"action='([^']*txi_DemoMultiVat/delete)'", page)
        assert (await h.post(remove)).status_code == 303
        values = [t.value for t in (await client.v1.customers.tax_ids.list_async(MULTI)).data]
        assert values == ["ATU12345678"]
        types = {e.type for e in (await client.v1.events.list_async({"limit": 20})).data}
        assert {"customer.tax_id.created", "customer.tax_id.deleted"} <= types

        # What the configuration does not enable is refused.
        pms_before = (await client.v1.customers.payment_methods.list_async(MULTI)).data
        card = {"card": "4242424242424242", "exp_month": "1", "exp_year": "2031"}
        assert (await h.post(session.url, data=card)).status_code == 403
        assert (
            await h.post(f"{session.url}/contact", data={"email": "x@y.example"})
        ).status_code == 403
        assert (
            await h.post(f"{session.url}/shipping", data={"shipping_name": "X"})
        ).status_code == 403
        pms_after = (await client.v1.customers.payment_methods.list_async(MULTI)).data
        assert [p.id for p in pms_after] == [p.id for p in pms_before]
        assert (
            await client.v1.customers.retrieve_async(MULTI)
        ).email == "klara@weber-design.example"


async def test_a_customer_update_flow_needs_the_feature(client: stripe.StripeClient) -> None:
    only_cards = await client.v1.billing_portal.configurations.create_async(
        {"features": {"payment_method_update": {"enabled": True}}}
    )
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.billing_portal.sessions.create_async(
            {
                "customer": MULTI,
                "return_url": RETURN,
                "configuration": only_cards.id,
                "flow_data": {"type": "customer_update"},
            }
        )
    assert ei.value.param == "flow_data[type]"
    config = await _billing_details_config(client)
    session = await client.v1.billing_portal.sessions.create_async(
        {"customer": MULTI, "configuration": config.id, "flow_data": {"type": "customer_update"}}
    )
    assert session.flow is not None and session.flow.type == "customer_update"


async def test_an_inactive_configuration_makes_no_sessions(client: stripe.StripeClient) -> None:
    config = await _billing_details_config(client)
    await client.v1.billing_portal.configurations.update_async(config.id, {"active": False})
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.billing_portal.sessions.create_async(
            {"customer": MULTI, "configuration": config.id}
        )
    assert ei.value.param == "configuration"


async def test_the_default_portal_cancels_one_of_several_subscriptions_at_period_end(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    live = (await client.v1.subscriptions.list_async({"customer": MULTI})).data
    assert sorted(s.id for s in live) == ["sub_DemoMultiAddon", "sub_DemoMultiPlan"]
    session = await client.v1.billing_portal.sessions.create_async(
        {"customer": MULTI, "return_url": RETURN}
    )
    async with async_client(base_url=sandbox.base_url) as h:
        page = (await h.get(session.url)).text
        assert "Priority support" in page and "Pro" in page
        assert page.count("Cancel at period end</button>") == 2
        r = await h.post(f"{session.url}/subscriptions/sub_DemoMultiAddon/cancel")
    assert r.status_code == 303
    addon = await client.v1.subscriptions.retrieve_async("sub_DemoMultiAddon")
    plan = await client.v1.subscriptions.retrieve_async("sub_DemoMultiPlan")
    assert addon.cancel_at_period_end and addon.status == "active"
    assert not plan.cancel_at_period_end
