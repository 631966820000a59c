"""Customer resolution and snapshots with a short-lived cache in front of Stripe.

A sidebar that takes seconds is a sidebar nobody opens: the first render of a contact costs two
Stripe round trips; renders within `SNAPSHOT_CACHE_SECONDS` after it cost none. A Stripe webhook
about a customer drops that customer's entries (`invalidate`), so the cache is never staler than
the webhook delivery: a load that was already running when the webhook arrived is neither joined
by later callers nor cached (each customer's entries carry a generation that `invalidate` bumps).

Several instances (processes) each keep their own cache: `invalidate` also publishes the customer
id on an `InvalidationBus`, whose subscribers `forget` it in every other instance. While the bus
can't promise that (`live` is false: its connection is down), no entry older than
`max_age_offline` seconds is served, and when it is live again everything cached is dropped,
since invalidations sent in between were missed.

Lifetime value is a sum over a customer's whole history (a request per 100 paid invoices and per
100 charges), so it is cached apart and longer (`lifetime_value_ttl`): a cold render takes it
from there, or starts loading it beside round two and shows it only if it arrives in time (a
long-lived customer's shows on a later render). The same `invalidate` drops it: the payment
and refund webhooks (and our own refunds) are about the customer. Products change rarely and
are shared by many customers: they are kept for `product_ttl`.

Which customer a contact resolved to is remembered apart too, for `match_ttl`
(`billing.resolution.RememberedMatch` says which matches may be): a read that moves nothing and
mints no link (`resolve(remembered=True)`) retrieves just that customer and checks that it still
matches (`billing.resolution.confirm_match`), one request instead of a list and a search. A
customer created (or edited) since to match the contact as well is not seen by such a read until
the memory expires; every other caller resolves as before.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from billing.errors import NotFound
from billing.lifetime_value import LifetimeValueLoad
from billing.resolution import (
    ContactIdentity,
    RememberedMatch,
    Resolution,
    confirm_match,
    resolve_customer,
)
from billing.snapshot import BillingSnapshot, LifetimeValue
from billing.snapshot_loader import SnapshotOptions, load_snapshot
from gateways.stripe import StripeGateway
from gateways.stripe_models import Customer, Product


@dataclass(slots=True)
class _Entry:
    value: Any
    expires: float
    stored: float


MAX_REMEMBERED_MATCHES = 50_000  # contacts; a few hundred bytes each


class InvalidationBus(Protocol):
    """How instances tell each other that a customer's billing changed."""

    @property
    def live(self) -> bool:
        """True while every invalidation published by any instance reaches this one."""
        ...

    def publish(self, customer_id: str) -> None:
        """Tell the other instances (returns at once; delivery happens in the background)."""
        ...

    def subscribe(self, forget: Callable[[str], None], forget_all: Callable[[], None]) -> None:
        """`forget(customer_id)` on another instance's invalidation; `forget_all()` when
        invalidations may have been missed (the bus reconnected)."""
        ...


class InProcessOnly:
    """One instance: nothing to tell anyone, nothing to miss."""

    live = True

    def publish(self, customer_id: str) -> None:
        pass

    def subscribe(self, forget: Callable[[str], None], forget_all: Callable[[], None]) -> None:
        pass


class BillingLookup:
    # Set by the app to count cache lookups: (cache, hit).
    observe: Callable[[str, bool], None] | None = None

    def __init__(
        self,
        gateway: StripeGateway,
        *,
        ttl_seconds: float = 30.0,
        lifetime_value_ttl: float = 3600.0,
        product_ttl: float = 60.0,
        match_ttl: float = 300.0,
        user_id_key: str = "user_id",
        options: SnapshotOptions | None = None,
        bus: InvalidationBus | None = None,
        max_age_offline: float = 3.0,
    ) -> None:
        self.gateway = gateway
        self.ttl = ttl_seconds
        self.bus: InvalidationBus = bus or InProcessOnly()
        self.max_age_offline = max_age_offline
        self.lifetime_value_ttl = lifetime_value_ttl
        self.product_ttl = product_ttl
        self.match_ttl = match_ttl
        self.user_id_key = user_id_key
        self.options = options or SnapshotOptions()
        self._resolutions: dict[tuple[str | None, ...], _Entry] = {}
        self._matches: dict[tuple[str | None, ...], _Entry] = {}  # RememberedMatch
        self._snapshots: dict[str, _Entry] = {}
        self._lifetime_values: dict[str, _Entry] = {}
        self._lifetime_value_loads: dict[tuple[str, int], LifetimeValueLoad] = {}
        self._products: dict[str, _Entry] = {}
        self._inflight: dict[Any, asyncio.Task[Any]] = {}
        self._generation: dict[str, int] = defaultdict(int)  # per customer, bumped on invalidate
        self._epoch = 0  # bumped on any invalidate: resolutions may involve any customer
        self.bus.subscribe(self.forget, self.forget_all)

    async def resolve(
        self, identity: ContactIdentity, *, fresh: bool = False, remembered: bool = False
    ) -> Resolution:
        """The contact's customers: a resolution cached for the snapshot's lifetime, else a
        full one. `remembered`, for reads that move nothing and mint no link (the sidebar's
        first render, Fin's status and quotes): a remembered match, confirmed, will do too."""
        key = identity.cache_key
        if not fresh and (hit := self._get(self._resolutions, key)) is not None:
            return hit
        epoch, started = self._epoch, time.monotonic()
        remembered = remembered and not fresh
        resolution, full = await self._once(
            ("resolve", key, epoch, fresh, remembered),
            lambda: self._resolve(identity, remembered=remembered),
        )
        # Only a full resolution is cached for every caller, and never over one that began
        # after it (a fresh resolution started later and finished first knows more).
        stored = self._resolutions.get(key)
        if (
            full
            and resolution.found
            and epoch == self._epoch
            and (stored is None or stored.stored <= started)
        ):
            self._put(self._resolutions, key, resolution, read=started)
        return resolution

    async def _resolve(
        self, identity: ContactIdentity, *, remembered: bool
    ) -> tuple[Resolution, bool]:
        """The remembered match confirmed (and False), or a full resolution (and True), which
        is remembered if `RememberedMatch` may keep it."""
        key = identity.cache_key
        entry = self._matches.get(key)
        if entry is not None and entry.expires < time.monotonic():
            del self._matches[key]
            entry = None
        if entry is not None and remembered:
            confirmed = await confirm_match(
                identity, entry.value, self._customer, user_id_key=self.user_id_key
            )
            if confirmed is not None:
                return confirmed, False
        resolution = await resolve_customer(self.gateway, identity, user_id_key=self.user_id_key)
        self._remember(key, RememberedMatch.of(resolution))
        return resolution, True

    def _remember(self, key: tuple[str | None, ...], match: RememberedMatch | None) -> None:
        self._matches.pop(key, None)
        if match is None or self.match_ttl <= 0:
            return
        now = time.monotonic()
        if len(self._matches) >= MAX_REMEMBERED_MATCHES:
            # Expired ones first; if all are live, the oldest (a dict keeps insertion order).
            for old in [k for k, e in self._matches.items() if e.expires < now]:
                del self._matches[old]
            while len(self._matches) >= MAX_REMEMBERED_MATCHES:
                del self._matches[next(iter(self._matches))]
        self._matches[key] = _Entry(match, now + self.match_ttl, now)

    async def _customer(self, customer_id: str) -> Customer:
        """One customer as resolution retrieves it, shared by concurrent callers."""
        generation = self._generation[customer_id]
        customer: Customer = await self._once(
            ("customer", customer_id, generation),
            lambda: self.gateway.retrieve_customer(customer_id),
        )
        return customer

    async def snapshot(
        self,
        customer: Customer,
        *,
        fresh: bool = False,
        generation: int | None = None,
        complete: bool = False,
    ) -> BillingSnapshot:
        """`generation`: the customer's generation when `customer` was read (defaults to now).
        `complete`: wait for the lifetime value however long its history is (automations
        decide on it); a render shows it as being calculated instead of waiting."""
        if not fresh and (hit := self._get(self._snapshots, customer.id)) is not None:
            return await self._with_lifetime_value(hit, complete)
        if generation is None:
            generation = self._generation[customer.id]
        gen = generation
        snap = await self._once(
            ("snapshot", customer.id, gen, complete),
            lambda: load_snapshot(
                self.gateway,
                customer,
                self.options,
                product=self.product,
                lifetime_value=self._lifetime_value(customer.id, gen),
                wait_for_lifetime_value=complete,
            ),
        )
        if generation == self._generation[customer.id]:
            self._put(self._snapshots, customer.id, snap)
        return snap

    async def lifetime_value(self, customer_id: str) -> LifetimeValue:
        """The customer's lifetime value, from the cache or Stripe (every page)."""
        value = self._lifetime_value(customer_id, self._generation[customer_id])
        return value if isinstance(value, tuple) else await asyncio.shield(value.complete)

    def _lifetime_value(
        self, customer_id: str, generation: int
    ) -> LifetimeValue | LifetimeValueLoad:
        """Known, or the (shared) load on its way; a load that finishes is cached unless the
        customer was invalidated meanwhile."""
        if (hit := self._cached(self._lifetime_values, customer_id)) is not None:
            return hit
        key = (customer_id, generation)
        if (running := self._lifetime_value_loads.get(key)) is not None:
            return running
        load = self._lifetime_value_loads[key] = LifetimeValueLoad(self.gateway, customer_id)

        def settle(task: asyncio.Task[LifetimeValue]) -> None:
            self._lifetime_value_loads.pop(key, None)
            if task.cancelled() or task.exception() is not None:
                return  # the error was the waiters' to see; the next render tries again
            if generation == self._generation[customer_id] and self.lifetime_value_ttl > 0:
                now = time.monotonic()
                entry = _Entry(task.result(), now + self.lifetime_value_ttl, now)
                self._lifetime_values[customer_id] = entry

        load.complete.add_done_callback(settle)
        return load

    async def product(self, product_id: str) -> Product:
        """A product (name, metadata), kept for `product_ttl`: shared by every customer."""
        if (hit := self._cached(self._products, product_id)) is not None:
            return hit
        product: Product = await self._once(
            ("product", product_id), lambda: self.gateway.retrieve_product(product_id)
        )
        if self.product_ttl > 0:
            now = time.monotonic()
            self._products[product_id] = _Entry(product, now + self.product_ttl, now)
        return product

    async def _with_lifetime_value(self, snap: BillingSnapshot, wait: bool) -> BillingSnapshot:
        """A cached snapshot taken while its lifetime value was still being calculated gets it
        as soon as it is known."""
        if snap.lifetime_value is not None:
            return snap
        value = self._lifetime_value(snap.customer.id, self._generation[snap.customer.id])
        if isinstance(value, LifetimeValueLoad):
            if not (wait or value.complete.done()):
                return snap
            value = await asyncio.shield(value.complete)
        return dataclasses.replace(snap, lifetime_value=value)

    async def customer_snapshot(self, customer_id: str, *, fresh: bool = False) -> BillingSnapshot:
        """A snapshot when only the id is known (e.g. a choice kept in stored_data)."""
        if not fresh and (hit := self._get(self._snapshots, customer_id)) is not None:
            return hit
        generation = self._generation[customer_id]
        customer = await self._customer(customer_id)
        if customer.deleted:
            raise NotFound("The Stripe customer was deleted.")
        return await self.snapshot(customer, fresh=True, generation=generation)

    def invalidate(self, customer_id: str) -> None:
        """The customer's billing changed (a Stripe webhook, one of our own actions): forget it
        here and in every other instance."""
        self.forget(customer_id)
        self.bus.publish(customer_id)

    def forget(self, customer_id: str) -> None:
        """Forget everything this instance cached about one customer; loads already running
        for it are not joined or cached any more."""
        self._generation[customer_id] += 1
        self._epoch += 1
        self._snapshots.pop(customer_id, None)
        self._lifetime_values.pop(customer_id, None)
        for key, entry in list(self._resolutions.items()):
            if any(c.id == customer_id for c in entry.value.customers):
                self._resolutions.pop(key, None)

    def forget_all(self) -> None:
        """Forget every customer (invalidations may have been missed); running loads too."""
        for customer_id in set(self._generation) | set(self._snapshots):
            self._generation[customer_id] += 1
        self._epoch += 1
        self.clear()

    def clear(self) -> None:
        self._snapshots.clear()
        self._resolutions.clear()
        self._matches.clear()
        self._lifetime_values.clear()
        self._products.clear()

    def _get(self, store: dict[Any, _Entry], key: Any) -> Any | None:
        value = self._cached(store, key)
        if self.observe is not None:
            self.observe(
                "snapshot" if store is self._snapshots else "resolution", value is not None
            )
        return value

    def _cached(self, store: dict[Any, _Entry], key: Any) -> Any | None:
        entry = store.get(key)
        if entry is None:
            return None
        now = time.monotonic()
        if entry.expires < now or (now - entry.stored > self.max_age_offline and not self.bus.live):
            store.pop(key, None)
            return None
        return entry.value

    def _put(
        self, store: dict[Any, _Entry], key: Any, value: Any, *, read: float | None = None
    ) -> None:
        """Keep `value` for `ttl`; `read`: when its reading began (default: now), which is
        how old it counts as."""
        if self.ttl > 0:
            now = time.monotonic()
            store[key] = _Entry(value, now + self.ttl, now if read is None else min(read, now))

    async def _once(self, key: Any, factory: Callable[[], Awaitable[Any]]) -> Any:
        """Coalesce concurrent identical loads: 32 agents opening one conversation cost one.

        The load runs as its own task and every caller waits on it through `shield`, so a
        caller that gives up (its render budget ran out) cancels only its own wait: the others
        still get the result, or the load's own error, never a CancelledError."""
        return await asyncio.shield(self._task(key, factory))

    def _task(self, key: Any, factory: Callable[[], Awaitable[Any]]) -> asyncio.Task[Any]:
        """The running load for `key`, started if there is none (it runs to its end even if
        nobody waits for it any more)."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        return task

    def _settle(self, key: Any, task: asyncio.Task[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an error nobody awaits any more isn't logged
