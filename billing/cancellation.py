"""Cancel or save, for one subscription, shared by the Messenger's `cancel` card, Fin and the
sidebar.

Two steps, like refunds. `preview` says what cancelling means (access until the period end) and
what the customer may choose instead, each option with Stripe's exact amounts
(`billing.cancellation_offers`) and a signed, short-lived confirmation token bound to customer,
subscription, option and amounts (`billing.cancellation_tokens`). `execute` spends a token at
most once: it is claimed in the database before Stripe is called (`storage.actions`), the Stripe
request carries an idempotency key derived from the token, the attempt is in the audit trail
(action `cancellation`, reason the option; a resume is a `subscription_update`), and racing or
repeated confirmations answer with the first result.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from billing.cancellation_changes import change_subscription, standing_of
from billing.cancellation_offers import (
    OPTIONS,
    Offer,
    Option,
    available_options,
    cancel_offer,
    coupon_offer,
    pause_offers,
    plan_offer,
)
from billing.cancellation_tokens import (
    CancellationGrant,
    CancellationTokens,
    offer_from_data,
    offer_to_data,
)
from billing.catalogue import PriceCatalogue
from billing.confirmation_tokens import ConfirmationTokenExpired, InvalidConfirmationToken
from billing.errors import BillingError, NotFound, StripeRejected, StripeUnavailable
from billing.quotes import NoSubscription
from billing.snapshot import BillingSnapshot, SubscriptionSummary
from billing.subscription_choice import SubscriptionNotFound, SubscriptionRequired
from gateways.stripe import StripeGateway, gather_all
from storage.actions import ActionStore, Actor, Attempt

log = logging.getLogger(__name__)

CANCELLATION_ACTION = "cancellation"  # what reporting.report counts
RESUME_ACTION = "subscription_update"
# Stripe keeps idempotency keys for at least 24 hours; an execution that neither finished nor
# failed within the lease died with its process (the key still protects the subscription).
RETRY_WINDOW = timedelta(hours=23)
EXECUTION_LEASE = timedelta(minutes=2)


class OfferNotAvailable(BillingError):
    """The subscription changed since the offer was made (ended, paused, discounted, another
    plan): nothing was changed; preview again."""

    code = "offer_not_available"


class CancellationInProgress(BillingError):
    """Another request is executing this confirmation token right now."""

    code = "cancellation_in_progress"


@dataclass(frozen=True, slots=True)
class SignedOffer:
    offer: Offer
    token: str


@dataclass(frozen=True, slots=True)
class CancellationPreview:
    customer_id: str
    subscription: SubscriptionSummary
    ends_at: datetime | None  # access until then when cancelled at the period end
    offers: tuple[SignedOffer, ...]
    expires_at: datetime

    def offer(self, option: Option, months: int | None = None) -> SignedOffer | None:
        return next(
            (
                o
                for o in self.offers
                if o.offer.option == option and (months is None or o.offer.months == months)
            ),
            None,
        )


@dataclass(frozen=True, slots=True)
class CancellationResult:
    """What was done (`already`: the subscription was so already; nothing was sent to Stripe),
    or our first answer to this token when `replayed`."""

    offer: Offer
    customer_id: str
    already: bool = False
    replayed: bool = False

    def as_record(self) -> dict[str, Any]:
        return {
            "outcome": "done",
            "customer_id": self.customer_id,
            "already": self.already,
            "offer": offer_to_data(self.offer),
        }


def live_subscriptions(snapshot: BillingSnapshot) -> tuple[SubscriptionSummary, ...]:
    return tuple(s for s in snapshot.subscriptions if s.live)


def choose_subscription(
    snapshot: BillingSnapshot, subscription_id: str | None
) -> SubscriptionSummary:
    """The subscription named (one of the customer's), or the only live one."""
    if subscription_id:
        chosen = next((s for s in snapshot.subscriptions if s.id == subscription_id), None)
        if chosen is None:
            raise SubscriptionNotFound("No such subscription for this customer.")
        return chosen
    live = live_subscriptions(snapshot)
    if not live:
        raise NoSubscription("There is no active subscription to cancel.")
    if len(live) > 1:
        raise SubscriptionRequired(sorted(live, key=lambda s: s.add_on))
    return live[0]


class CancellationService:
    """Preview and execute cancel-or-save options for one surface (Fin, the Messenger or the
    inbox: the tokens of each are apart)."""

    def __init__(
        self,
        *,
        gateway: StripeGateway,
        store: ActionStore,
        catalogue: PriceCatalogue,
        signer: CancellationTokens,
        retention_coupon: str,
        pause_months: int,
        token_seconds: int,
        wait_seconds: float,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.catalogue = catalogue
        self.signer = signer
        self.retention_coupon = retention_coupon
        self.pause_months = pause_months
        self.token_seconds = token_seconds
        self.wait_seconds = wait_seconds

    # --- step 1 ---
    async def preview(
        self,
        snapshot: BillingSnapshot,
        *,
        actor: Actor,
        subscription_id: str | None = None,
        options: Collection[Option] = OPTIONS,
    ) -> CancellationPreview:
        """The options among `options` that apply to the subscription now, priced by Stripe and
        each with a confirmation token. `snapshot` should be fresh: offers follow its state."""
        sub = choose_subscription(snapshot, subscription_id)
        if not sub.live:
            raise NoSubscription("The subscription has ended already.")
        customer_id = snapshot.customer.id
        now = datetime.now(UTC)
        wanted = [o for o in available_options(sub) if o in options]
        offers: list[Offer] = []
        prices = await self.catalogue.prices() if "plan_switch" in wanted else []
        pending: list[Any] = []
        if "coupon" in wanted and self.retention_coupon:
            pending.append(coupon_offer(self.gateway, sub, self.retention_coupon))
        if "plan_switch" in wanted:
            pending.append(plan_offer(self.gateway, customer_id, sub, prices))
        priced = await gather_all(*pending)
        if "pause" in wanted:
            offers += pause_offers(sub, self.pause_months, now)
        offers += [o for o in priced if o is not None]
        offers += [
            cancel_offer(sub, option, now)
            for option in ("cancel_at_period_end", "cancel_now", "resume")
            if option in wanted
        ]
        signed = tuple(SignedOffer(o, self._sign(customer_id, o, actor)) for o in offers)
        return CancellationPreview(
            customer_id,
            sub,
            ends_at=sub.current_period_end,
            offers=signed,
            expires_at=(now + timedelta(seconds=self.token_seconds)).replace(microsecond=0),
        )

    def _sign(self, customer_id: str, offer: Offer, actor: Actor) -> str:
        grant = CancellationGrant(secrets.token_urlsafe(16), customer_id, offer, actor)
        return self.signer.issue(grant)

    def read(self, token: str) -> CancellationGrant:
        """The grant of a token still within its lifetime (for a confirm step to show it)."""
        return self.signer.read(token, max_age_seconds=self.token_seconds)

    # --- step 2 ---
    async def execute(self, token: str, *, customer_id: str) -> CancellationResult:
        """Do what the token grants, at most once. Replays (and duplicates that raced this one)
        get the first result with `replayed=True`; Stripe's refusal is raised, the same each
        time; `StripeUnavailable` means nothing is known to have happened and the same token may
        be sent again."""
        grant = self.signer.read(token)
        if grant.customer_id != customer_id:
            raise InvalidConfirmationToken("The confirmation token is for another customer.")
        key = f"{self.signer.kind}:{grant.token_id}"
        existing = await self.store.get(key)
        if existing is None or existing.status != "done":
            # Only a settled token outlives its lifetime, answering with its result.
            self.signer.read(token, max_age_seconds=self.token_seconds)
        claim = await self.store.claim(
            key, self.signer.kind, lease=EXECUTION_LEASE, retry_failed_within=RETRY_WINDOW
        )
        if not claim.owned:
            held = await self.store.wait_until_settled(key, within=self.wait_seconds)
            if held is None or not held.settled:
                raise CancellationInProgress()
            if held.status != "done":
                if held.claimed_at < datetime.now(UTC) - RETRY_WINDOW:
                    raise ConfirmationTokenExpired()
                raise StripeUnavailable("An earlier attempt with this token did not finish.")
            return _replay(held.result or {})
        offer = grant.offer
        attempt = Attempt(
            actor=grant.actor,
            action=RESUME_ACTION if offer.option == "resume" else CANCELLATION_ACTION,
            customer_id=customer_id,
            object_id=offer.subscription_id,
            amount=offer.new_price.amount if offer.new_price else None,
            currency=offer.new_price.currency if offer.new_price else None,
            reason=offer.option,
            token_id=grant.token_id,
        )
        try:
            current = await self.gateway.retrieve_subscription(offer.subscription_id)
        except NotFound:
            await self.store.release(key, refused=attempt)
            raise OfferNotAvailable() from None
        except BaseException:
            await asyncio.shield(self.store.release(key))
            raise
        owner = current.customer if isinstance(current.customer, str) else current.customer.id
        if owner != customer_id:
            await self.store.release(key)
            raise InvalidConfirmationToken("The subscription is another customer's.")
        standing = standing_of(current, offer)
        if standing == "already":
            result = CancellationResult(offer, customer_id, already=True)
            await self.store.complete(key, result.as_record())
            return result
        if standing is not None:
            await self.store.release(key, refused=attempt)
            log.info("cancellation %s of %s: %s", offer.option, offer.subscription_id, standing)
            raise OfferNotAvailable()
        slot = await self.store.begin(attempt)
        try:
            stripe_id = await change_subscription(self.gateway, offer, idempotency_key=key)
        except StripeRejected as exc:
            await self.store.settle(
                key,
                slot.entry_id,
                "refused",
                result={"outcome": "rejected", "code": exc.code},
                error_code=exc.code,
            )
            raise
        except BaseException as exc:
            # Stripe unavailable, a bug, or cancellation: whether Stripe changed the subscription
            # is unknown; a retry of the token sends the same idempotency key.
            code = exc.code if isinstance(exc, BillingError) else type(exc).__name__
            await asyncio.shield(self.store.fail(key, {"outcome": "unknown"}))
            await asyncio.shield(self.store.finish(slot.entry_id, "failed", error_code=code))
            raise
        result = CancellationResult(offer, customer_id)
        await self.store.settle(
            key, slot.entry_id, "succeeded", result=result.as_record(), stripe_id=stripe_id
        )
        log.info(
            "cancellation %s of %s for %s by %s",
            offer.option,
            offer.subscription_id,
            customer_id,
            grant.actor.label,
        )
        return result


def _replay(record: dict[str, Any]) -> CancellationResult:
    if record.get("outcome") == "done":
        return CancellationResult(
            offer_from_data(record["offer"]),
            str(record["customer_id"]),
            already=bool(record.get("already")),
            replayed=True,
        )
    raise StripeRejected("Stripe refused this change.", code=record.get("code") or "rejected")
