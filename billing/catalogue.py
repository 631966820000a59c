"""The price catalogue: active recurring prices with their products, read from Stripe and kept
for a minute (prices change rarely; a new price shows within `ttl`). One per process, shared by
Fin's upgrade quotes, the savings card and the sidebar's "send savings card" button."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from billing.quotes import CATALOGUE_QUERY
from gateways.stripe import StripeGateway

CATALOGUE_SECONDS = 60.0


class PriceCatalogue:
    """Concurrent callers share one fetch; `cached()` answers without I/O."""

    def __init__(self, gateway: StripeGateway, *, ttl: float = CATALOGUE_SECONDS) -> None:
        self.gateway = gateway
        self.ttl = ttl
        self._prices: list[Any] | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def prices(self) -> list[Any]:
        if (cached := self.cached()) is not None:
            return cached
        async with self._lock:
            if self.cached() is None:
                self._prices = await self.gateway.list_prices(CATALOGUE_QUERY)
                self._expires = time.monotonic() + self.ttl
            return self._prices or []

    def cached(self) -> list[Any] | None:
        """The prices if fetched within `ttl`, else None (never calls Stripe)."""
        if self._prices is not None and time.monotonic() < self._expires:
            return self._prices
        return None
