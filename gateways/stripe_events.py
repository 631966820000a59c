"""Stripe's webhook events as the edges read them: the SDK's `Event` (what
`StripeGateway.construct_event` verifies and returns) and `StripeObject` (what its `data.object`
is), named here so that the SDK is imported under `gateways/` only."""

from __future__ import annotations

from stripe import Event as StripeEvent
from stripe import StripeObject

__all__ = ["StripeEvent", "StripeObject"]
