"""Customers, search, expand, pagination, errors, auth and idempotency through the real SDK."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
import stripe

from tests.http import async_client

from .conftest import API_KEY, Sandbox


async def test_retrieve_customer_shape(client: stripe.StripeClient) -> None:
    cus = await client.v1.customers.retrieve_async("cus_DemoHealthy")
    assert isinstance(cus, stripe.Customer)
    assert cus.email == "anna@example.com"
    assert cus.balance == -500
    assert cus.metadata is not None and cus.metadata["user_id"] == "usr_anna"
    assert cus.invoice_settings is not None
    assert cus.invoice_settings.default_payment_method == "pm_DemoHealthyVisa"
    assert "subscriptions" not in cus


async def test_list_by_email_is_exact_and_case_sensitive(client: stripe.StripeClient) -> None:
    res = await client.v1.customers.list_async({"email": "shared@agency.example"})
    assert {c.id for c in res.data} == {"cus_DemoSharedA", "cus_DemoSharedB"}
    res = await client.v1.customers.list_async({"email": "Anna@Example.com"})
    assert res.data == []


async def test_search_email_case_insensitive_and_metadata(client: stripe.StripeClient) -> None:
    res = await client.v1.customers.search_async({"query": "email:'ANNA@example.com'"})
    assert isinstance(res, stripe.SearchResultObject)
    assert [c.id for c in res.data] == ["cus_DemoHealthy"]
    res = await client.v1.customers.search_async({"query": "metadata['user_id']:'usr_lena'"})
    assert [c.id for c in res.data] == ["cus_DemoVip"]
    res = await client.v1.customers.search_async(
        {"query": "email:'shared@agency.example' AND metadata['user_id']:'usr_alpha'"}
    )
    assert [c.id for c in res.data] == ["cus_DemoSharedA"]
    res = await client.v1.customers.search_async(
        {"query": "name:'Team Beta' OR name:'Paul Wagner'", "expand": ["total_count"]}
    )
    assert {c.id for c in res.data} == {"cus_DemoSharedB", "cus_DemoUsage"}
    assert res["total_count"] == 2  # expandable, so not an attribute the SDK declares
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.customers.search_async({"query": "email:'a' AND name:'b' OR name:'c'"})


async def test_search_pagination(client: stripe.StripeClient) -> None:
    first = await client.v1.customers.search_async({"query": "-email:'x@y.z'", "limit": 3})
    assert first.has_more and first.next_page
    second = await client.v1.customers.search_async(
        {"query": "-email:'x@y.z'", "limit": 3, "page": first.next_page}
    )
    assert not {c.id for c in first.data} & {c.id for c in second.data}


async def test_expand_subscriptions_and_default_pm(client: stripe.StripeClient) -> None:
    cus = await client.v1.customers.retrieve_async(
        "cus_DemoHealthy", {"expand": ["subscriptions", "invoice_settings.default_payment_method"]}
    )
    assert cus.subscriptions is not None
    assert [s.id for s in cus.subscriptions.data] == ["sub_DemoHealthy"]
    assert cus.invoice_settings is not None
    pm = cus.invoice_settings.default_payment_method
    assert isinstance(pm, stripe.PaymentMethod)
    assert pm.card is not None
    assert (pm.card.brand, pm.card.last4, pm.card.exp_month, pm.card.exp_year) == (
        "visa",
        "4242",
        12,
        2028,
    )
    # canceled subscriptions are not in the includable list
    b = await client.v1.customers.retrieve_async("cus_DemoSharedB", {"expand": ["subscriptions"]})
    assert b.subscriptions is not None and b.subscriptions.data == []
    res = await client.v1.customers.list_async(
        {"email": "shared@agency.example", "expand": ["data.subscriptions"]}
    )
    assert all(hasattr(c, "subscriptions") for c in res.data)


async def test_expand_data_product_and_subscription_shape(client: stripe.StripeClient) -> None:
    prices = await client.v1.prices.list_async(
        {"lookup_keys": ["pro_monthly", "pro_yearly"], "expand": ["data.product"]}
    )
    assert {p.id for p in prices.data} == {"price_ProMonthly", "price_ProYearly"}
    assert all(
        isinstance(p.product, stripe.Product) and p.product.name == "Pro" for p in prices.data
    )
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoUsage")
    assert "current_period_end" not in sub
    items = sub["items"].data
    assert {i.price.id for i in items} == {"price_ProMonthly", "price_ApiCallsOverage"}
    assert all(i.current_period_end > i.current_period_start for i in items)
    assert isinstance(items[0].price.product, str)
    sub = await client.v1.subscriptions.retrieve_async(
        "sub_DemoUsage", {"expand": ["items.data.price.product", "customer", "latest_invoice"]}
    )
    assert sub["items"].data[0].price.product.object == "product"
    assert isinstance(sub.customer, stripe.Customer) and sub.customer.id == "cus_DemoUsage"
    assert isinstance(sub.latest_invoice, stripe.Invoice)
    assert sub.latest_invoice.object == "invoice"


async def test_expand_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        await client.v1.customers.retrieve_async("cus_DemoHealthy", {"expand": ["email"]})
    with pytest.raises(stripe.InvalidRequestError, match="more than 4 levels"):
        await client.v1.subscriptions.list_async({"expand": ["data.items.data.price.product"]})


async def test_pagination(client: stripe.StripeClient) -> None:
    page1 = await client.v1.invoices.list_async({"customer": "cus_DemoHealthy", "limit": 4})
    assert len(page1.data) == 4 and page1.has_more
    assert page1.url == "/v1/invoices"
    created = [i.created for i in page1.data]
    assert created == sorted(created, reverse=True)
    page2 = await client.v1.invoices.list_async(
        {"customer": "cus_DemoHealthy", "limit": 4, "starting_after": page1.data[-1].id}
    )
    assert len(page2.data) == 2 and not page2.has_more
    back = await client.v1.invoices.list_async(
        {"customer": "cus_DemoHealthy", "limit": 4, "ending_before": page2.data[0].id}
    )
    assert [i.id for i in back.data] == [i.id for i in page1.data]
    ids = [
        i.id
        async for i in (
            await client.v1.invoices.list_async({"customer": "cus_DemoHealthy", "limit": 2})
        ).auto_paging_iter()
    ]
    assert len(ids) == 6 == len(set(ids))
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.customers.list_async({"limit": 101})
    assert ei.value.param == "limit"


async def test_status_filters(client: stripe.StripeClient) -> None:
    subs = await client.v1.subscriptions.list_async({"customer": "cus_DemoSharedB"})
    assert subs.data == []
    subs = await client.v1.subscriptions.list_async(
        {"customer": "cus_DemoSharedB", "status": "all"}
    )
    assert [s.status for s in subs.data] == ["canceled"]
    open_ = await client.v1.invoices.list_async({"customer": "cus_DemoSepa", "status": "open"})
    assert len(open_.data) == 1 and open_.data[0].attempt_count == 1


async def test_404_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.customers.retrieve_async("cus_nope")
    assert ei.value.code == "resource_missing"
    assert ei.value.http_status == 404
    assert ei.value.user_message == "No such customer: 'cus_nope'"
    assert ei.value.param == "id"


async def test_401_wrong_key(sandbox: Sandbox) -> None:
    bad = sandbox.client(api_key="sk_test_wrongkey1234")
    with pytest.raises(stripe.AuthenticationError) as ei:
        await bad.v1.customers.retrieve_async("cus_DemoHealthy")
    assert "sk_test_wrongkey1234" not in str(ei.value)
    assert "1234" in str(ei.value)
    async with async_client() as h:
        r = await h.get(sandbox.base_url + "/v1/customers")
    assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_request_error"


async def test_unrecognized_url(sandbox: Sandbox) -> None:
    async with async_client() as h:
        r = await h.get(
            sandbox.base_url + "/v1/nothing_here", headers={"Authorization": f"Bearer {API_KEY}"}
        )
    assert r.status_code == 404
    assert r.json()["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/nothing_here)"
    )


async def test_idempotent_replay_and_mismatch(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ch = (await client.v1.charges.list_async({"customer": "cus_DemoHealthy", "limit": 1})).data[0]
    opts: stripe.RequestOptions = {"idempotency_key": "refund:ticket-1"}
    r1 = await client.v1.refunds.create_async({"charge": ch.id, "amount": 100}, options=opts)
    r2 = await client.v1.refunds.create_async({"charge": ch.id, "amount": 100}, options=opts)
    assert r1.id == r2.id
    refunds = await client.v1.refunds.list_async({"charge": ch.id})
    assert len(refunds.data) == 1
    assert (await client.v1.charges.retrieve_async(ch.id)).amount_refunded == 100
    with pytest.raises(stripe.IdempotencyError):
        await client.v1.refunds.create_async({"charge": ch.id, "amount": 200}, options=opts)
    async with async_client() as h:
        raw = await h.post(
            sandbox.base_url + "/v1/refunds",
            data={"charge": ch.id, "amount": "100"},
            headers={"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "refund:ticket-1"},
        )
    assert raw.headers["Idempotent-Replayed"] == "true"


async def test_idempotency_in_flight_conflict(sandbox: Sandbox) -> None:
    sandbox.control("POST", "/_sandbox/latency", {"ms": 300})
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "same-key"}
    data = {"email": "new@example.com"}
    async with async_client(base_url=sandbox.base_url) as h:
        r1, r2 = await asyncio.gather(
            h.post("/v1/customers", data=data, headers=headers),
            h.post("/v1/customers", data=data, headers=headers),
        )
    assert sorted([r1.status_code, r2.status_code]) == [200, 409]
    conflict = r1 if r1.status_code == 409 else r2
    assert conflict.json()["error"]["type"] == "idempotency_error"
    assert conflict.json()["error"]["code"] == "idempotency_key_in_use"


async def test_update_customer_metadata_and_default_pm(client: stripe.StripeClient) -> None:
    cus = await client.v1.customers.update_async(
        "cus_DemoVip", {"metadata": {"tier": "gold", "user_id": ""}, "name": "Lena F."}
    )
    assert cus.metadata is not None and cus.metadata.to_dict() == {"tier": "gold"}
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.customers.update_async(
            "cus_DemoVip", {"invoice_settings": {"default_payment_method": "pm_DemoHealthyVisa"}}
        )
    pms = await client.v1.customers.payment_methods.list_async(
        "cus_DemoSepa", {"type": "sepa_debit"}
    )
    assert len(pms.data) == 1
    sepa = pms.data[0].sepa_debit
    assert sepa is not None
    assert (sepa.last4, sepa.bank_code, sepa.country) == ("2227", "37040044", "DE")


async def test_unknown_parameter(client: stripe.StripeClient) -> None:
    # An unknown parameter on purpose: the SDK's params type rightly has no room for it.
    unknown = cast(stripe.params.RefundCreateParams, {"charge": "ch_x", "colour": "blue"})
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.refunds.create_async(unknown)
    assert ei.value.code == "parameter_unknown"
    assert ei.value.param == "colour"


async def test_prices_are_created_and_listed_newest_first_page_by_page(
    client: stripe.StripeClient,
) -> None:
    created = [
        await client.v1.prices.create_async(
            {
                "currency": "EUR",
                "unit_amount": 500 + n,
                "recurring": {"interval": "month"},
                "product_data": {"name": f"Add-on {n}"},
            }
        )
        for n in range(3)
    ]
    recurring, product = created[0].recurring, created[0].product
    assert created[0].currency == "eur" and recurring and recurring.interval == "month"
    assert isinstance(product, str) and product.startswith("prod_")
    page = await client.v1.prices.list_async({"active": True, "limit": 2})
    assert [p.id for p in page.data] == [created[2].id, created[1].id] and page.has_more
    every = [p.id async for p in page.auto_paging_iter()]
    assert every[:3] == [c.id for c in reversed(created)]
    assert "price_BusinessYearly" in every
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.prices.create_async({"currency": "eur", "unit_amount": 100})
