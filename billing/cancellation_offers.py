"""What a customer who wants to cancel may be offered instead, each with Stripe's exact amounts:
pause collection for 1–3 months, the operator's retention coupon (the next invoice previewed with
it), the closest cheaper plan (a plan-change quote, as the savings card quotes a switch), and
cancelling at the period end (or now, in the sidebar); `resume` undoes a scheduled cancellation
or a pause.

An `Offer` is plain data: what the customer is shown and agrees to. A confirmation token signs it
(`billing.cancellation_tokens`), so executing it changes exactly what was offered.
"""

from __future__ import annotations

import calendar
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from billing.errors import NotFound, StripeRejected
from billing.money import Money
from billing.quotes import (
    NoSubscription,
    PlanChangeQuote,
    TargetPrice,
    monthly_equivalent,
    quote_plan_change,
)
from billing.savings import catalogue_from_prices
from billing.snapshot import Plan, SubscriptionSummary
from gateways.stripe import StripeGateway, gather_all

log = logging.getLogger(__name__)

Option = Literal["pause", "coupon", "plan_switch", "cancel_at_period_end", "cancel_now", "resume"]
OPTIONS: tuple[Option, ...] = (
    "pause",
    "coupon",
    "plan_switch",
    "cancel_at_period_end",
    "cancel_now",
    "resume",
)
# Offers to keep a customer only for a subscription in good standing (one that owes money
# settles that first); cancelling is always possible.
SAVABLE_STATUSES = ("active", "trialing")
PAUSE_BEHAVIOR = "void"  # the paused months' invoices are voided: nothing is owed for them


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """The retention coupon as Stripe defines it (for the customer's words: "20 % off for 3
    months")."""

    id: str
    percent_off: float | None
    amount_off: Money | None
    duration: str  # once | repeating | forever
    duration_in_months: int | None


@dataclass(frozen=True, slots=True)
class Offer:
    """One option for one subscription, with the amounts the customer agrees to."""

    option: Option
    subscription_id: str
    plan_name: str | None  # the subscription's plan now
    ends_at: datetime | None = None  # cancel: when access ends
    months: int | None = None  # pause
    resumes_at: datetime | None = None  # pause: when collection resumes
    coupon: CouponTerms | None = None
    current_price: Money | None = None  # coupon: the next invoice without it
    new_price: Money | None = None  # coupon: with it; plan switch: the new plan's price
    interval: str | None = None  # of `current_price` / `new_price`
    quote: PlanChangeQuote | None = None  # plan switch: Stripe's quote, applied as quoted
    credit: Money | None = None  # plan switch: the unused time Stripe credits to the balance

    @property
    def saves_customer(self) -> bool:
        return self.option in ("pause", "coupon", "plan_switch")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` calendar months later (the month's last day if it is shorter)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# --- which options apply ---
def available_options(sub: SubscriptionSummary) -> tuple[Option, ...]:
    """What may be done to `sub` as it is now, before any amount is asked of Stripe."""
    if not sub.live:
        return ()
    if sub.cancel_at_period_end:
        return ("resume", "cancel_now")
    options: list[Option] = []
    if sub.status in SAVABLE_STATUSES:
        if sub.status == "active" and not sub.paused:
            options.append("pause")
        if not sub.discounted:
            options.append("coupon")
        options.append("plan_switch")
    options += ["cancel_at_period_end", "cancel_now"]
    if sub.paused:
        options.append("resume")
    return tuple(options)


# --- the offers ---
def pause_offers(sub: SubscriptionSummary, max_months: int, now: datetime) -> list[Offer]:
    moment = now.replace(second=0, microsecond=0)
    return [
        Offer(
            "pause",
            sub.id,
            _plan_name(sub),
            months=months,
            resumes_at=add_months(moment, months),
            ends_at=sub.current_period_end,
        )
        for months in range(1, max_months + 1)
    ]


def cancel_offer(sub: SubscriptionSummary, option: Option, now: datetime) -> Offer:
    """`cancel_at_period_end` (access until the period's end), `cancel_now` or `resume`."""
    ends_at = now.replace(microsecond=0) if option == "cancel_now" else sub.current_period_end
    return Offer(option, sub.id, _plan_name(sub), ends_at=ends_at)


async def coupon_offer(
    gateway: StripeGateway, sub: SubscriptionSummary, coupon_id: str
) -> Offer | None:
    """The retention coupon's effect on the next invoice, as Stripe previews it; None when the
    coupon is missing, no longer valid, or Stripe would not apply it to this subscription."""
    try:
        coupon, plain, offered = await gather_all(
            gateway.retrieve_coupon(coupon_id),
            gateway.preview_invoice({"subscription": sub.id}),
            gateway.preview_invoice({"subscription": sub.id, "discounts": [{"coupon": coupon_id}]}),
        )
    except (StripeRejected, NotFound) as exc:  # unknown coupon, another currency, ...
        log.warning("no retention coupon offer for %s: %s", sub.id, exc.code)
        return None
    if not coupon.valid or offered.total >= plain.total:
        return None
    plan = sub.plan
    return Offer(
        "coupon",
        sub.id,
        _plan_name(sub),
        coupon=CouponTerms(
            id=coupon.id,
            percent_off=coupon.percent_off,
            amount_off=Money(coupon.amount_off, coupon.currency or sub.currency)
            if coupon.amount_off
            else None,
            duration=coupon.duration,
            duration_in_months=coupon.duration_in_months,
        ),
        current_price=Money(plain.total, plain.currency),
        new_price=Money(offered.total, offered.currency),
        interval=plan.interval if plan else None,
        ends_at=sub.current_period_end,
    )


def cheaper_plan(prices: list[Any], current: Plan) -> TargetPrice | None:
    """The closest cheaper plan in the same interval and currency (never an add-on, never
    another price of the same product), from the catalogue (`CATALOGUE_QUERY`) as the savings
    card reads it (`billing.savings.catalogue_from_prices`)."""
    if current.amount is None or current.add_on or not current.interval:
        return None
    current_monthly = monthly_equivalent(current) or 0
    cheaper = [
        target
        for price in catalogue_from_prices(prices)
        if price.product_id != current.product_id
        and price.amount.currency == current.amount.currency
        and price.interval == current.interval
        and price.interval_count == current.interval_count
        and (target := price.as_target()).monthly < current_monthly
    ]
    return max(cheaper, key=lambda p: p.monthly, default=None)


async def plan_offer(
    gateway: StripeGateway, customer_id: str, sub: SubscriptionSummary, prices: list[Any]
) -> Offer | None:
    """The closest cheaper plan with Stripe's quote for switching to it now (the unused time on
    the current plan credited), or None when there is none."""
    plan = sub.plan
    target = cheaper_plan(prices, plan) if plan is not None else None
    if plan is None or target is None or plan.item_id is None:
        return None
    try:
        quote = await quote_plan_change(
            gateway, customer_id, sub, target, proration_date=int(time.time()), downgrade=True
        )
    except (StripeRejected, NoSubscription) as exc:
        log.info("no cheaper-plan quote for %s: %s", sub.id, exc.code)
        return None
    total = sum(line.amount.amount for line in quote.lines)
    return Offer(
        "plan_switch",
        sub.id,
        plan.product_name,
        current_price=plan.amount,
        new_price=target.amount,
        interval=target.interval,
        quote=quote,
        credit=Money(-total, quote.amount_now.currency) if total < 0 else None,
    )


def _plan_name(sub: SubscriptionSummary) -> str | None:
    return sub.plan.product_name if sub.plan else None
