"""Customer resolution puts what a contact typed into Stripe search queries: each value is quoted
and escaped per Stripe's Search Query Language (quotes and backslashes inside `'...'`), so a
hostile email or user id finds exactly the customer who has it, and never widens the search to
someone else."""

from __future__ import annotations

import pytest

from billing.resolution import ContactIdentity, resolve_customer
from gateways.stripe import StripeGateway, quote_search_value
from tests.conftest import STRIPE_KEY, stripe_post

# Quotes, backslashes, keywords and operators that would change a query if pasted raw.
HOSTILE = [
    "o'brien@example.com",
    "a'b'c@example.com",
    "back\\slash@example.com",
    "ends-in-backslash\\@example.com",
    "escaped\\'quote@example.com",
    "x' OR email~'example.com",
    "y' OR -email:'nobody@example.com",
    "anna@example.com' OR email:'lena@fischer-digital.example",
    "z'] OR metadata['user_id']:'usr_anna",
    '"double"@example.com',
    "w AND email:'shared@agency.example",
    "ünïcode'é@exämple.com",
    "\\' OR created>0 OR email:'\\@example.com",
]
DEMO_CUSTOMERS = {
    "cus_DemoHealthy",
    "cus_DemoSepa",
    "cus_DemoTrial",
    "cus_DemoVip",
    "cus_DemoUsage",
    "cus_DemoSharedA",
    "cus_DemoSharedB",
}


@pytest.fixture
async def gateway(stripe_sandbox):
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe_sandbox.url, max_network_retries=0)
    yield gateway
    await gateway.close()


def create_customer(sandbox, **fields: str) -> str:
    return stripe_post(sandbox, "/v1/customers", fields)["id"]


def test_quoting_escapes_backslashes_then_quotes():
    assert quote_search_value("o'brien") == "'o\\'brien'"
    assert quote_search_value("a\\b") == "'a\\\\b'"
    assert quote_search_value("\\'") == "'\\\\\\''"


async def test_hostile_emails_and_user_ids_find_exactly_their_own_customer(stripe_sandbox, gateway):
    owners = {
        value: create_customer(stripe_sandbox, email=value, **{"metadata[user_id]": value})
        for value in HOSTILE
    }

    for value, owner in owners.items():
        # Another case than stored: only the (case-insensitive) search can find it.
        by_email = await resolve_customer(gateway, ContactIdentity(email=value.upper()))
        by_user_id = await resolve_customer(gateway, ContactIdentity(external_id=value))

        assert [c.id for c in by_email.customers] == [owner], value
        assert by_email.matched_by == "email_ci"
        assert [c.id for c in by_user_id.customers] == [owner], value
        assert by_user_id.matched_by == "user_id"


async def test_a_hostile_value_nobody_has_matches_nobody(stripe_sandbox, gateway):
    for value in HOSTILE:
        found = await resolve_customer(gateway, ContactIdentity(email=value, external_id=value))
        assert not found.found, (value, [c.id for c in found.customers])
        assert not {c.id for c in found.customers} & DEMO_CUSTOMERS
