"""The snapshot cache in front of Stripe: coalescing, invalidation, callers that give up."""

from __future__ import annotations

import asyncio

import pytest

from billing.lookup import BillingLookup
from billing.resolution import ContactIdentity
from gateways.stripe import StripeGateway
from tests.conftest import STRIPE_KEY

ANNA = ContactIdentity(stripe_id="cus_DemoHealthy")


@pytest.fixture
async def lookup(stripe_sandbox):
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe_sandbox.url, max_network_retries=0)
    yield BillingLookup(gateway, ttl_seconds=30)
    await gateway.close()


def stripe_calls(sandbox) -> int:
    return len([r for r in sandbox.requests() if r["path"].startswith("/v1/")])


async def test_concurrent_renders_of_one_customer_share_one_load(lookup, stripe_sandbox):
    stripe_sandbox.control("POST", "/_sandbox/latency", {"ms": 50})
    first = await lookup.customer_snapshot("cus_DemoHealthy")
    stripe_sandbox.control("DELETE", "/_sandbox/requests")
    lookup.clear()
    results = await asyncio.gather(*(lookup.customer_snapshot("cus_DemoHealthy") for _ in range(8)))
    assert {r.customer.id for r in results} == {"cus_DemoHealthy"}
    assert stripe_calls(stripe_sandbox) == stripe_calls_for_one(first)


def stripe_calls_for_one(snapshot) -> int:
    # retrieve + charges + open invoices + product(s) + preview + lifetime value (paid invoices
    # and charges, one page each): what one load costs once the caches are cleared.
    return 1 + 2 + len({p.product_id for s in snapshot.subscriptions for p in s.plans}) + 1 + 2


async def test_invalidation_during_a_load_is_not_undone_by_it(lookup, stripe_sandbox):
    stripe_sandbox.control("POST", "/_sandbox/latency", {"ms": 150})
    loading = asyncio.ensure_future(lookup.customer_snapshot("cus_DemoHealthy"))
    await asyncio.sleep(0.1)
    lookup.invalidate("cus_DemoHealthy")  # a webhook arrives while the load runs
    await loading
    stripe_sandbox.control("DELETE", "/_sandbox/requests")
    await lookup.customer_snapshot("cus_DemoHealthy")
    assert stripe_calls(stripe_sandbox) > 0, "the pre-webhook load was cached after invalidate"


async def test_a_load_started_after_invalidation_does_not_join_an_older_one(lookup, stripe_sandbox):
    stripe_sandbox.control("POST", "/_sandbox/latency", {"ms": 150})
    old = asyncio.ensure_future(lookup.customer_snapshot("cus_DemoHealthy"))
    await asyncio.sleep(0.05)
    lookup.invalidate("cus_DemoHealthy")
    stripe_sandbox.control("DELETE", "/_sandbox/requests")
    await lookup.customer_snapshot("cus_DemoHealthy", fresh=True)
    await old
    # The fresh load read the customer again instead of waiting for the stale one.
    assert any(r["path"] == "/v1/customers/cus_DemoHealthy" for r in stripe_sandbox.requests())


async def test_a_caller_giving_up_does_not_break_the_others(lookup, stripe_sandbox):
    stripe_sandbox.control("POST", "/_sandbox/latency", {"ms": 150})

    async def impatient():
        async with asyncio.timeout(0.05):
            await lookup.customer_snapshot("cus_DemoHealthy")

    patient = asyncio.ensure_future(lookup.customer_snapshot("cus_DemoHealthy"))
    with pytest.raises(TimeoutError):
        await impatient()
    snapshot = await patient
    assert snapshot.customer.id == "cus_DemoHealthy"


async def test_resolution_is_cached_and_dropped_with_the_customer(lookup, stripe_sandbox):
    await lookup.resolve(ANNA)
    stripe_sandbox.control("DELETE", "/_sandbox/requests")
    await lookup.resolve(ANNA)
    assert stripe_calls(stripe_sandbox) == 0
    lookup.invalidate("cus_DemoHealthy")
    await lookup.resolve(ANNA)
    assert stripe_calls(stripe_sandbox) == 1
