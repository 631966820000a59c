"""Round two of a snapshot (`billing.snapshot_loader.load_snapshot`): what it asks Stripe for
besides the usual lists depends on the customer, and each answer lands where it belongs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest

from billing.snapshot_loader import load_snapshot
from gateways.stripe import StripeGateway
from gateways.stripe_models import Customer
from sandbox.stripe_api import payment_methods as pms
from tests.conftest import HTTP, STRIPE_KEY, Sandbox, stripe_post


@pytest.fixture
async def gateway(stripe_sandbox: Sandbox) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe_sandbox.url, max_network_retries=1)
    yield gateway
    await gateway.close()


def asked(sandbox: Sandbox) -> list[str]:
    return [r["path"] for r in sandbox.requests()]


def without_payment_methods_expanded(sandbox: Sandbox, customer_id: str) -> Customer:
    """The customer with its subscriptions but no payment method expanded (as a webhook carries
    it), read behind the gateway's back; the sandbox's request log starts empty after it."""
    answer = HTTP.get(
        f"{sandbox.url}/v1/customers/{customer_id}",
        params={"expand[]": "subscriptions"},
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        timeout=10,
    )
    sandbox.control("DELETE", "/_sandbox/requests")
    return msgspec.json.decode(answer.content, type=Customer)


async def test_an_ex_customer_shows_the_last_plan(
    gateway: StripeGateway, stripe_sandbox: Sandbox
) -> None:
    """Expanded `subscriptions` omit canceled ones: round two lists them, and their products."""
    customer = await gateway.retrieve_customer("cus_DemoSharedB")
    assert customer.subscriptions is not None and not customer.subscriptions.data

    snapshot = await load_snapshot(gateway, customer)

    (subscription,) = snapshot.subscriptions
    assert (subscription.id, subscription.status) == ("sub_DemoSharedB", "canceled")
    assert subscription.plan is not None and subscription.plan.product_name
    assert snapshot.next_invoice is None and snapshot.next_invoices == ()
    assert "/v1/subscriptions" in asked(stripe_sandbox)
    assert not any(p.startswith("/v1/invoices/create_preview") for p in asked(stripe_sandbox))


async def test_a_payment_method_not_expanded_is_fetched_beside_the_lists(
    gateway: StripeGateway, stripe_sandbox: Sandbox
) -> None:
    """A customer read without the payment methods expanded (as a webhook carries it): the
    subscription's own one is retrieved in round two and shown, the lists still come."""
    customer = without_payment_methods_expanded(stripe_sandbox, "cus_DemoSepa")

    snapshot = await load_snapshot(gateway, customer)

    assert snapshot.payment_method is not None
    assert (snapshot.payment_method.id, snapshot.payment_method.type) == (
        "pm_DemoSepaDebit",
        "sepa_debit",
    )
    assert snapshot.payments and snapshot.open_invoices  # the failed debit, the open invoice
    assert snapshot.next_invoice is not None
    paths = asked(stripe_sandbox)
    assert paths.count("/v1/payment_methods/pm_DemoSepaDebit") == 1
    assert {"/v1/charges", "/v1/invoices", "/v1/invoices/create_preview"} <= set(paths)


async def test_metered_usage_and_the_subscriptions_own_card_each_land_where_they_belong(
    gateway: StripeGateway, stripe_sandbox: Sandbox
) -> None:
    """A metered customer whose subscription pays with its own card, read without the payment
    methods expanded: round two fetches both the card and the usage, and shows each as itself."""
    pms.create_card(
        stripe_sandbox.state,
        "5555555555554444",
        8,
        2030,
        customer="cus_DemoUsage",
        pm_id="pm_DemoUsageMastercard",
    )
    stripe_post(
        stripe_sandbox,
        "/v1/subscriptions/sub_DemoUsage",
        {"default_payment_method": "pm_DemoUsageMastercard"},
    )
    customer = without_payment_methods_expanded(stripe_sandbox, "cus_DemoUsage")

    snapshot = await load_snapshot(gateway, customer)

    assert snapshot.payment_method is not None
    assert (snapshot.payment_method.id, snapshot.payment_method.brand) == (
        "pm_DemoUsageMastercard",
        "mastercard",
    )
    assert snapshot.usage is not None and snapshot.usage.used == 8500
    paths = asked(stripe_sandbox)
    assert paths.count("/v1/payment_methods/pm_DemoUsageMastercard") == 1
