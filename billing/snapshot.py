"""A customer's billing at a glance: `BillingSnapshot` and its parts, plain data, and how the
parts read their Stripe objects (`payment_of`, `plan_of`, `subscription_summary`, ...).

Cards, Fin answers and automations are pure functions of it. `billing.snapshot_loader` assembles
it from Stripe; `billing.lifetime_value` sums the customer's history apart, as it can take long.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from billing.money import Money, to_datetime
from billing.sepa import SepaReason, sepa_reason
from gateways.stripe import id_of
from gateways.stripe_models import Charge, InvoicePreview, Price, Product, Subscription

LIVE_STATUSES = ("trialing", "active", "past_due", "unpaid", "incomplete", "paused")
# Product (or price) metadata marking an add-on bought beside a plan ("Priority support"): it is
# never the plan a customer is asking about, nor a plan to offer (`billing.savings`).
ADD_ON_KEY = "add_on"
LifetimeValue = tuple[Money, ...]


class NamedProduct(Protocol):
    """A product as plans read it: from `gateways.stripe_models` or the SDK (the catalogue)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def metadata(self) -> Mapping[str, str] | None: ...


@dataclass(frozen=True, slots=True)
class PaymentMethodSummary:
    id: str
    type: str  # "card", "sepa_debit", ...
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    bank_code: str | None = None
    country: str | None = None

    @property
    def is_sepa(self) -> bool:
        return self.type == "sepa_debit"

    def expired(self, now: datetime) -> bool:
        if self.exp_year is None or self.exp_month is None:
            return False
        return (self.exp_year, self.exp_month) < (now.year, now.month)


@dataclass(frozen=True, slots=True)
class Plan:
    product_id: str
    product_name: str
    price_id: str
    amount: Money | None  # None for metered prices
    interval: str | None  # "month", "year", ...
    interval_count: int = 1
    lookup_key: str | None = None
    metered: bool = False
    meter_id: str | None = None
    unit_amount_decimal: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    item_id: str | None = None  # the subscription item carrying this price, when on one

    @property
    def add_on(self) -> bool:
        return is_add_on(self.metadata)


@dataclass(frozen=True, slots=True)
class SubscriptionSummary:
    id: str
    status: str
    plans: tuple[Plan, ...]  # licensed plans first, metered items after; each knows its item
    current_period_start: datetime | None
    current_period_end: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    cancel_at: datetime | None
    currency: str
    canceled_at: datetime | None = None  # when cancelling was asked for
    paused: bool = False  # payment collection is paused (`pause_collection`)
    paused_until: datetime | None = None  # when collection resumes (None: until resumed)
    discounted: bool = False  # a discount (coupon) applies to the subscription

    @property
    def plan(self) -> Plan | None:
        """The subscription's main (licensed) plan."""
        licensed = [p for p in self.plans if not p.metered]
        return next(iter(licensed or self.plans), None)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def add_on(self) -> bool:
        """Only add-ons on it (e.g. "Priority support" beside a plan on another subscription)."""
        plan = self.plan
        return plan is not None and plan.add_on


@dataclass(frozen=True, slots=True)
class Payment:
    charge_id: str
    payment_intent_id: str | None
    amount: Money
    amount_refunded: int
    status: str  # succeeded | pending | failed
    created: datetime
    failure_code: str | None
    failure_message: str | None
    method_type: str | None
    method_last4: str | None
    disputed: bool
    refunded: bool

    @property
    def is_sepa(self) -> bool:
        return self.method_type == "sepa_debit"

    @property
    def sepa_reason(self) -> SepaReason | None:
        return sepa_reason(self.failure_code) if self.is_sepa else None

    @property
    def refundable(self) -> Money:
        return Money(max(self.amount.amount - self.amount_refunded, 0), self.amount.currency)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    amount: Money
    proration: bool = False


@dataclass(frozen=True, slots=True)
class UpcomingInvoice:
    subscription_id: str
    amount_due: Money
    total: Money
    date: datetime | None
    lines: tuple[InvoiceLine, ...]


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    id: str
    number: str | None
    amount_remaining: Money
    created: datetime
    attempt_count: int
    next_payment_attempt: datetime | None
    hosted_invoice_url: str | None
    subscription_id: str | None


@dataclass(frozen=True, slots=True)
class Usage:
    meter_id: str
    used: float
    limit: int
    period_start: datetime
    period_end: datetime | None

    @property
    def ratio(self) -> float:
        return self.used / self.limit if self.limit else 0.0


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    id: str
    name: str | None
    email: str | None
    created: datetime
    balance: Money  # negative = credit in the customer's favour
    delinquent: bool
    currency: str


@dataclass(frozen=True, slots=True)
class BillingSnapshot:
    customer: CustomerSummary
    subscriptions: tuple[SubscriptionSummary, ...]
    payment_method: PaymentMethodSummary | None
    payments: tuple[Payment, ...]  # newest first, the latest few
    open_invoices: tuple[OpenInvoice, ...]
    next_invoice: UpcomingInvoice | None
    # Per currency, paid invoices net of refunds; None while it is still being calculated.
    lifetime_value: LifetimeValue | None
    usage: Usage | None
    fetched_at: datetime
    # Every live, renewing subscription's next invoice (`next_invoice` is the primary one's).
    next_invoices: tuple[UpcomingInvoice, ...] = ()

    @property
    def subscription(self) -> SubscriptionSummary | None:
        """The subscription the customer is most likely asking about (the primary one): a live
        one first, and of those a plan before an add-on."""
        live = [s for s in self.subscriptions if s.live]
        plans = [s for s in live if not s.add_on]
        return next(iter(plans or live or self.subscriptions), None)

    @property
    def live_subscriptions(self) -> tuple[SubscriptionSummary, ...]:
        """The live subscriptions, the primary one first."""
        live = [s for s in self.subscriptions if s.live]
        primary = self.subscription
        return tuple(sorted(live, key=lambda s: (s is not primary, s.add_on)))

    @property
    def several_subscriptions(self) -> bool:
        """More than one live subscription: every action then says which one it is about."""
        return sum(s.live for s in self.subscriptions) > 1

    def subscription_by_id(self, subscription_id: str | None) -> SubscriptionSummary | None:
        return next((s for s in self.subscriptions if s.id == subscription_id), None)

    def next_invoice_of(self, subscription_id: str) -> UpcomingInvoice | None:
        return next((i for i in self.next_invoices if i.subscription_id == subscription_id), None)

    @property
    def soonest_invoice(self) -> UpcomingInvoice | None:
        """The next invoice of any subscription that comes first (what "next" means to a
        customer with several)."""
        dated = [i for i in self.next_invoices if i.date is not None]
        if not dated:
            return self.next_invoice
        return min(dated, key=lambda i: i.date or self.fetched_at)

    @property
    def last_payments(self) -> tuple[Payment, ...]:
        return self.payments[:3]

    @property
    def last_payment(self) -> Payment | None:
        return self.payments[0] if self.payments else None

    @property
    def failed_invoice(self) -> OpenInvoice | None:
        """The open invoice whose payment failed (attempted at least once)."""
        failed = [i for i in self.open_invoices if i.attempt_count > 0]
        return failed[0] if failed else None

    def ltv_in(self, currency: str) -> Money:
        for money in self.lifetime_value or ():
            if money.currency == currency.lower():
                return money
        return Money(0, currency)


def is_add_on(metadata: Mapping[str, str]) -> bool:
    return str(metadata.get(ADD_ON_KEY, "")).strip().lower() == "true"


def subscription_name(sub: SubscriptionSummary, among: tuple[SubscriptionSummary, ...]) -> str:
    """How an action names the subscription it acts on: the product name when no other of
    `among` has the same one, else "Pro (sub_…)"."""
    if sub.plan is None:
        return sub.id
    name = sub.plan.product_name
    same = [s for s in among if s.id != sub.id and s.plan and s.plan.product_name == name]
    return f"{name} ({sub.id})" if same else name


def payment_of(charge: Charge) -> Payment:
    """A Stripe charge as the domain's `Payment` (the captured amount, where captured)."""
    details = charge.payment_method_details
    method_type = details.type if details else None
    last4 = None
    if details is not None:
        if method_type == "card" and details.card is not None:
            last4 = details.card.last4
        elif method_type == "sepa_debit" and details.sepa_debit is not None:
            last4 = details.sepa_debit.last4
    return Payment(
        charge_id=charge.id,
        payment_intent_id=charge.payment_intent,
        amount=Money(charge.amount_captured or charge.amount, charge.currency),
        amount_refunded=charge.amount_refunded or 0,
        status=charge.status,
        created=to_datetime(charge.created),
        failure_code=charge.failure_code,
        failure_message=charge.failure_message,
        method_type=method_type,
        method_last4=last4,
        disputed=bool(charge.disputed),
        refunded=bool(charge.refunded),
    )


def renewal_date(sub: SubscriptionSummary | None) -> datetime | None:
    """When a subscription next charges: at the trial's end while trialing, else the period's."""
    if sub is None:
        return None
    return sub.trial_end if sub.status == "trialing" else sub.current_period_end


def subscription_summary(
    sub: Subscription, products: Mapping[str, NamedProduct]
) -> SubscriptionSummary:
    """A Stripe subscription (items with their prices) as plain data; `products` by id give
    the plans their names."""
    items = sub.items.data
    plans = sorted(
        (plan_of(item.price, products, item.id) for item in items), key=lambda p: p.metered
    )
    return SubscriptionSummary(
        id=sub.id,
        status=sub.status,
        plans=tuple(plans),
        current_period_start=to_datetime(
            min((i.current_period_start for i in items), default=None)
        ),
        current_period_end=to_datetime(max((i.current_period_end for i in items), default=None)),
        trial_end=to_datetime(sub.trial_end),
        cancel_at_period_end=bool(sub.cancel_at_period_end),
        cancel_at=to_datetime(sub.cancel_at),
        currency=sub.currency,
        canceled_at=to_datetime(sub.canceled_at),
        paused=sub.pause_collection is not None,
        paused_until=to_datetime(sub.pause_collection.resumes_at)
        if sub.pause_collection is not None
        else None,
        discounted=bool(sub.discounts),
    )


def plan_of(price: Price, products: Mapping[str, NamedProduct], item_id: str | None = None) -> Plan:
    product_id = id_of(price.product)
    product: NamedProduct | None = products.get(product_id)
    if product is None and isinstance(price.product, Product):
        product = price.product
    recurring = price.recurring
    metered = bool(recurring and recurring.usage_type == "metered")
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
        meter_id=recurring.meter if recurring else None,
        unit_amount_decimal=str(price.unit_amount_decimal)
        if price.unit_amount_decimal is not None
        else None,
        metadata={**metadata_of(product), **metadata_of(price)} if product else metadata_of(price),
        item_id=item_id,
    )


def upcoming_invoice(
    preview: InvoicePreview, *, subscription_id: str, fallback_date: datetime | None
) -> UpcomingInvoice:
    """An invoice preview as plain data. A renewal is attempted when the period (or trial) ends:
    `next_payment_attempt` says so, else `fallback_date`; the preview's `created` is only the
    time of the preview itself."""
    lines = []
    for line in preview.lines.data:
        item_details = line.parent.subscription_item_details if line.parent else None
        lines.append(
            InvoiceLine(
                description=line.description or "",
                amount=Money(line.amount, line.currency),
                proration=bool(item_details and item_details.proration),
            )
        )
    return UpcomingInvoice(
        subscription_id=subscription_id,
        amount_due=Money(preview.amount_due, preview.currency),
        total=Money(preview.total, preview.currency),
        date=to_datetime(preview.next_payment_attempt) or fallback_date,
        lines=tuple(lines),
    )


def metadata_of(obj: Any) -> dict[str, str]:
    """Metadata of a typed model (a dict) or an SDK object (the catalogue's), as a plain dict."""
    metadata = getattr(obj, "metadata", None) if obj is not None else None
    if not metadata:
        return {}
    return dict(metadata.to_dict() if hasattr(metadata, "to_dict") else metadata)
