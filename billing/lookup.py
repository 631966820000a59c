"""Customer resolution and snapshots with a short-lived cache in front of Stripe.

A sidebar that takes seconds is a sidebar nobody opens: the first render of a contact costs two
Stripe round trips; renders within `SNAPSHOT_CACHE_SECONDS` after it cost none. A Stripe webhook
about a customer drops that customer's entries (`invalidate`), so the cache is never staler than
the webhook delivery.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from billing.resolution import ContactIdentity, Resolution, resolve_customer
from billing.snapshot import BillingSnapshot, SnapshotOptions, load_snapshot
from billing.stripe_gateway import StripeGateway


@dataclass(slots=True)
class _Entry:
    value: Any
    expires: float


class BillingLookup:
    def __init__(
        self,
        gateway: StripeGateway,
        *,
        ttl_seconds: float = 30.0,
        user_id_key: str = "user_id",
        options: SnapshotOptions | None = None,
    ) -> None:
        self.gateway = gateway
        self.ttl = ttl_seconds
        self.user_id_key = user_id_key
        self.options = options or SnapshotOptions()
        self._resolutions: dict[tuple[str | None, ...], _Entry] = {}
        self._snapshots: dict[str, _Entry] = {}
        self._inflight: dict[Any, asyncio.Future[Any]] = {}

    async def resolve(self, identity: ContactIdentity, *, fresh: bool = False) -> Resolution:
        key = identity.cache_key
        if not fresh and (hit := self._get(self._resolutions, key)) is not None:
            return hit
        resolution = await self._once(
            ("resolve", key),
            lambda: resolve_customer(self.gateway, identity, user_id_key=self.user_id_key),
        )
        if resolution.found:
            self._put(self._resolutions, key, resolution)
        return resolution

    async def snapshot(self, customer: Any, *, fresh: bool = False) -> BillingSnapshot:
        if not fresh and (hit := self._get(self._snapshots, customer.id)) is not None:
            return hit
        snap = await self._once(
            ("snapshot", customer.id), lambda: load_snapshot(self.gateway, customer, self.options)
        )
        self._put(self._snapshots, customer.id, snap)
        return snap

    async def customer_snapshot(self, customer_id: str, *, fresh: bool = False) -> BillingSnapshot:
        """A snapshot when only the id is known (e.g. a choice kept in stored_data)."""
        if not fresh and (hit := self._get(self._snapshots, customer_id)) is not None:
            return hit
        customer = await self.gateway.retrieve_customer(customer_id)
        return await self.snapshot(customer, fresh=True)

    def invalidate(self, customer_id: str) -> None:
        """Forget everything cached about one customer (called on its Stripe webhooks)."""
        self._snapshots.pop(customer_id, None)
        for key, entry in list(self._resolutions.items()):
            if any(c.id == customer_id for c in entry.value.customers):
                self._resolutions.pop(key, None)

    def clear(self) -> None:
        self._snapshots.clear()
        self._resolutions.clear()

    def _get(self, store: dict[Any, _Entry], key: Any) -> Any | None:
        entry = store.get(key)
        if entry is None:
            return None
        if entry.expires < time.monotonic():
            store.pop(key, None)
            return None
        return entry.value

    def _put(self, store: dict[Any, _Entry], key: Any, value: Any) -> None:
        if self.ttl > 0:
            store[key] = _Entry(value, time.monotonic() + self.ttl)

    async def _once(self, key: Any, factory: Any) -> Any:
        """Coalesce concurrent identical loads: 32 agents opening one conversation cost one."""
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await factory()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        else:
            future.set_result(result)
            return result
        finally:
            self._inflight.pop(key, None)
