"""Decoded reads (`StripeConnection._raw`, the answer's JSON straight into our structs) go out as
the SDK sends any call: the API key, the pinned API version, an idempotency key on a POST that a
retry repeats, and Stripe's errors come back as the domain's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import stripe

from gateways.errors import NotFound, StripeUnavailable
from gateways.stripe import StripeGateway
from tests.conftest import STRIPE_KEY, Sandbox


@pytest.fixture
async def gateway(stripe_sandbox: Sandbox) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(STRIPE_KEY, api_base=stripe_sandbox.url, max_network_retries=1)
    yield gateway
    await gateway.close()


def sent(sandbox: Sandbox, path: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests() if r["path"] == path]


async def test_a_read_carries_the_pinned_api_version(
    gateway: StripeGateway, stripe_sandbox: Sandbox
) -> None:
    customer = await gateway.retrieve_customer("cus_DemoSepa")

    assert customer.email == "buchhaltung@mueller-maschinenbau.de"
    assert customer.subscriptions is not None  # expanded, as asked
    assert [s.id for s in customer.subscriptions.data] == ["sub_DemoSepa"]
    (request,) = sent(stripe_sandbox, "/v1/customers/cus_DemoSepa")
    assert request["stripe_version"] == stripe.api_version == "2026-10-28.endive"


async def test_stripe_hears_nothing_about_earlier_requests_or_the_host(
    gateway: StripeGateway, stripe_sandbox: Sandbox
) -> None:
    """The SDK's request telemetry is off: no request carries the previous one's timing, and
    the client's description names the library, not the machine it runs on."""
    await gateway.retrieve_customer("cus_DemoSepa")
    await gateway.list_charges("cus_DemoSepa", limit=3)

    first, second = stripe_sandbox.requests()[-2:]
    assert first["telemetry"] is None and second["telemetry"] is None
    described = json.loads(second["client_user_agent"])
    assert described["lang"] == "python" and described["bindings_version"] == stripe.VERSION
    assert "platform" not in described and "telemetry_id" not in described


async def test_a_read_sent_as_post_is_retried_with_its_idempotency_key(
    gateway: StripeGateway, stripe_sandbox: Sandbox
) -> None:
    stripe_sandbox.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/invoices/create_preview", "status": 500, "count": 1},
    )

    preview = await gateway.preview_invoice(
        {"customer": "cus_DemoHealthy", "subscription": "sub_DemoHealthy"}
    )

    assert preview.amount_due == 7900 - 500 and preview.currency == "eur"  # her €5 credit
    first, retry = sent(stripe_sandbox, "/v1/invoices/create_preview")
    assert (first["status"], retry["status"]) == (500, 200)
    assert first["idempotency_key"] and first["idempotency_key"] == retry["idempotency_key"]
    assert retry["stripe_version"] == stripe.api_version


async def test_stripe_errors_come_back_as_the_domains(
    gateway: StripeGateway, stripe_sandbox: Sandbox
) -> None:
    with pytest.raises(NotFound):
        await gateway.retrieve_customer("cus_NobodyKnowsThem")

    stripe_sandbox.control(
        "POST", "/_sandbox/faults", {"path_prefix": "/v1/charges", "status": 503, "count": 2}
    )
    with pytest.raises(StripeUnavailable):
        await gateway.list_charges("cus_DemoSepa", limit=3)
    assert [r["status"] for r in sent(stripe_sandbox, "/v1/charges")] == [503, 503]  # one retry
