"""The process's long-lived collaborators, built once at start-up and passed to every edge."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from billing.billing_details import BillingDetailsPortal
from billing.cancellation import CancellationService
from billing.cancellation_tokens import CancellationTokens
from billing.catalogue import PriceCatalogue
from billing.errors import BillingError
from billing.lookup import BillingLookup
from billing.refund_policy import RefundPolicy
from billing.refund_tokens import RefundTokens
from billing.refunds import RefundService
from billing.savings import CataloguePrice, catalogue_from_prices
from billing.snapshot_loader import SnapshotOptions
from gateways.intercom import IntercomGateway
from gateways.stripe import StripeGateway
from kernel.logs import frames_only
from kernel.settings import Settings
from storage import Database
from storage.actions import ActionStore
from storage.invalidations import PostgresInvalidations

log = logging.getLogger(__name__)
T = TypeVar("T")
# How long shutdown waits for work that outlived its request (a payment Stripe is making).
BACKGROUND_DRAIN_SECONDS = 30.0


@dataclass
class Services:
    settings: Settings
    stripe: StripeGateway
    billing: BillingLookup
    db: Database
    catalogue: PriceCatalogue
    # Where customers update their address and tax ids (the configuration id, kept once known).
    billing_portal: BillingDetailsPortal
    intercom: IntercomGateway | None = None  # None without INTERCOM_ACCESS_TOKEN
    # Cache invalidations between instances; None on SQLite (one instance, in-process only).
    invalidations: PostgresInvalidations | None = None
    # Work that must finish even if the request that started it has been answered.
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        stripe = StripeGateway(
            settings.stripe_api_key.get_secret_value(),
            api_base=settings.stripe_api_base,
            timeout_seconds=settings.stripe_timeout_seconds,
            max_network_retries=settings.stripe_max_network_retries,
        )
        db = Database(settings.database_url)
        invalidations = (
            None
            if db.is_sqlite
            else PostgresInvalidations(db, forget_after=settings.snapshot_cache_seconds)
        )
        billing = BillingLookup(
            stripe,
            bus=invalidations,
            max_age_offline=settings.snapshot_cache_offline_seconds,
            ttl_seconds=settings.snapshot_cache_seconds,
            lifetime_value_ttl=settings.lifetime_value_cache_seconds,
            match_ttl=settings.match_cache_seconds,
            user_id_key=settings.user_id_metadata_key,
            options=SnapshotOptions(
                usage_limit_key=settings.usage_limit_metadata_key,
                usage_meter_key=settings.usage_meter_metadata_key,
            ),
        )
        token = settings.intercom_access_token.get_secret_value()
        intercom = (
            IntercomGateway(base_url=settings.intercom_base_url, token=token) if token else None
        )
        return cls(
            settings=settings,
            stripe=stripe,
            billing=billing,
            db=db,
            catalogue=PriceCatalogue(stripe),
            billing_portal=BillingDetailsPortal(stripe, settings.billing_portal_configuration),
            intercom=intercom,
            invalidations=invalidations,
        )

    async def savings_catalogue(self) -> tuple[CataloguePrice, ...]:
        """The savings view of the process's cached price catalogue."""
        return catalogue_from_prices(
            await self.catalogue.prices(), usage_limit_key=self.settings.usage_limit_metadata_key
        )

    def refunds(self, channel: Literal["fin", "inbox"]) -> RefundService:
        """Refunds as `channel` may make them. Fin: the full policy, including the per-customer
        count. The inbox: the same without the count (an agent decides), with its own tokens.
        A duplicate execution waits for the one that owns the token as long as that one may
        spend on Stripe (with the SDK's retries), within the asker's patience (Fin's 12 s, the
        sidebar's render budget)."""
        settings = self.settings
        stripe_budget = settings.stripe_timeout_seconds * (settings.stripe_max_network_retries + 1)
        return RefundService(
            gateway=self.stripe,
            store=ActionStore(self.db),
            signer=RefundTokens(settings.secret_key.get_secret_value(), kind=f"{channel}-refund"),
            policy=RefundPolicy(
                max_amount=settings.refund_max_amount,
                max_age_days=settings.refund_max_age_days,
                max_per_customer=settings.refund_max_per_customer if channel == "fin" else None,
                window_days=settings.refund_window_days,
            ),
            token_seconds=settings.confirmation_token_seconds,
            wait_seconds=min(stripe_budget + 2.0, 12.0 if channel == "fin" else 6.0),
        )

    def cancellations(self, channel: Literal["fin", "messenger", "inbox"]) -> CancellationService:
        """Cancel or save as `channel` offers it, with its own confirmation tokens. A duplicate
        confirmation waits for the one executing as long as the asker's patience allows."""
        settings = self.settings
        stripe_budget = settings.stripe_timeout_seconds * (settings.stripe_max_network_retries + 1)
        return CancellationService(
            gateway=self.stripe,
            store=ActionStore(self.db),
            catalogue=self.catalogue,
            signer=CancellationTokens(
                settings.secret_key.get_secret_value(), kind=f"{channel}-cancellation"
            ),
            retention_coupon=settings.retention_coupon.strip(),
            pause_months=settings.cancel_pause_months,
            token_seconds=settings.confirmation_token_seconds,
            wait_seconds=min(stripe_budget + 2.0, 12.0 if channel == "fin" else 6.0),
        )

    async def start(self) -> None:
        await self.db.start()
        if self.invalidations is not None:
            await self.invalidations.start()
        else:
            log.info(
                "SQLite: cache invalidation stays within this process; several instances or "
                "uvicorn --workers need DATABASE_URL=postgresql://… (see README)"
            )

    def hold(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `work` as a task the process keeps until it ends (the event loop only holds weak
        references), so an answer that could not wait for it does not stop it."""
        task = asyncio.ensure_future(work)
        self.background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            if isinstance(exc, BillingError):
                return  # a named outcome (refused, not found, ...): whoever awaited it answers it
            log.error("background work failed with %s\n%s", type(exc).__name__, frames_only(exc))

    async def stop(self) -> None:
        if self.invalidations is not None:
            await self.invalidations.stop()
        if self.background:
            await asyncio.wait(set(self.background), timeout=BACKGROUND_DRAIN_SECONDS)
        await self.stripe.close()
        if self.intercom is not None:
            await self.intercom.close()
        await self.db.stop()
