"""What a customer could save on their plan, computed from the price catalogue and their usage.

Two kinds of option, both pure arithmetic over prices (Stripe's invoice preview prices the actual
switch later, in `billing.quotes`):
- **yearly**: the same product billed yearly instead of monthly; saving per year =
  12 × monthly − yearly.
- **next tier**: the next more expensive product in the same interval, when the metered overage
  at the current usage costs more than the difference in base price. A plan includes the units
  in its product metadata `usage_limit`; the metered price bills the units above that.

The card shows the best option. No option means the current plan already fits: we never suggest
a change that costs the customer more. An add-on (product metadata `add_on=true`, e.g.
"Priority support") is bought beside a plan, not instead of one: it is left out of the catalogue,
so it is never offered as a plan, and a subscription of add-ons alone has nothing to compare.
A customer with several subscriptions gets the options of each (`options_by_subscription`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from billing.money import Money
from billing.quotes import MONTHS_PER, TargetPrice
from billing.snapshot import BillingSnapshot, Plan, SubscriptionSummary, is_add_on, metadata_of

OptionKind = Literal["yearly", "next_tier"]


@dataclass(frozen=True, slots=True)
class CataloguePrice:
    """One active, licensed, recurring price of the catalogue, with its product's facts."""

    price_id: str
    product_id: str
    product_name: str
    amount: Money
    interval: str
    interval_count: int = 1
    lookup_key: str | None = None
    included_units: int | None = None  # product metadata `usage_limit`

    @property
    def per_month(self) -> Decimal:
        """The price per month, in minor units (not rounded)."""
        return _per_month(self.amount.amount, self.interval, self.interval_count)

    def as_target(self) -> TargetPrice:
        return TargetPrice(
            price_id=self.price_id,
            product_id=self.product_id,
            product_name=self.product_name,
            amount=self.amount,
            interval=self.interval,
            interval_count=self.interval_count,
            lookup_key=self.lookup_key,
        )


@dataclass(frozen=True, slots=True)
class UsageCharges:
    """Metered usage this period and what one unit above the plan's included units costs."""

    used: int
    unit_price: Decimal  # minor units per unit (Stripe's `unit_amount_decimal`)
    included: int  # units included in the current plan

    def overage(self, included: int | None) -> Decimal:
        """What the metered price charges at the current usage on a plan including `included`."""
        return max(Decimal(0), Decimal(self.used - (included or 0))) * self.unit_price


@dataclass(frozen=True, slots=True)
class SavingsOption:
    kind: OptionKind
    current: Plan
    target: CataloguePrice
    current_per_month: Money  # base price per month plus overage at the current usage
    target_per_month: Money
    saving_per_month: Money
    saving_per_year: Money
    usage: UsageCharges | None = None  # next tier only: the usage the comparison is based on

    @property
    def current_overage(self) -> Money:
        amount = self.usage.overage(self.usage.included) if self.usage else Decimal(0)
        return Money(_round(amount), self.saving_per_month.currency)

    @property
    def target_overage(self) -> Money:
        amount = self.usage.overage(self.target.included_units) if self.usage else Decimal(0)
        return Money(_round(amount), self.saving_per_month.currency)


# --- the options ---
def yearly_option(current: Plan, catalogue: tuple[CataloguePrice, ...]) -> SavingsOption | None:
    """The same product billed yearly, if that costs less than twelve months of the current
    monthly price."""
    if current.amount is None or current.interval != "month":
        return None
    currency = current.amount.currency
    yearly = [
        p
        for p in catalogue
        if p.product_id == current.product_id
        and p.interval == "year"
        and p.interval_count == 1
        and p.amount.currency == currency
    ]
    if not yearly:
        return None
    target = min(yearly, key=lambda p: p.amount.amount)
    twelve_months = _per_month(current.amount.amount, "month", current.interval_count) * 12
    saving_per_year = twelve_months - target.amount.amount
    if saving_per_year <= 0:
        return None
    return SavingsOption(
        kind="yearly",
        current=current,
        target=target,
        current_per_month=Money(_round(twelve_months / 12), currency),
        target_per_month=Money(_round(target.per_month), currency),
        saving_per_month=Money(_round(saving_per_year / 12), currency),
        saving_per_year=Money(_round(saving_per_year), currency),
    )


def next_tier_option(
    current: Plan, catalogue: tuple[CataloguePrice, ...], usage: UsageCharges | None
) -> SavingsOption | None:
    """The next tier up (same interval and currency), if its base price plus its own overage at
    the current usage costs less than the current base price plus overage."""
    if current.amount is None or not current.interval or usage is None:
        return None
    currency = current.amount.currency
    current_base = _per_month(current.amount.amount, current.interval, current.interval_count)
    higher = [
        p
        for p in catalogue
        if p.product_id != current.product_id
        and p.interval == current.interval
        and p.interval_count == current.interval_count
        and p.amount.currency == currency
        and p.per_month > current_base
    ]
    if not higher:
        return None
    target = min(higher, key=lambda p: p.per_month)
    current_cost = current_base + usage.overage(usage.included)
    target_cost = target.per_month + usage.overage(target.included_units)
    saving_per_month = current_cost - target_cost
    if saving_per_month <= 0:
        return None
    return SavingsOption(
        kind="next_tier",
        current=current,
        target=target,
        current_per_month=Money(_round(current_cost), currency),
        target_per_month=Money(_round(target_cost), currency),
        saving_per_month=Money(_round(saving_per_month), currency),
        saving_per_year=Money(_round(saving_per_month * 12), currency),
        usage=usage,
    )


def savings_options(
    current: Plan | None, catalogue: tuple[CataloguePrice, ...], usage: UsageCharges | None
) -> list[SavingsOption]:
    """Every option that saves money, best (largest saving per year) first."""
    if current is None:
        return []
    options = [
        option
        for option in (
            yearly_option(current, catalogue),
            next_tier_option(current, catalogue, usage),
        )
        if option is not None
    ]
    return sorted(options, key=lambda o: -o.saving_per_year.amount)


def best_option(
    current: Plan | None, catalogue: tuple[CataloguePrice, ...], usage: UsageCharges | None
) -> SavingsOption | None:
    options = savings_options(current, catalogue, usage)
    return options[0] if options else None


def usage_charges(
    snapshot: BillingSnapshot, subscription: SubscriptionSummary | None = None
) -> UsageCharges | None:
    """The snapshot's metered usage and overage price, if the subscription (by default the
    primary one) has both."""
    sub = subscription or snapshot.subscription
    if sub is None or snapshot.usage is None:
        return None
    metered = next((p for p in sub.plans if p.metered and p.unit_amount_decimal), None)
    if metered is None or metered.unit_amount_decimal is None:
        return None
    if metered.meter_id is not None and metered.meter_id != snapshot.usage.meter_id:
        return None  # the usage is another subscription's meter
    return UsageCharges(
        used=int(snapshot.usage.used),
        unit_price=Decimal(metered.unit_amount_decimal),
        included=snapshot.usage.limit,
    )


def best_for(
    snapshot: BillingSnapshot,
    catalogue: tuple[CataloguePrice, ...],
    subscription: SubscriptionSummary | None = None,
) -> SavingsOption | None:
    """The best option for a live subscription of the customer (by default the primary one),
    or None when its plan fits."""
    sub = subscription or snapshot.subscription
    if sub is None or not sub.live or sub.cancel_at_period_end or sub.add_on:
        return None  # an ending subscription is not ours to upsell; an add-on is no plan
    return best_option(sub.plan, catalogue, usage_charges(snapshot, sub))


def options_by_subscription(
    snapshot: BillingSnapshot, catalogue: tuple[CataloguePrice, ...]
) -> list[tuple[SubscriptionSummary, SavingsOption]]:
    """Each live subscription that has a saving, with its best option (primary first)."""
    found = []
    for sub in snapshot.live_subscriptions:
        option = best_for(snapshot, catalogue, sub)
        if option is not None:
            found.append((sub, option))
    return found


@dataclass(frozen=True, slots=True)
class SavingsChoice:
    """What the savings card is about: one subscription and its best option (None: its plan
    fits), or — several subscriptions with a saving each and none chosen — the question which
    (`ask`)."""

    subscription: SubscriptionSummary | None
    option: SavingsOption | None
    ask: tuple[tuple[SubscriptionSummary, SavingsOption], ...] = ()
    with_savings: int = 0  # how many subscriptions have a saving

    @property
    def others(self) -> bool:
        """Another subscription has a saving too: the card offers a way to it."""
        return self.with_savings > (1 if self.option is not None else 0)


def savings_choice(
    snapshot: BillingSnapshot, catalogue: tuple[CataloguePrice, ...], chosen: str | None
) -> SavingsChoice:
    """The subscription `chosen` (one of the customer's live ones), else the only one with a
    saving, else the question which one when several have one, else the primary one."""
    options = options_by_subscription(snapshot, catalogue)
    sub = snapshot.subscription_by_id(chosen)
    count = len(options)
    if sub is not None and sub.live:
        option = next((o for s, o in options if s.id == sub.id), None)
        return SavingsChoice(sub, option, with_savings=count)
    if count > 1:
        best_first = sorted(options, key=lambda found: -found[1].saving_per_year.amount)
        return SavingsChoice(None, None, tuple(best_first), count)
    if options:
        return SavingsChoice(*options[0], with_savings=count)
    return SavingsChoice(snapshot.subscription, None)


def may_save(snapshot: BillingSnapshot) -> bool:
    """Without the catalogue at hand: could this customer have an option at all? (A monthly
    plan, or usage above the included units.) Used only to decide whether to offer the savings
    card; the card itself always computes with the catalogue."""
    plans = [s for s in snapshot.live_subscriptions if not s.cancel_at_period_end and not s.add_on]
    if not plans:
        return False
    if any(s.plan is not None and s.plan.interval == "month" for s in plans):
        return True
    usage = snapshot.usage
    return usage is not None and usage.used > usage.limit


# --- the catalogue ---
def catalogue_from_prices(
    prices: list[Any], *, usage_limit_key: str = "usage_limit"
) -> tuple[CataloguePrice, ...]:
    """Active, licensed, recurring prices of active products (prices listed with
    `expand=["data.product"]`), add-ons left out: they are never offered as a plan."""
    catalogue = []
    for price in prices:
        recurring = price.recurring
        product = price.product
        if (
            recurring is None
            or getattr(recurring, "usage_type", "licensed") == "metered"
            or price.unit_amount is None
            or isinstance(product, str)
            or not getattr(product, "active", True)
        ):
            continue
        metadata = metadata_of(product)
        if is_add_on(metadata) or is_add_on(metadata_of(price)):
            continue
        catalogue.append(
            CataloguePrice(
                price_id=price.id,
                product_id=product.id,
                product_name=product.name or product.id,
                amount=Money(price.unit_amount, price.currency),
                interval=recurring.interval,
                interval_count=recurring.interval_count or 1,
                lookup_key=price.lookup_key,
                included_units=_int_or_none(metadata.get(usage_limit_key)),
            )
        )
    return tuple(catalogue)


def _per_month(amount: int, interval: str, interval_count: int) -> Decimal:
    months = Decimal(str(MONTHS_PER.get(interval, 1))) * interval_count
    return Decimal(amount) / months


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
