"""Plan changes priced by Stripe: find the target price, preview the change with a fixed
`proration_date`, and apply it with the same date so the charge equals the quote.

Used by Fin's `upgrade-quote` and the Messenger savings card. A quote is what Stripe's invoice
preview says, never our own arithmetic: taxes, discounts and balance are Stripe's to apply.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from billing.errors import BillingError
from billing.money import Money, to_datetime
from billing.snapshot import Plan, SubscriptionSummary, is_add_on, metadata_of
from gateways.stripe import StripeGateway

# Upgrades are charged right away (the customer gets the new plan now, Stripe invoices the
# prorated difference immediately); see https://docs.stripe.com/billing/subscriptions/prorations
PRORATION_BEHAVIOR = "always_invoice"
MONTHS_PER = {"day": 1 / 30, "week": 12 / 52, "month": 1, "year": 12}


class PlanNotFound(BillingError):
    """No active recurring price matches the requested plan."""

    code = "plan_not_found"


class NotAnUpgrade(BillingError):
    """The requested plan is the current one, or cheaper than it."""

    code = "not_an_upgrade"


class NoSubscription(BillingError):
    """The customer has no live subscription to change."""

    code = "no_subscription"


class NotAPlan(BillingError):
    """The subscription holds an add-on (bought beside a plan), not a plan to switch."""

    code = "not_a_plan"


@dataclass(frozen=True, slots=True)
class TargetPrice:
    price_id: str
    product_id: str
    product_name: str
    amount: Money
    interval: str
    interval_count: int
    lookup_key: str | None

    @property
    def monthly(self) -> float:
        return self.amount.amount / (MONTHS_PER.get(self.interval, 1) * self.interval_count)


@dataclass(frozen=True, slots=True)
class QuoteLine:
    description: str
    amount: Money
    proration: bool


@dataclass(frozen=True, slots=True)
class PlanChangeQuote:
    customer_id: str
    subscription_id: str
    item_id: str
    current: Plan
    target: TargetPrice
    proration_date: int
    amount_now: Money  # what Stripe charges when the change is applied
    new_recurring: Money
    effective_date: datetime
    lines: tuple[QuoteLine, ...]
    kind: str  # "upgrade" | "interval_change" | "downgrade"


def monthly_equivalent(plan: Plan) -> float | None:
    if plan.amount is None or not plan.interval:
        return None
    return plan.amount.amount / (MONTHS_PER.get(plan.interval, 1) * plan.interval_count)


# Active recurring prices with their products: what `match_target_price` searches.
CATALOGUE_QUERY: dict[str, Any] = {"active": True, "type": "recurring", "expand": ["data.product"]}


def match_target_price(
    prices: list[Any], target: str, *, interval: str | None, current: Plan | None
) -> TargetPrice:
    """Match `target` against price ids, lookup keys and product names (case-insensitive), in
    the current plan's interval unless `interval` is given, over an already fetched catalogue
    (`CATALOGUE_QUERY`, which `billing.catalogue` keeps for a minute). Add-ons are no plans to
    switch to: they never match."""
    wanted = target.strip().casefold()
    want_interval = interval or (current.interval if current else None)
    candidates = []
    for price in prices:
        recurring = price.recurring
        if recurring is None or getattr(recurring, "usage_type", "licensed") == "metered":
            continue
        product = price.product if not isinstance(price.product, str) else None
        if is_add_on(metadata_of(product)) or is_add_on(metadata_of(price)):
            continue
        names = {price.id.casefold(), (price.lookup_key or "").casefold()}
        if product is not None:
            names.add((product.name or "").casefold())
        names.discard("")  # a blank target must not match every price without a lookup key
        if not wanted or wanted not in names:
            continue
        # A price id or lookup key names one price: its own interval is the one asked for.
        exact = wanted in (price.id.casefold(), (price.lookup_key or "").casefold())
        if want_interval and recurring.interval != want_interval and not exact:
            continue
        candidates.append((price, product))
    if current is not None and current.amount is not None:
        # A product priced in several currencies: stay in the one the customer pays in.
        same_currency = [c for c in candidates if c[0].currency == current.amount.currency]
        candidates = same_currency or candidates
    if not candidates:
        raise PlanNotFound(
            f"No active plan named '{target}' with a {want_interval or 'recurring'} price."
        )
    price, product = candidates[0]
    return TargetPrice(
        price_id=price.id,
        product_id=product.id if product is not None else str(price.product),
        product_name=product.name if product is not None else str(price.product),
        amount=Money(price.unit_amount or 0, price.currency),
        interval=price.recurring.interval,
        interval_count=price.recurring.interval_count or 1,
        lookup_key=price.lookup_key,
    )


def classify_change(current: Plan, target: TargetPrice) -> str:
    """ "upgrade" or "interval_change"; raises NotAnUpgrade for the same plan or a cheaper one."""
    if target.price_id == current.price_id:
        raise NotAnUpgrade(f"The customer is already on {current.product_name}.")
    current_monthly = monthly_equivalent(current) or 0
    if target.product_id == current.product_id:
        if target.interval == current.interval:
            raise NotAnUpgrade(f"The customer is already on {current.product_name}.")
        return "interval_change"
    if target.monthly <= current_monthly:
        raise NotAnUpgrade(
            f"{target.product_name} costs less than {current.product_name}; a downgrade is not "
            "an upgrade quote — an agent can help with that."
        )
    return "upgrade"


async def quote_plan_change(
    gateway: StripeGateway,
    customer_id: str,
    subscription: SubscriptionSummary | None,
    target: TargetPrice,
    *,
    proration_date: int | None = None,
    downgrade: bool = False,
) -> PlanChangeQuote:
    """Stripe's quote for switching to `target`: an upgrade (or interval change), or with
    `downgrade` a cheaper plan the caller chose (the cancel flow's offer), credited the same way."""
    if subscription is None or not subscription.live or subscription.plan is None:
        raise NoSubscription("There is no active subscription to change.")
    if subscription.add_on:
        raise NotAPlan(f"{subscription.plan.product_name} is an add-on, not a plan.")
    current = subscription.plan
    kind = "downgrade" if downgrade else classify_change(current, target)
    item_id = current.item_id
    if item_id is None:
        raise NoSubscription("The current plan is not on a subscription item.")
    proration_date = proration_date or int(time.time())
    preview = await gateway.preview_invoice(
        {
            "customer": customer_id,
            "subscription": subscription.id,
            "subscription_details": {
                "items": [{"id": item_id, "price": target.price_id}],
                "proration_date": proration_date,
                "proration_behavior": PRORATION_BEHAVIOR,
            },
        }
    )
    lines = []
    for line in preview.lines.data:
        details = getattr(line.parent, "subscription_item_details", None) if line.parent else None
        lines.append(
            QuoteLine(
                line.description or "",
                Money(line.amount, line.currency),
                bool(details and details.proration),
            )
        )
    return PlanChangeQuote(
        customer_id=customer_id,
        subscription_id=subscription.id,
        item_id=item_id,
        current=current,
        target=target,
        proration_date=proration_date,
        amount_now=Money(preview.amount_due, preview.currency),
        new_recurring=target.amount,
        effective_date=to_datetime(proration_date),
        lines=tuple(lines),
        kind=kind,
    )


async def apply_plan_change(
    gateway: StripeGateway, quote: PlanChangeQuote, *, idempotency_key: str
) -> Any:
    """Switch the subscription item to the quoted price, prorated as of the quote's date, as a
    pending update: the new plan applies only if its invoice is paid; otherwise Stripe keeps the
    old plan and answers with `pending_update` set (and the unpaid invoice as `latest_invoice`,
    expanded here). https://docs.stripe.com/billing/subscriptions/pending-updates"""
    return await gateway.update_subscription(
        quote.subscription_id,
        {
            "items": [{"id": quote.item_id, "price": quote.target.price_id}],
            "proration_date": quote.proration_date,
            "proration_behavior": PRORATION_BEHAVIOR,
            "payment_behavior": "pending_if_incomplete",
            "expand": ["latest_invoice"],
        },
        idempotency_key=idempotency_key,
    )


def quote_to_data(quote: PlanChangeQuote) -> dict[str, Any]:
    """The parts of a quote needed to apply it, as JSON (to be signed into `stored_data`)."""
    return {
        "customer": quote.customer_id,
        "subscription": quote.subscription_id,
        "item": quote.item_id,
        "current": {
            "product": quote.current.product_id,
            "name": quote.current.product_name,
            "price": quote.current.price_id,
            "amount": quote.current.amount.amount if quote.current.amount else None,
            "interval": quote.current.interval,
            "interval_count": quote.current.interval_count,
        },
        "target": {
            "product": quote.target.product_id,
            "name": quote.target.product_name,
            "price": quote.target.price_id,
            "amount": quote.target.amount.amount,
            "interval": quote.target.interval,
            "interval_count": quote.target.interval_count,
            "lookup_key": quote.target.lookup_key,
        },
        "currency": quote.amount_now.currency,
        "proration_date": quote.proration_date,
        "amount_now": quote.amount_now.amount,
        "kind": quote.kind,
    }


def quote_from_data(data: dict[str, Any]) -> PlanChangeQuote:
    currency = data["currency"]
    current, target = data["current"], data["target"]
    target_price = TargetPrice(
        price_id=target["price"],
        product_id=target["product"],
        product_name=target["name"],
        amount=Money(int(target["amount"]), currency),
        interval=target["interval"],
        interval_count=int(target["interval_count"]),
        lookup_key=target.get("lookup_key"),
    )
    return PlanChangeQuote(
        customer_id=data["customer"],
        subscription_id=data["subscription"],
        item_id=data["item"],
        current=Plan(
            product_id=current["product"],
            product_name=current["name"],
            price_id=current["price"],
            amount=Money(int(current["amount"]), currency)
            if current["amount"] is not None
            else None,
            interval=current["interval"],
            interval_count=int(current["interval_count"]),
        ),
        target=target_price,
        proration_date=int(data["proration_date"]),
        amount_now=Money(int(data["amount_now"]), currency),
        new_recurring=target_price.amount,
        effective_date=to_datetime(int(data["proration_date"])) or datetime.now(UTC),
        lines=(),
        kind=data["kind"],
    )
