"""The Stripe side of an option the customer confirmed: whether the subscription as it is now
still takes it (`standing_of`), and the one Stripe call that makes the change."""

from __future__ import annotations

from typing import Any

from billing.cancellation_offers import PAUSE_BEHAVIOR, Offer
from billing.errors import StripeRejected
from billing.quotes import apply_plan_change
from billing.snapshot import LIVE_STATUSES
from gateways.stripe import StripeGateway


class OfferNotApplicable(Exception):
    """An option without what it needs (a pause without its date): a token we did not sign."""


async def change_subscription(gateway: StripeGateway, offer: Offer, *, idempotency_key: str) -> str:
    """The one Stripe call of the option; the id of what it changed."""
    sub_id = offer.subscription_id
    if offer.option == "cancel_now":
        ended = await gateway.cancel_subscription(sub_id, {}, idempotency_key=idempotency_key)
        return ended.id
    if offer.option == "plan_switch" and offer.quote is not None:
        # As the savings card applies a quote: the quoted proration date, a pending update.
        updated = await apply_plan_change(gateway, offer.quote, idempotency_key=idempotency_key)
        if getattr(updated, "pending_update", None):
            raise StripeRejected("The payment for the plan change failed.", code="payment_failed")
        return updated.id
    updated = await gateway.update_subscription(
        sub_id, update_params(offer), idempotency_key=idempotency_key
    )
    return updated.id


def update_params(offer: Offer) -> dict[str, Any]:
    if offer.option == "cancel_at_period_end":
        return {"cancel_at_period_end": True}
    if offer.option == "pause" and offer.resumes_at is not None:
        resumes_at = int(offer.resumes_at.timestamp())
        return {"pause_collection": {"behavior": PAUSE_BEHAVIOR, "resumes_at": resumes_at}}
    if offer.option == "coupon" and offer.coupon is not None:
        return {"discounts": [{"coupon": offer.coupon.id}]}
    if offer.option == "resume":
        # Stripe: an empty pause_collection resumes collection now.
        return {"cancel_at_period_end": False, "pause_collection": ""}
    raise OfferNotApplicable(offer.option)


def standing_of(sub: Any, offer: Offer) -> str | None:
    """What the subscription as it is now (the SDK's object) says about executing `offer`: None
    (go ahead), "already" (it is so already: nothing to send), or why the offer no longer
    applies."""
    if sub.status not in LIVE_STATUSES:
        return "ended"
    option = offer.option
    pending = bool(sub.cancel_at_period_end)
    paused = sub.pause_collection is not None
    if option == "cancel_at_period_end":
        return "already" if pending else None
    if option == "resume":
        return None if pending or paused else "already"
    if option == "cancel_now":
        return None
    if pending:
        return "cancellation_pending"
    if option == "pause":
        return "paused" if paused else None
    if option == "coupon":
        return "discounted" if sub.discounts else None
    if option == "plan_switch" and offer.quote is not None:
        item = next((i for i in sub["items"].data if i.id == offer.quote.item_id), None)
        if item is not None and item.price.id == offer.quote.target.price_id:
            return "already"
        if item is None or item.price.id != offer.quote.current.price_id:
            return "plan_changed"
        return None
    return "unknown_option"
