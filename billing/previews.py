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
    subscription_name,
    subscription_summary,
    upcoming_invoice,
)
from billing.subscription_choice import named_subscription, single_live
from gateways.stripe import gather_all, id_of
from gateways.stripe_models import Customer, Product, Subscription


@dataclass(frozen=True, slots=True)
class NextInvoice:
    """The customer's next invoice, or why there is none (`ends`: the subscription ends then).
    `subscription_name` names the subscription when the customer has several live ones."""

    customer_id: str
    upcoming: UpcomingInvoice | None
    subscription_id: str | None = None
    ends: datetime | None = None
    subscription_name: str | None = None


async def next_invoice(
    lookup: BillingLookup, identity: ContactIdentity, *, subscription_id: str | None = None
) -> NextInvoice:
    """The next invoice of the subscription named, else of the live subscription that renews
    first (the next money a customer with several subscriptions pays)."""
    resolution = await lookup.resolve(identity, remembered=True)  # a read (billing.lookup)
    customer = resolution.require_one(for_money=False)
    raw_subs = _subscriptions(customer)
    named = _raw_named(raw_subs, subscription_id)
    live = [s for s in raw_subs if s.status in LIVE_STATUSES]
    several = len(live) > 1
    if named is not None and named.status not in LIVE_STATUSES:
        return NextInvoice(customer.id, None, named.id)
    candidates = [named] if named is not None else live
    if not candidates:
        return NextInvoice(customer.id, None)
    renewing = [s for s in candidates if not s.cancel_at_period_end]
    names = _product_names(lookup, live) if several else _no_names()
    if not renewing:
        ending = candidates[0]
        return NextInvoice(
            customer.id,
            None,
            ending.id,
            to_datetime(ending.cancel_at) or _period_end(ending),
            _name(ending, live, await names),
        )
    chosen = min(renewing, key=_renews_at)
    try:
        preview, products = await gather_all(
            lookup.gateway.preview_invoice({"customer": customer.id, "subscription": chosen.id}),
            names,
        )
    except BillingError as exc:
        if exc.code == "stripe_unavailable":
            raise
        # Stripe has nothing to preview for this subscription (e.g. it is being canceled).
        return NextInvoice(customer.id, None, chosen.id)
    fallback = renewal_date(subscription_summary(chosen, {}))
    upcoming = upcoming_invoice(preview, subscription_id=chosen.id, fallback_date=fallback)
    return NextInvoice(customer.id, upcoming, chosen.id, None, _name(chosen, live, products))


@dataclass(frozen=True, slots=True)
class NoQuote:
    """An answer instead of a quote: `reason` is plan_not_found | already_on_plan |
    not_an_upgrade | no_subscription | not_a_plan (the subscription holds an add-on)."""

    customer_id: str
    reason: str
    current: Plan | None = None
    target_name: str = ""
    subscription_name: str | None = None


@dataclass(frozen=True, slots=True)
class UpgradeQuote:
    """Stripe's quote; `subscription_name` names the subscription it changes when the customer
    has several live ones."""

    quote: PlanChangeQuote
    subscription_name: str | None = None


async def quote_upgrade(
    lookup: BillingLookup,
    catalogue: PriceCatalogue,
    identity: ContactIdentity,
    target_plan: str,
    *,
    interval: str | None,
    subscription_id: str | None = None,
) -> UpgradeQuote | NoQuote:
    """A quote for changing the subscription named; without a name, the customer's only live
    subscription (several raise `SubscriptionRequired`, listing them)."""
    resolution, prices = await gather_all(
        lookup.resolve(identity, remembered=True), catalogue.prices()
    )
    customer = resolution.require_one(for_money=False)
    raw_subs = _subscriptions(customer)
    named = _raw_named(raw_subs, subscription_id)
    live = [s for s in raw_subs if s.status in LIVE_STATUSES]
    shown = live if named is None else [named]
    products = {p.product.id: p.product for p in prices if not isinstance(p.product, str)}
    missing = {id_of(i.price.product) for s in shown for i in s.items.data} - products.keys()
    for product_id in sorted(missing):
        # A plan on an archived price is not in the catalogue: one extra look-up for its name.
        try:
            products[product_id] = await lookup.product(product_id)
        except NotFound:
            continue
    summaries = [subscription_summary(s, products) for s in shown]
    if named is None:
        subscription = single_live(summaries)
        if subscription is None:
            return NoQuote(customer.id, "no_subscription")
    else:
        subscription = summaries[0]
        if not subscription.live:
            return NoQuote(customer.id, "no_subscription")
    name = (
        subscription_name(subscription, tuple(subscription_summary(s, products) for s in live))
        if len(live) > 1
        else None
    )
    current = subscription.plan
    if subscription.add_on:
        return NoQuote(customer.id, "not_a_plan", current, target_plan, name)
    try:
        target = match_target_price(prices, target_plan, interval=interval, current=current)
    except PlanNotFound:
        return NoQuote(customer.id, "plan_not_found", current, target_plan, name)
    try:
        quote = await quote_plan_change(lookup.gateway, customer.id, subscription, target)
    except NoSubscription:
        return NoQuote(customer.id, "no_subscription")
    except NotAnUpgrade:
        reason = "already_on_plan" if _same_plan(current, target) else "not_an_upgrade"
        return NoQuote(customer.id, reason, current, target.product_name, name)
    return UpgradeQuote(quote, name)


def _raw_named(
    subscriptions: list[Subscription], subscription_id: str | None
) -> Subscription | None:
    """The customer's subscription `subscription_id` names, checked with the domain's rule."""
    summaries = [subscription_summary(s, {}) for s in subscriptions]
    found = named_subscription(summaries, subscription_id)
    return next((s for s in subscriptions if found is not None and s.id == found.id), None)


def _renews_at(sub: Subscription) -> float:
    when = renewal_date(subscription_summary(sub, {}))
    return when.timestamp() if when is not None else float("inf")


async def _product_names(lookup: BillingLookup, subs: list[Subscription]) -> dict[str, Product]:
    """The products of `subs` (cached by the lookup), to name them."""
    ids = sorted({id_of(i.price.product) for s in subs for i in s.items.data})
    found = await gather_all(*(lookup.product(pid) for pid in ids))
    return {p.id: p for p in found}


async def _no_names() -> dict[str, Product]:
    return {}


def _name(sub: Subscription, live: list[Subscription], products: dict[str, Product]) -> str | None:
    if len(live) < 2:
        return None
    among = tuple(subscription_summary(s, products) for s in live)
    return subscription_name(subscription_summary(sub, products), among)


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
