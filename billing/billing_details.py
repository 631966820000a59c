"""A customer's billing details (tax ids, billing address country) and the one place they can
change them: a Stripe Billing Portal session that lets them edit their address and tax ids and
nothing else.

The portal session runs on a configuration whose only enabled feature is `customer_update`
with `allowed_updates` [address, tax_id], opened on the `customer_update` flow (a deep link,
since API 2026-08-26.dahlia). The operator may name their own configuration
(`BILLING_PORTAL_CONFIGURATION`); otherwise the app finds the one it made earlier (by its
metadata) or makes it, with a fixed idempotency key so that several instances starting at once
make one, and keeps its id for the life of the process.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from billing.collection_pages import PORTAL_SESSION_REUSE, CollectionPage
from billing.errors import BillingError
from billing.money import to_datetime
from gateways.stripe import StripeGateway, in_flight_elsewhere

# How our configuration is recognised among the account's, and the key that creates it once.
# A change of the configuration below needs a new version (Stripe refuses a key reused with
# other parameters).
PORTAL_METADATA = {"managed_by": "intercom-stripe-app", "purpose": "billing_details"}
PORTAL_IDEMPOTENCY_KEY = "intercom-stripe-app-billing-details-portal-v1"
CREATE_TRIES = 3  # while another instance's create with that key is still in flight
PORTAL_CONFIGURATION = {
    "features": {
        "customer_update": {"enabled": True, "allowed_updates": ["address", "tax_id"]},
        "invoice_history": {"enabled": False},
        "payment_method_update": {"enabled": False},
        "subscription_cancel": {"enabled": False},
        "subscription_update": {"enabled": False},
    },
    "metadata": PORTAL_METADATA,
}


@dataclass(frozen=True, slots=True)
class TaxIdSummary:
    type: str  # "eu_vat", "gb_vat", ...
    value: str  # "DE123456789"
    country: str | None
    verification: str | None  # pending, verified, unverified, unavailable; None: not checked


@dataclass(frozen=True, slots=True)
class BillingDetails:
    customer_id: str
    tax_ids: tuple[TaxIdSummary, ...]
    address_country: str | None


async def load_billing_details(gateway: StripeGateway, customer_id: str) -> BillingDetails:
    """One request: the customer with its tax ids (newest first, as Stripe lists them)."""
    customer = await gateway.retrieve_customer_tax_ids(customer_id)
    tax_ids = customer.tax_ids.data if customer.tax_ids is not None else []
    return BillingDetails(
        customer_id=customer.id,
        tax_ids=tuple(
            TaxIdSummary(
                type=tax_id.type,
                value=tax_id.value,
                country=tax_id.country,
                verification=tax_id.verification.status if tax_id.verification else None,
            )
            for tax_id in tax_ids
        ),
        address_country=customer.address.country if customer.address else None,
    )


class BillingDetailsPortal:
    """Opens Billing Portal sessions in which a customer updates their address and tax ids."""

    def __init__(self, gateway: StripeGateway, configuration_id: str | None = None) -> None:
        self.gateway = gateway
        self._configuration_id = configuration_id
        self._lock = asyncio.Lock()

    async def configuration_id(self) -> str:
        """The operator's configuration, or ours: found by its metadata, else created once."""
        if self._configuration_id is not None:
            return self._configuration_id
        async with self._lock:
            if self._configuration_id is None:
                self._configuration_id = await self._ours()
            return self._configuration_id

    async def _ours(self) -> str:
        tries = CREATE_TRIES
        while True:
            for config in await self.gateway.list_portal_configurations():
                metadata = config.metadata.to_dict() if config.metadata else {}
                if all(metadata.get(k) == v for k, v in PORTAL_METADATA.items()):
                    return str(config.id)
            try:
                created = await self.gateway.create_portal_configuration(
                    PORTAL_CONFIGURATION, idempotency_key=PORTAL_IDEMPOTENCY_KEY
                )
                return str(created.id)
            except BillingError as exc:
                # Another instance is creating it with the same key right now (Stripe's 409,
                # which the SDK reports as an API error): look again in a moment.
                tries -= 1
                if not in_flight_elsewhere(exc) or tries == 0:
                    raise
                await asyncio.sleep(0.5)

    async def open(self, customer_id: str, *, return_url: str, locale: str) -> CollectionPage:
        """A portal session on the customer-update flow; the customer returns to `return_url`.
        Reusable for a few minutes, like the payment links' portal sessions."""
        session = await self.gateway.create_portal_session(
            {
                "customer": customer_id,
                "configuration": await self.configuration_id(),
                "return_url": return_url,
                "locale": locale,
                "flow_data": {
                    "type": "customer_update",
                    "after_completion": {
                        "type": "redirect",
                        "redirect": {"return_url": return_url},
                    },
                },
            }
        )
        created = to_datetime(session.created) or datetime.now(UTC)
        return CollectionPage(str(session.url), session.id, created + PORTAL_SESSION_REUSE)
