"""The snapshot cache in front of Stripe: coalescing, invalidation, callers that give up, and
the remembered match of a contact."""

from __future__ import annotations

import asyncio

import pytest

from billing.errors import AmbiguousCustomer
from billing.lookup import BillingLookup
from billing.resolution import ContactIdentity
from gateways.stripe import StripeGateway
from tests.conftest import STRIPE_KEY, stripe_post

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


# --- the remembered match: which customer a contact resolved to, confirmed by one retrieve ---

MUELLER = ContactIdentity(email="buchhaltung@mueller-maschinenbau.de", external_id="usr_mueller")
ANNA_BY_EMAIL = ContactIdentity(email="anna@example.com")  # no user id: the email is all there is
FULL = ["/v1/customers", "/v1/customers/search"]  # a full resolution: exact list and search


@pytest.fixture
async def uncached(stripe_sandbox):
    """A lookup with the snapshot (and full resolution) cache off, as the bench's cold app."""
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe_sandbox.url, max_network_retries=0)
    yield BillingLookup(gateway, ttl_seconds=0)
    await gateway.close()


def stripe_paths(sandbox) -> list[str]:
    return [r["path"] for r in sandbox.requests() if r["path"].startswith("/v1/")]


async def resolve_counting(lookup, sandbox, identity, **options):
    """The resolution and the Stripe paths it asked for."""
    sandbox.control("DELETE", "/_sandbox/requests")
    resolution = await lookup.resolve(identity, **options)
    return resolution, stripe_paths(sandbox)


@pytest.mark.parametrize(
    ("identity", "matched_by"), [(MUELLER, "user_id"), (ANNA_BY_EMAIL, "email")]
)
async def test_a_remembered_match_costs_one_retrieve_instead_of_a_list_and_a_search(
    uncached, stripe_sandbox, identity, matched_by
):
    first, paths = await resolve_counting(uncached, stripe_sandbox, identity, remembered=True)
    assert first.matched_by == matched_by and len(first.customers) == 1
    assert sorted(paths) == FULL

    again, paths = await resolve_counting(uncached, stripe_sandbox, identity, remembered=True)
    customer_id = first.customers[0].id
    assert paths == [f"/v1/customers/{customer_id}"]
    assert again.matched_by == matched_by
    assert [c.id for c in again.customers] == [customer_id]
    # Retrieved afresh, expanded as a full resolution's: the snapshot needs its subscriptions.
    assert again.customers[0].subscriptions is not None


async def test_only_reads_that_ask_for_it_take_a_remembered_match(uncached, stripe_sandbox):
    await uncached.resolve(MUELLER, remembered=True)
    # The Messenger (it mints payment links) and money paths resolve in full.
    _, paths = await resolve_counting(uncached, stripe_sandbox, MUELLER)
    assert sorted(paths) == FULL
    _, paths = await resolve_counting(
        uncached, stripe_sandbox, MUELLER, fresh=True, remembered=True
    )
    assert sorted(paths) == FULL


@pytest.mark.parametrize(
    "identity",
    [
        # Matched by email although it has a user id: a customer given that user id later
        # would be the match, so the email match is not remembered.
        ContactIdentity(email="buchhaltung@mueller-maschinenbau.de", external_id="usr_new"),
        # Matched case-insensitively: a customer with exactly this email would win.
        ContactIdentity(email="LENA@fischer-digital.example"),
        # Several customers: the agent chooses among them, as found each time.
        ContactIdentity(email="shared@agency.example"),
    ],
)
async def test_a_match_a_new_customer_could_displace_is_not_remembered(
    uncached, stripe_sandbox, identity
):
    first = await uncached.resolve(identity, remembered=True)
    assert first.found
    _, paths = await resolve_counting(uncached, stripe_sandbox, identity, remembered=True)
    assert sorted(paths) == FULL


async def test_a_new_customer_with_the_user_id_wins_over_an_email_match(uncached, stripe_sandbox):
    identity = ContactIdentity(email="buchhaltung@mueller-maschinenbau.de", external_id="usr_new")
    assert (await uncached.resolve(identity, remembered=True)).matched_by == "email"
    new = stripe_post(stripe_sandbox, "/v1/customers", {"metadata[user_id]": "usr_new"})["id"]

    resolution = await uncached.resolve(identity, remembered=True)

    assert resolution.matched_by == "user_id"
    assert [c.id for c in resolution.customers] == [new]


async def test_a_remembered_customer_that_no_longer_matches_is_resolved_again(
    uncached, stripe_sandbox
):
    first = await uncached.resolve(MUELLER, remembered=True)
    customer_id = first.customers[0].id
    # Someone moves the user id to another customer in Stripe.
    stripe_post(stripe_sandbox, f"/v1/customers/{customer_id}", {"metadata[user_id]": "usr_other"})
    other = stripe_post(
        stripe_sandbox,
        "/v1/customers",
        {"email": "einkauf@mueller.example", "metadata[user_id]": "usr_mueller"},
    )["id"]

    again, paths = await resolve_counting(uncached, stripe_sandbox, MUELLER, remembered=True)

    assert [c.id for c in again.customers] == [other]
    assert again.matched_by == "user_id"
    assert paths[0] == f"/v1/customers/{customer_id}"  # the remembered one, checked first
    assert sorted(paths[1:]) == FULL


async def test_a_remembered_customer_that_is_gone_is_resolved_again(uncached, stripe_sandbox):
    first = await uncached.resolve(ANNA_BY_EMAIL, remembered=True)
    customer_id = first.customers[0].id
    stripe_sandbox.state.forget(customer_id)  # deleted in Stripe: 404 from now on

    again, paths = await resolve_counting(uncached, stripe_sandbox, ANNA_BY_EMAIL, remembered=True)

    assert not again.found
    assert paths[0] == f"/v1/customers/{customer_id}"
    assert sorted(paths[1:]) == FULL


async def test_fresh_resolves_in_full_and_sees_a_customer_created_since(uncached, stripe_sandbox):
    first = await uncached.resolve(ANNA_BY_EMAIL, remembered=True)
    assert first.matched_by == "email" and len(first.customers) == 1
    stripe_post(stripe_sandbox, "/v1/customers", {"email": "anna@example.com", "name": "Anna 2"})
    # A remembered read still sees the one customer (until the memory expires) ...
    assert len((await uncached.resolve(ANNA_BY_EMAIL, remembered=True)).customers) == 1
    # ... but a full resolution finds both, and money refuses to move.
    full = await uncached.resolve(ANNA_BY_EMAIL)
    assert len(full.customers) == 2
    with pytest.raises(AmbiguousCustomer):
        full.require_one(for_money=True)


async def test_the_memory_expires(stripe_sandbox):
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe_sandbox.url, max_network_retries=0)
    try:
        lookup = BillingLookup(gateway, ttl_seconds=0, match_ttl=0.2)
        await lookup.resolve(MUELLER, remembered=True)
        await asyncio.sleep(0.3)
        _, paths = await resolve_counting(lookup, stripe_sandbox, MUELLER, remembered=True)
        assert sorted(paths) == FULL
    finally:
        await gateway.close()


async def test_a_full_resolution_is_not_overwritten_by_an_older_one(lookup, stripe_sandbox):
    """A resolution that started before a fresh one and ends after it must not replace it in
    the cache (the fresh one may know of a customer created in between)."""
    stripe_sandbox.control("POST", "/_sandbox/latency", {"ms": 150})
    older = asyncio.ensure_future(lookup.resolve(ANNA_BY_EMAIL))
    await asyncio.sleep(0.05)
    stripe_post(stripe_sandbox, "/v1/customers", {"email": "anna@example.com", "name": "Anna 2"})
    stripe_sandbox.control("POST", "/_sandbox/latency", {"ms": 0})
    fresh = await lookup.resolve(ANNA_BY_EMAIL, fresh=True)
    await older
    assert len(fresh.customers) == 2
    assert len((await lookup.resolve(ANNA_BY_EMAIL)).customers) == 2
