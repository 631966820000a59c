"""The cancellation watch (issue 14): a subscription set to cancel at the period end tags the
contact `Cancellation-Pending` and tracks `stripe-cancellation-scheduled` once per scheduling;
when no live subscription is set to cancel any more (resumed, or ended), the tag goes.

Pure, like the other recipes: decided from the snapshot read fresh from Stripe, so a late or
repeated `customer.subscription.updated` restates the present. Once per change: the event's
once-key names the subscription and when cancelling was asked for (Stripe's `canceled_at`), so
cancelling, resuming and cancelling again tracks two events, a redelivery none.
"""

from __future__ import annotations

from automations.facts import AddTag, Effect, RemoveTag, TrackEvent, event_metadata
from billing.snapshot import BillingSnapshot

CANCELLATION_PENDING_TAG = "Cancellation-Pending"
CANCELLATION_SCHEDULED_EVENT = "stripe-cancellation-scheduled"
WATCHED_EVENT_TYPES = frozenset({"customer.subscription.updated", "customer.subscription.deleted"})


def cancellation_watch(snapshot: BillingSnapshot, created_at: int) -> list[Effect]:
    pending = [s for s in snapshot.subscriptions if s.live and s.cancel_at_period_end]
    if not pending:
        return [RemoveTag(CANCELLATION_PENDING_TAG)]
    effects: list[Effect] = [AddTag(CANCELLATION_PENDING_TAG)]
    for sub in pending:
        ends = sub.cancel_at or sub.current_period_end
        asked = sub.canceled_at or ends
        metadata = event_metadata(
            {
                "subscription": sub.id,
                "cancel_at_date": int(ends.timestamp()) if ends else None,
                "plan": sub.plan.product_name if sub.plan else None,
            }
        )
        key = f"cancellation-scheduled/{sub.id}/{int(asked.timestamp()) if asked else 0}"
        effects.append(TrackEvent(CANCELLATION_SCHEDULED_EVENT, created_at, metadata, once_key=key))
    return effects
