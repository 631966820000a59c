"""A customer's billing at a glance: `BillingSnapshot`, assembled from Stripe.

Assembly waits for at most two sequential Stripe round trips: the customer (found by
`billing.resolution`, with its subscriptions and default payment method expanded) is round one;
everything else is fetched concurrently in round two, each list only as long as what is shown
(`PAYMENTS_LIMIT` charges, open invoices). Lifetime value is a sum over the whole history, so it
is kept apart (`billing.lookup` caches it longer and drops it on the customer's webhooks): a
render takes it if it is known or arrives within round two, else shows it as being calculated.
The snapshot is plain data, so cards, Fin answers and automations are pure functions of it.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from billing.errors import BillingError
from billing.money import Money, to_datetime
from billing.sepa import SepaReason, sepa_reason
from gateways.stripe import StripeGateway, gather_all, id_of
from gateways.stripe_models import (
    Charge,
    Customer,
    Invoice,
    InvoicePreview,
    ListObject,
    PaidAmount,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
)

LIVE_STATUSES = ("trialing", "active", "past_due", "unpaid", "incomplete", "paused")
# Charges a snapshot reads: the last 3 are shown, the refund picker lists up to 5 of the last
# 60 days, a failed invoice's attempts are among them.
PAYMENTS_LIMIT = 10
OPEN_INVOICES_LIMIT = 10
LifetimeValue = tuple[Money, ...]


class NamedProduct(Protocol):
    """A product as plans read it: from `gateways.stripe_models` or the SDK (the catalogue)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def metadata(self) -> Mapping[str, str] | None: ...


ProductSource = Callable[[str], Awaitable[Product]]


@dataclass(frozen=True, slots=True)
class SnapshotOptions:
    """Which Stripe metadata keys carry our facts (settings `*_METADATA_KEY`)."""

    usage_limit_key: str = "usage_limit"
    usage_meter_key: str = "usage_meter"


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
    default_payment_method_id: str | None
    latest_invoice_id: str | None
    currency: str

    @property
    def plan(self) -> Plan | None:
        """The subscription's main (licensed) plan."""
        licensed = [p for p in self.plans if not p.metered]
        return next(iter(licensed or self.plans), None)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


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
    payments: tuple[Payment, ...]  # newest first, the last PAYMENTS_LIMIT
    open_invoices: tuple[OpenInvoice, ...]
    next_invoice: UpcomingInvoice | None
    # Per currency, paid invoices net of refunds; None while it is still being calculated.
    lifetime_value: LifetimeValue | None
    usage: Usage | None
    fetched_at: datetime

    @property
    def subscription(self) -> SubscriptionSummary | None:
        """The subscription the customer is most likely asking about: a live one first."""
        live = [s for s in self.subscriptions if s.live]
        return next(iter(live or self.subscriptions), None)

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


# --- assembly ---
async def load_snapshot(
    gateway: StripeGateway,
    customer: Customer,
    options: SnapshotOptions | None = None,
    *,
    now: datetime | None = None,
    product: ProductSource | None = None,
    lifetime_value: LifetimeValue | LifetimeValueLoad | None = None,
    wait_for_lifetime_value: bool = True,
) -> BillingSnapshot:
    """Round two: everything about an already retrieved customer, concurrently.

    `customer` must have `subscriptions` and `invoice_settings.default_payment_method` expanded
    (as `billing.resolution` retrieves it). `product` looks a product up (a cache, or Stripe).
    `lifetime_value`: known already, or on its way (a load shared with other renders, started
    no later than this round two); if its first pages were not all of it and
    `wait_for_lifetime_value` is false, the snapshot says None (being calculated) and the load
    goes on. Without it, it is calculated here.
    """
    options = options or SnapshotOptions()
    now = now or datetime.now(UTC)
    product = product or gateway.retrieve_product
    raw_subs = _subscriptions_of(customer)
    customer_pm = _expanded_pm(
        customer.invoice_settings.default_payment_method if customer.invoice_settings else None
    )

    product_ids = sorted({id_of(item.price.product) for sub in raw_subs for item in sub.items.data})
    live_subs = [s for s in raw_subs if s.status in LIVE_STATUSES]
    preview_subs = [s for s in live_subs if not s.cancel_at_period_end]
    # The subscription's own default payment method wins over the customer's (Stripe's order).
    sub_pm = next((s.default_payment_method for s in live_subs if s.default_payment_method), None)
    sub_pm_id = id_of(sub_pm)
    need_sub_pm = (
        sub_pm_id is not None
        and _expanded_pm(sub_pm) is None
        and (customer_pm is None or sub_pm_id != customer_pm.id)
    )
    metered = _metered_item(live_subs)

    if lifetime_value is None:
        lifetime_value = LifetimeValueLoad(gateway, customer.id)
    calls: list[Awaitable[Any]] = [
        gateway.list_charges(customer.id, limit=PAYMENTS_LIMIT),
        gateway.list_invoices(customer.id, status="open", limit=OPEN_INVOICES_LIMIT),
        gather_all(*(product(pid) for pid in product_ids)),
        gather_all(*(_safe_preview(gateway, customer.id, sub.id) for sub in preview_subs)),
        gateway.retrieve_payment_method(sub_pm_id) if sub_pm_id and need_sub_pm else _none(),
        _usage_value(gateway, customer.id, metered, now) if metered else _none(),
    ]
    if not raw_subs:
        # Expanded `subscriptions` omit canceled ones; an ex-customer's last plan still matters.
        calls.append(gateway.list_subscriptions(customer.id, limit=3))
    (
        charges,
        open_invoices,
        products,
        previews,
        fetched_pm,
        used,
        *ended,
    ) = await gather_all(*calls)
    products_by_id: dict[str, NamedProduct] = {p.id: p for p in products}
    if ended and ended[0]:
        raw_subs = ended[0][:3]
        extra = sorted(
            {id_of(i.price.product) for s in raw_subs for i in s.items.data} - set(products_by_id)
        )
        products_by_id.update({p.id: p for p in await gather_all(*(product(pid) for pid in extra))})

    known: LifetimeValue | None
    if isinstance(lifetime_value, LifetimeValueLoad):
        # Shielded: the load may be shared with other renders, this one must not cancel it.
        known = await asyncio.shield(
            lifetime_value.complete if wait_for_lifetime_value else lifetime_value.first_round
        )
    else:
        known = lifetime_value

    subscriptions = tuple(subscription_summary(s, products_by_id) for s in raw_subs)
    payment_method = _payment_method_summary(fetched_pm or _expanded_pm(sub_pm) or customer_pm)
    usage = None
    if metered and used is not None:
        usage = _usage(metered, used, products_by_id, options)
    next_invoice = next((p for p in previews if p is not None), None)

    return BillingSnapshot(
        customer=_customer_summary(customer),
        subscriptions=subscriptions,
        payment_method=payment_method,
        payments=tuple(payment_of(c) for c in charges),
        open_invoices=tuple(_open_invoice(i) for i in open_invoices if i.status == "open"),
        next_invoice=_next_invoice(next_invoice, subscriptions) if next_invoice else None,
        lifetime_value=known,
        usage=usage,
        fetched_at=now,
    )


MAX_HISTORY_PAGES = 50  # 5,000 paid invoices and charges each


class LifetimeValueLoad:
    """Every paid invoice and every charge's refunds of a customer, summed; the two lists are
    paged side by side (100 per request: 500 paid invoices are 5 sequential requests).

    `first_round` resolves once the first page of each list is in: with the value if those
    pages were all there is, else None. `complete` resolves with the value. Create it inside a
    running event loop; it runs to its end whoever waits for it.
    """

    def __init__(self, gateway: StripeGateway, customer_id: str) -> None:
        self.first_round: asyncio.Future[LifetimeValue | None] = (
            asyncio.get_running_loop().create_future()
        )
        self.complete: asyncio.Task[LifetimeValue] = asyncio.ensure_future(
            self._load(gateway, customer_id)
        )

    async def _load(self, gateway: StripeGateway, customer_id: str) -> LifetimeValue:
        try:
            invoices, charges = await gather_all(
                gateway.paid_invoice_amounts(customer_id), gateway.charged_amounts(customer_id)
            )
            if not (invoices.has_more or charges.has_more):
                value = lifetime_value(invoices.data, charges.data)
                self._first(value)
                return value
            self._first(None)
            more_invoices, more_charges = await gather_all(
                _rest(gateway.paid_invoice_amounts, customer_id, invoices),
                _rest(gateway.charged_amounts, customer_id, charges),
            )
            return lifetime_value(invoices.data + more_invoices, charges.data + more_charges)
        finally:
            self._first(None)

    def _first(self, value: LifetimeValue | None) -> None:
        if not self.first_round.done():
            self.first_round.set_result(value)


async def _rest(
    page_of: Callable[..., Awaitable[ListObject[PaidAmount]]],
    customer_id: str,
    page: ListObject[PaidAmount],
) -> list[PaidAmount]:
    items: list[PaidAmount] = []
    for _ in range(MAX_HISTORY_PAGES):
        if not page.has_more or not page.data:
            break
        page = await page_of(customer_id, starting_after=page.data[-1].id)
        items.extend(page.data)
    return items


def lifetime_value(invoices: Iterable[PaidAmount], charges: Iterable[PaidAmount]) -> LifetimeValue:
    """Paid invoices net of refunds, per currency (largest first)."""
    totals: dict[str, int] = defaultdict(int)
    for invoice in invoices:
        if invoice.status == "paid":
            totals[invoice.currency] += invoice.amount_paid
    for charge in charges:
        if charge.amount_refunded:
            totals[charge.currency] -= charge.amount_refunded
    return tuple(
        Money(amount, currency)
        for currency, amount in sorted(totals.items(), key=lambda kv: -kv[1])
    )


async def _none() -> None:
    return None


async def _safe_preview(
    gateway: StripeGateway, customer_id: str, subscription_id: str
) -> InvoicePreview | None:
    """The next invoice; a subscription Stripe can't preview (e.g. ending) has none."""
    try:
        return await gateway.preview_invoice(
            {"customer": customer_id, "subscription": subscription_id}
        )
    except BillingError as exc:
        if exc.code in ("stripe_unavailable",):
            raise
        return None


def _metered_item(subs: list[Subscription]) -> SubscriptionItem | None:
    for sub in subs:
        for item in sub.items.data:
            recurring = item.price.recurring
            if recurring and recurring.usage_type == "metered" and recurring.meter:
                return item
    return None


def _meter_of(item: SubscriptionItem) -> str:
    return (item.price.recurring.meter if item.price.recurring else None) or ""


async def _usage_value(
    gateway: StripeGateway, customer_id: str, item: SubscriptionItem, now: datetime
) -> float:
    start = int(item.current_period_start) // 60 * 60
    end = math.ceil(now.timestamp() / 60) * 60
    return await gateway.meter_usage(_meter_of(item), customer_id, start, max(end, start + 60))


def _usage(
    item: SubscriptionItem,
    used: float,
    products: Mapping[str, NamedProduct],
    options: SnapshotOptions,
) -> Usage | None:
    limit_raw = _metadata(item.price).get(options.usage_limit_key)
    if limit_raw is None:
        # The plan's limit lives on the licensed plan's product (or the metered product).
        for product in products.values():
            if options.usage_limit_key in _metadata(product):
                meter = _metadata(product).get(options.usage_meter_key)
                if meter in (None, _meter_of(item)) and product.id != id_of(item.price.product):
                    limit_raw = _metadata(product)[options.usage_limit_key]
                    break
    try:
        limit = int(limit_raw) if limit_raw is not None else 0
    except ValueError:
        limit = 0
    if limit <= 0:
        return None
    return Usage(
        meter_id=_meter_of(item),
        used=used,
        limit=limit,
        period_start=to_datetime(item.current_period_start),
        period_end=to_datetime(item.current_period_end),
    )


def _customer_summary(customer: Customer) -> CustomerSummary:
    currency = customer.currency or "eur"
    return CustomerSummary(
        id=customer.id,
        name=customer.name,
        email=customer.email,
        created=to_datetime(customer.created),
        balance=Money(customer.balance or 0, currency),
        delinquent=bool(customer.delinquent),
        currency=currency,
    )


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
        default_payment_method_id=id_of(sub.default_payment_method),
        latest_invoice_id=sub.latest_invoice,
        currency=sub.currency,
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
        metadata={**_metadata(product), **_metadata(price)} if product else _metadata(price),
        item_id=item_id,
    )


def _payment_method_summary(pm: PaymentMethod | None) -> PaymentMethodSummary | None:
    if pm is None:
        return None
    if pm.type == "card" and pm.card is not None:
        card = pm.card
        return PaymentMethodSummary(
            id=pm.id,
            type="card",
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            country=card.country,
        )
    if pm.type == "sepa_debit" and pm.sepa_debit is not None:
        sepa = pm.sepa_debit
        return PaymentMethodSummary(
            id=pm.id,
            type="sepa_debit",
            last4=sepa.last4,
            bank_code=sepa.bank_code,
            country=sepa.country,
        )
    return PaymentMethodSummary(id=pm.id, type=pm.type)


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


def _open_invoice(invoice: Invoice) -> OpenInvoice:
    sub_details = invoice.parent.subscription_details if invoice.parent else None
    return OpenInvoice(
        id=invoice.id,
        number=invoice.number,
        amount_remaining=Money(invoice.amount_remaining, invoice.currency),
        created=to_datetime(invoice.created),
        attempt_count=invoice.attempt_count or 0,
        next_payment_attempt=to_datetime(invoice.next_payment_attempt),
        hosted_invoice_url=invoice.hosted_invoice_url,
        subscription_id=sub_details.subscription if sub_details else None,
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


def _next_invoice(
    preview: InvoicePreview, subscriptions: tuple[SubscriptionSummary, ...]
) -> UpcomingInvoice:
    sub = _preview_subscription(subscriptions, preview)
    return upcoming_invoice(
        preview, subscription_id=sub.id if sub else "", fallback_date=renewal_date(sub)
    )


def _preview_subscription(
    subscriptions: tuple[SubscriptionSummary, ...], preview: InvoicePreview
) -> SubscriptionSummary | None:
    sub_details = preview.parent.subscription_details if preview.parent else None
    sub_id = sub_details.subscription if sub_details else None
    return next((s for s in subscriptions if s.id == sub_id or sub_id is None), None)


def renewal_date(sub: SubscriptionSummary | None) -> datetime | None:
    """When a subscription next charges: at the trial's end while trialing, else the period's."""
    if sub is None:
        return None
    return sub.trial_end if sub.status == "trialing" else sub.current_period_end


def _subscriptions_of(customer: Customer) -> list[Subscription]:
    return list(customer.subscriptions.data) if customer.subscriptions is not None else []


def _expanded_pm(value: str | PaymentMethod | None) -> PaymentMethod | None:
    return value if isinstance(value, PaymentMethod) else None


def _metadata(obj: Any) -> dict[str, str]:
    """Metadata of a typed model (a dict) or an SDK object (the catalogue's), as a plain dict."""
    metadata = getattr(obj, "metadata", None) if obj is not None else None
    if not metadata:
        return {}
    return dict(metadata.to_dict() if hasattr(metadata, "to_dict") else metadata)
