"""Which of a customer's subscriptions an action is about, when they may have several: the one
named (it must be theirs), else the only live one, else — for an action that changes a
subscription — the caller has to ask (`SubscriptionRequired`, with the ones to choose from)."""

from __future__ import annotations

from collections.abc import Sequence

from billing.errors import BillingError, NotFound
from billing.snapshot import SubscriptionSummary


class SubscriptionNotFound(NotFound):
    """The named subscription is not one of the customer's current subscriptions."""

    code = "subscription_not_found"


class SubscriptionRequired(BillingError):
    """The customer has several live subscriptions and the action did not name one."""

    code = "subscription_required"

    def __init__(self, choices: Sequence[SubscriptionSummary]) -> None:
        super().__init__("Several live subscriptions: name one (subscription_id).")
        self.choices = tuple(choices)


def named_subscription(
    subscriptions: Sequence[SubscriptionSummary], subscription_id: str | None
) -> SubscriptionSummary | None:
    """The subscription `subscription_id` names (None when none is named); another customer's
    id, or one unknown to Stripe, raises SubscriptionNotFound."""
    if subscription_id is None:
        return None
    found = next((s for s in subscriptions if s.id == subscription_id), None)
    if found is None:
        raise SubscriptionNotFound("No such subscription for this customer.")
    return found


def single_live(subscriptions: Sequence[SubscriptionSummary]) -> SubscriptionSummary | None:
    """The live subscription an unnamed change is about: None if there is none; several raise
    SubscriptionRequired (plans before add-ons in its list)."""
    live = [s for s in subscriptions if s.live]
    if len(live) > 1:
        raise SubscriptionRequired(sorted(live, key=lambda s: s.add_on))
    return live[0] if live else None
