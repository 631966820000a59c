"""Fixtures: a freshly seeded sandbox Stripe served over real HTTP, and an SDK client on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import stripe

from sandbox.stripe_api import StripeState, create_stripe_app, serve_in_thread
from sandbox.stripe_api.seed import fresh_demo_world
from tests.http import HTTP

API_KEY = "sk_test_sandbox_abcd"


@dataclass
class Sandbox:
    """A running sandbox: its state, base URL and a control-API helper."""

    state: StripeState
    base_url: str

    def client(self, *, retries: int = 0, api_key: str = API_KEY) -> stripe.StripeClient:
        """An async-capable SDK client pointed at the sandbox."""
        return stripe.StripeClient(
            api_key,
            base_addresses={"api": self.base_url},
            http_client=stripe.HTTPXClient(),
            max_network_retries=retries,
        )

    def control(self, method: str, path: str, json: dict | None = None) -> dict:
        """Call the unauthenticated ``/_sandbox`` API synchronously."""
        r = HTTP.request(method, self.base_url + path, json=json, timeout=10)
        r.raise_for_status()
        return r.json()


def is_proration(line: stripe.InvoiceLineItem) -> bool:
    """Whether an invoice line for a subscription item is a proration."""
    assert line.parent is not None and line.parent.subscription_item_details is not None
    return line.parent.subscription_item_details.proration


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    state = StripeState(webhook_retry_delays=(0.2, 0.4))
    fresh_demo_world(state)
    base, stop = serve_in_thread(create_stripe_app(state, api_key=API_KEY))
    state.public_base_url = base
    try:
        yield Sandbox(state, base)
    finally:
        stop()


@pytest.fixture
def client(sandbox: Sandbox) -> stripe.StripeClient:
    return sandbox.client()
