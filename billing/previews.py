"""Stripe's invoice previews for Fin: the next invoice and upgrade quotes, each in two
sequential Stripe round trips.

Round one resolves the customer, whose subscriptions come expanded; for a quote, the price
catalogue is fetched alongside (and kept for a minute: it changes rarely). Round two is the one
request that must be fresh: the invoice preview, of the renewal or of the plan change with a
fixed `proration_date` (`billing.quotes`). Nothing else is fetched: a Fin connector waits for
the slowest answer, and a full snapshot would list a hundred charges and invoices first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing.catalogue import PriceCatalogue
from billing.errors import BillingError, NotFound
from billing.lookup import BillingLookup
from billing.money import to_datetime
from billing.quotes import (
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
    Plan,
    UpcomingInvoice,
    renewal_date,
    subscription_summary,
    upcoming_invoice,
)
from gateways.stripe import gather_all, id_of
from gateways.stripe_models import Customer, Subscription


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
    fallback = renewal_date(subscription_summary(renewing, {}))
    upcoming = upcoming_invoice(preview, subscription_id=renewing.id, fallback_date=fallback)
    return NextInvoice(customer.id, upcoming, renewing.id)


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
    missing = {id_of(item.price.product) for item in raw.items.data} - products.keys()
    for product_id in missing:
        # A plan on an archived price is not in the catalogue: one extra look-up for its name.
        try:
            products[product_id] = await lookup.product(product_id)
        except NotFound:
            continue
    subscription = subscription_summary(raw, products)
    current = subscription.plan
    try:
        target = match_target_price(prices, target_plan, interval=interval, current=current)
    except PlanNotFound:
        return NoQuote(customer.id, "plan_not_found", current, target_plan)
    try:
        return await quote_plan_change(lookup.gateway, customer.id, subscription, target)
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


def _period_end(sub: Subscription) -> datetime | None:
    return to_datetime(max((i.current_period_end for i in sub.items.data), default=None))


def _subscriptions(customer: Customer) -> list[Subscription]:
    return list(customer.subscriptions.data) if customer.subscriptions is not None else []
