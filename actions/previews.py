"""Stripe's invoice previews for Fin: the next invoice and upgrade quotes, each in two
sequential Stripe round trips.

Round one resolves the customer, whose subscriptions come expanded; for a quote, the price
catalogue is fetched alongside (and kept for a minute: it changes rarely). Round two is the one
request that must be fresh: the invoice preview, of the renewal or of the plan change with a
fixed `proration_date` (`billing.quotes`). Nothing else is fetched: a Fin connector waits for
the slowest answer, and a full snapshot would list a hundred charges and invoices first.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing.errors import BillingError, NotFound
from billing.lookup import BillingLookup
from billing.money import Money, to_datetime
from billing.quotes import (
    CATALOGUE_QUERY,
    NoSubscription,
    NotAnUpgrade,
    PlanChangeQuote,
    PlanNotFound,
    TargetPrice,
    match_target_price,
    quote_plan_change,
)
from billing.resolution import ContactIdentity
from billing.snapshot import (
    LIVE_STATUSES,
    InvoiceLine,
    Plan,
    SubscriptionSummary,
    UpcomingInvoice,
)
from billing.stripe_gateway import StripeGateway, gather_all

CATALOGUE_SECONDS = 60.0


class PriceCatalogue:
    """Active recurring prices with their products, cached for `ttl` seconds; concurrent
    callers share one fetch."""

    def __init__(self, gateway: StripeGateway, *, ttl: float = CATALOGUE_SECONDS) -> None:
        self.gateway = gateway
        self.ttl = ttl
        self._prices: list[Any] | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def prices(self) -> list[Any]:
        if self._prices is not None and time.monotonic() < self._expires:
            return self._prices
        async with self._lock:
            if self._prices is None or time.monotonic() >= self._expires:
                self._prices = await self.gateway.list_prices(CATALOGUE_QUERY)
                self._expires = time.monotonic() + self.ttl
            return self._prices

    def forget(self) -> None:
        self._prices = None


@dataclass(frozen=True, slots=True)
class NextInvoice:
    """The customer's next invoice, or why there is none (`ends`: the subscription ends then)."""

    customer_id: str
    upcoming: UpcomingInvoice | None
    subscription_id: str | None = None
    ends: datetime | None = None


async def next_invoice(lookup: BillingLookup, identity: ContactIdentity) -> NextInvoice:
    resolution = await lookup.resolve(identity)
    customer = resolution.require_one(for_money=False)
    live = [s for s in _subscriptions(customer) if s.status in LIVE_STATUSES]
    if not live:
        return NextInvoice(customer.id, None)
    renewing = next((s for s in live if not s.cancel_at_period_end), None)
    if renewing is None:
        ending = live[0]
        return NextInvoice(
            customer.id, None, ending.id, to_datetime(ending.cancel_at) or _period_end(ending)
        )
    try:
        preview = await lookup.gateway.preview_invoice(
            {"customer": customer.id, "subscription": renewing.id}
        )
    except BillingError as exc:
        if exc.code == "stripe_unavailable":
            raise
        # Stripe has nothing to preview for this subscription (e.g. it is being canceled).
        return NextInvoice(customer.id, None, renewing.id)
    # A renewal is attempted when the period (or the trial) ends; `created` is only the
    # preview's own time.
    date = to_datetime(preview.next_payment_attempt) or (
        to_datetime(renewing.trial_end) if renewing.status == "trialing" else _period_end(renewing)
    )
    return NextInvoice(customer.id, _upcoming(preview, renewing.id, date), renewing.id)


@dataclass(frozen=True, slots=True)
class NoQuote:
    """An answer instead of a quote: `reason` is plan_not_found | already_on_plan |
    not_an_upgrade | no_subscription."""

    customer_id: str
    reason: str
    current: Plan | None = None
    target_name: str = ""


async def quote_upgrade(
    lookup: BillingLookup,
    catalogue: PriceCatalogue,
    identity: ContactIdentity,
    target_plan: str,
    *,
    interval: str | None,
) -> PlanChangeQuote | NoQuote:
    resolution, prices = await gather_all(lookup.resolve(identity), catalogue.prices())
    customer = resolution.require_one(for_money=False)
    raw = next((s for s in _subscriptions(customer) if s.status in LIVE_STATUSES), None)
    if raw is None:
        return NoQuote(customer.id, "no_subscription")
    products = {p.product.id: p.product for p in prices if not isinstance(p.product, str)}
    missing = {_id_of(item.price.product) for item in raw.items.data} - products.keys()
    for product_id in missing:
        # A plan on an archived price is not in the catalogue: one extra look-up for its name.
        try:
            products[product_id] = await lookup.gateway.retrieve_product(product_id)
        except NotFound:
            continue
    subscription = _subscription_summary(raw, products)
    current = subscription.plan
    try:
        target = match_target_price(prices, target_plan, interval=interval, current=current)
    except PlanNotFound:
        return NoQuote(customer.id, "plan_not_found", current, target_plan)
    current_item = next(
        (i.id for i in raw.items.data if current is not None and i.price.id == current.price_id),
        None,
    )
    try:
        return await quote_plan_change(
            lookup.gateway, customer.id, subscription, target, item_id=current_item
        )
    except NoSubscription:
        return NoQuote(customer.id, "no_subscription")
    except NotAnUpgrade:
        reason = "already_on_plan" if _same_plan(current, target) else "not_an_upgrade"
        return NoQuote(customer.id, reason, current, target.product_name)


def _same_plan(current: Plan | None, target: TargetPrice) -> bool:
    if current is None:
        return False
    return target.price_id == current.price_id or (
        target.product_id == current.product_id and target.interval == current.interval
    )


def _subscription_summary(sub: Any, products: dict[str, Any]) -> SubscriptionSummary:
    items = list(sub.items.data)
    return SubscriptionSummary(
        id=sub.id,
        status=sub.status,
        plans=tuple(_plan(item.price, products) for item in items),
        item_ids=tuple(item.id for item in items),
        current_period_start=to_datetime(
            min((i.current_period_start for i in items), default=None)
        ),
        current_period_end=to_datetime(max((i.current_period_end for i in items), default=None)),
        trial_end=to_datetime(sub.trial_end),
        cancel_at_period_end=bool(sub.cancel_at_period_end),
        cancel_at=to_datetime(sub.cancel_at),
        default_payment_method_id=_id_of(sub.default_payment_method),
        latest_invoice_id=_id_of(sub.latest_invoice),
        currency=sub.currency,
    )


def _plan(price: Any, products: dict[str, Any]) -> Plan:
    product_id = _id_of(price.product) or ""
    product = products.get(product_id)
    recurring = price.recurring
    metered = bool(recurring and getattr(recurring, "usage_type", None) == "metered")
    return Plan(
        product_id=product_id,
        product_name=(product.name if product else None) or price.nickname or product_id,
        price_id=price.id,
        amount=None
        if metered or price.unit_amount is None
        else Money(price.unit_amount, price.currency),
        interval=recurring.interval if recurring else None,
        interval_count=recurring.interval_count if recurring else 1,
        lookup_key=price.lookup_key,
        metered=metered,
        meter_id=getattr(recurring, "meter", None) if recurring else None,
    )


def _upcoming(preview: Any, subscription_id: str, date: datetime | None) -> UpcomingInvoice:
    lines = []
    for line in preview.lines.data:
        details = getattr(line.parent, "subscription_item_details", None) if line.parent else None
        lines.append(
            InvoiceLine(
                description=line.description or "",
                amount=Money(line.amount, line.currency),
                proration=bool(details and details.proration),
            )
        )
    return UpcomingInvoice(
        subscription_id=subscription_id,
        amount_due=Money(preview.amount_due, preview.currency),
        total=Money(preview.total, preview.currency),
        date=date,
        lines=tuple(lines),
    )


def _period_end(sub: Any) -> datetime | None:
    return to_datetime(max((i.current_period_end for i in sub.items.data), default=None))


def _subscriptions(customer: Any) -> list[Any]:
    subs = getattr(customer, "subscriptions", None)
    return list(subs.data) if subs is not None else []


def _id_of(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.id
