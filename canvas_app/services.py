"""The process's long-lived collaborators, built once at start-up and passed to every edge."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from automations.intercom_gateway import IntercomGateway
from billing.catalogue import PriceCatalogue
from billing.lookup import BillingLookup
from billing.snapshot import SnapshotOptions
from billing.stripe_gateway import StripeGateway
from canvas_app.settings import Settings
from storage import Database
from storage.invalidations import PostgresInvalidations

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    stripe: StripeGateway
    billing: BillingLookup
    db: Database
    catalogue: PriceCatalogue
    intercom: IntercomGateway | None = None  # None without INTERCOM_ACCESS_TOKEN
    # Cache invalidations between instances; None on SQLite (one instance, in-process only).
    invalidations: PostgresInvalidations | None = None

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
            intercom=intercom,
            invalidations=invalidations,
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

    async def stop(self) -> None:
        if self.invalidations is not None:
            await self.invalidations.stop()
        await self.stripe.close()
        if self.intercom is not None:
            await self.intercom.close()
        await self.db.stop()
