"""`BillingSnapshot` assembled from Stripe, in at most two sequential round trips.

The customer (found by `billing.resolution`, with its subscriptions and default payment method
expanded) is round one; everything else is fetched concurrently in round two, each list only as
long as what is shown (`PAYMENTS_LIMIT` charges, open invoices). Lifetime value is a sum over
the whole history, so it is kept apart (`billing.lifetime_value`): a render takes it if it is
known or arrives within round two, else shows it as being calculated.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from billing.errors import BillingError
from billing.lifetime_value import LifetimeValueLoad
from billing.money import Money, to_datetime
from billing.snapshot import (
    LIVE_STATUSES,
    BillingSnapshot,
    CustomerSummary,
    LifetimeValue,
    NamedProduct,
    OpenInvoice,
    PaymentMethodSummary,
    SubscriptionSummary,
    UpcomingInvoice,
    Usage,
    metadata_of,
    payment_of,
    renewal_date,
    subscription_summary,
    upcoming_invoice,
)
from gateways.stripe import StripeGateway, gather_all, id_of
from gateways.stripe_models import (
    Customer,
    Invoice,
    InvoicePreview,
    PaymentMethod,
    Product,
    Subscription,
    SubscriptionItem,
)

# Charges a snapshot reads: the last 3 are shown, the refund picker lists up to 5 of the last
# 60 days, a failed invoice's attempts are among them.
PAYMENTS_LIMIT = 10
OPEN_INVOICES_LIMIT = 10


ProductSource = Callable[[str], Awaitable[Product]]


@dataclass(frozen=True, slots=True)
class SnapshotOptions:
    """Which Stripe metadata keys carry our facts (settings `*_METADATA_KEY`)."""

    usage_limit_key: str = "usage_limit"
    usage_meter_key: str = "usage_meter"


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
    # Fetched only when it is neither expanded nor the customer's own (already expanded).
    pm_to_fetch = (
        sub_pm_id
        if _expanded_pm(sub_pm) is None and (customer_pm is None or sub_pm_id != customer_pm.id)
        else None
    )
    metered = _metered_item(live_subs)

    if lifetime_value is None:
        lifetime_value = LifetimeValueLoad(gateway, customer.id)
    # One flat gather: a task per request and none for what isn't asked (every cold render
    # runs this; a task costs ~3 µs of CPU, and a nested gather adds a task of its own).
    calls: list[Awaitable[Any]] = [
        gateway.list_charges(customer.id, limit=PAYMENTS_LIMIT),
        gateway.list_invoices(customer.id, status="open", limit=OPEN_INVOICES_LIMIT),
        *(_safe_preview(gateway, customer.id, sub.id) for sub in preview_subs),
        *(product(pid) for pid in product_ids),
    ]
    if pm_to_fetch is not None:
        calls.append(gateway.retrieve_payment_method(pm_to_fetch))
    if metered:
        calls.append(_usage_value(gateway, customer.id, metered, now))
    if not raw_subs:
        # Expanded `subscriptions` omit canceled ones; an ex-customer's last plan still matters.
        calls.append(gateway.list_subscriptions(customer.id, limit=3))
    answers = iter(await gather_all(*calls))
    charges, open_invoices = next(answers), next(answers)
    previews = [next(answers) for _ in preview_subs]
    products_by_id: dict[str, NamedProduct] = {
        p.id: p for p in (next(answers) for _ in product_ids)
    }
    fetched_pm = next(answers) if pm_to_fetch is not None else None
    used = next(answers) if metered else None
    ended = next(answers) if not raw_subs else None
    if ended:
        raw_subs = ended[:3]
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
    next_invoices = tuple(_next_invoice(p, subscriptions) for p in previews if p is not None)

    return BillingSnapshot(
        customer=_customer_summary(customer),
        subscriptions=subscriptions,
        payment_method=payment_method,
        payments=tuple(payment_of(c) for c in charges),
        open_invoices=tuple(_open_invoice(i) for i in open_invoices if i.status == "open"),
        next_invoice=_primary_invoice(next_invoices, subscriptions),
        lifetime_value=known,
        usage=usage,
        fetched_at=now,
        next_invoices=next_invoices,
    )


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
    limit_raw = metadata_of(item.price).get(options.usage_limit_key)
    if limit_raw is None:
        # The plan's limit lives on the licensed plan's product (or the metered product).
        for product in products.values():
            if options.usage_limit_key in metadata_of(product):
                meter = metadata_of(product).get(options.usage_meter_key)
                if meter in (None, _meter_of(item)) and product.id != id_of(item.price.product):
                    limit_raw = metadata_of(product)[options.usage_limit_key]
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


def _open_invoice(invoice: Invoice) -> OpenInvoice:
    return OpenInvoice(
        id=invoice.id,
        number=invoice.number,
        amount_remaining=Money(invoice.amount_remaining, invoice.currency),
        created=to_datetime(invoice.created),
        attempt_count=invoice.attempt_count or 0,
        next_payment_attempt=to_datetime(invoice.next_payment_attempt),
        hosted_invoice_url=invoice.hosted_invoice_url,
        subscription_id=invoice.subscription_id,
    )


def _next_invoice(
    preview: InvoicePreview, subscriptions: tuple[SubscriptionSummary, ...]
) -> UpcomingInvoice:
    sub = _preview_subscription(subscriptions, preview)
    return upcoming_invoice(
        preview, subscription_id=sub.id if sub else "", fallback_date=renewal_date(sub)
    )


def _primary_invoice(
    invoices: tuple[UpcomingInvoice, ...], subscriptions: tuple[SubscriptionSummary, ...]
) -> UpcomingInvoice | None:
    """The primary subscription's next invoice (`BillingSnapshot.subscription`), else the first."""
    live = [s for s in subscriptions if s.live]
    order = [s.id for s in live if not s.add_on] + [s.id for s in live if s.add_on]
    for sub_id in order:
        found = next((i for i in invoices if i.subscription_id == sub_id), None)
        if found is not None:
            return found
    return invoices[0] if invoices else None


def _preview_subscription(
    subscriptions: tuple[SubscriptionSummary, ...], preview: InvoicePreview
) -> SubscriptionSummary | None:
    sub_id = preview.subscription_id
    return next((s for s in subscriptions if s.id == sub_id or sub_id is None), None)


def _subscriptions_of(customer: Customer) -> list[Subscription]:
    return list(customer.subscriptions.data) if customer.subscriptions is not None else []


def _expanded_pm(value: str | PaymentMethod | None) -> PaymentMethod | None:
    return value if isinstance(value, PaymentMethod) else None
