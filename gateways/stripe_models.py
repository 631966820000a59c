"""Slim, typed views of the Stripe objects the product reads, decoded straight from the JSON of
Stripe's answers (`gateways.stripe` is the only module that decodes them).

Each model names exactly the fields some part of the product reads, with Stripe's own names, so
code reads them as it would read the SDK's objects (`customer.invoice_settings`,
`sub.items.data`). Every other field of Stripe's answer is skipped while decoding: a list of
invoices costs a few structs, not a tree of `StripeObject`s. An expandable field is the id
(`str`) or, where we ask Stripe to expand it, the object. Fields Stripe may leave out (a
deleted customer has almost nothing) have defaults.

msgspec rather than pydantic: decoding the same answers is several times faster with msgspec
(measured in `docs/architecture.md`), and these models carry no validation beyond types.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class _Model(msgspec.Struct, frozen=True, kw_only=True):
    """Base: immutable, keyword-only, unknown fields ignored."""


class ListObject(_Model, Generic[T], frozen=True):
    """A page of a Stripe list (or search) answer."""

    data: list[T] = []
    has_more: bool = False
    next_page: str | None = None  # search results only


# --- products and prices ---
class Product(_Model, frozen=True):
    id: str
    name: str | None = None
    active: bool = True
    metadata: dict[str, str] = {}


class Recurring(_Model, frozen=True):
    interval: str | None = None
    interval_count: int = 1
    usage_type: str | None = None
    meter: str | None = None


class Price(_Model, frozen=True):
    id: str
    product: str | Product
    currency: str = "eur"
    unit_amount: int | None = None
    unit_amount_decimal: str | None = None
    recurring: Recurring | None = None
    nickname: str | None = None
    lookup_key: str | None = None
    metadata: dict[str, str] = {}


# --- payment methods ---
class CardDetails(_Model, frozen=True):
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    country: str | None = None


class SepaDebitDetails(_Model, frozen=True):
    last4: str | None = None
    bank_code: str | None = None
    country: str | None = None


class PaymentMethod(_Model, frozen=True):
    id: str
    type: str
    created: int = 0
    customer: str | None = None
    card: CardDetails | None = None
    sepa_debit: SepaDebitDetails | None = None


# --- subscriptions and customers ---
class SubscriptionItem(_Model, frozen=True):
    id: str
    price: Price
    current_period_start: int = 0
    current_period_end: int = 0


class SubscriptionItems(_Model, frozen=True):
    data: list[SubscriptionItem] = []


class PauseCollection(_Model, frozen=True):
    behavior: str | None = None
    resumes_at: int | None = None


class Discount(_Model, frozen=True):
    id: str


class Subscription(_Model, frozen=True):
    id: str
    status: str
    customer: str | None = None
    currency: str = "eur"
    items: SubscriptionItems = SubscriptionItems()
    trial_end: int | None = None
    cancel_at_period_end: bool = False
    cancel_at: int | None = None
    canceled_at: int | None = None  # when cancelling was asked for (also for the period end)
    pause_collection: PauseCollection | None = None
    discounts: list[str | Discount] = []
    default_payment_method: str | PaymentMethod | None = None


class InvoiceSettings(_Model, frozen=True):
    default_payment_method: str | PaymentMethod | None = None


class Address(_Model, frozen=True):
    country: str | None = None


class TaxIdVerification(_Model, frozen=True):
    status: str | None = None  # pending, verified, unverified, unavailable


class TaxId(_Model, frozen=True):
    id: str
    type: str  # eu_vat, gb_vat, ...
    value: str
    country: str | None = None
    verification: TaxIdVerification | None = None


class Customer(_Model, frozen=True):
    id: str
    deleted: bool = False
    name: str | None = None
    email: str | None = None
    created: int = 0
    balance: int = 0
    currency: str | None = None
    delinquent: bool | None = False
    metadata: dict[str, str] = {}
    invoice_settings: InvoiceSettings | None = None
    address: Address | None = None
    subscriptions: ListObject[Subscription] | None = None  # when expanded
    tax_ids: ListObject[TaxId] | None = None  # when expanded


# --- coupons ---
class Coupon(_Model, frozen=True):
    id: str
    name: str | None = None
    valid: bool = True
    percent_off: float | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration: str = "once"  # once | repeating | forever
    duration_in_months: int | None = None


# --- charges ---
class ChargeMethodDetails(_Model, frozen=True):
    type: str | None = None
    card: CardDetails | None = None
    sepa_debit: SepaDebitDetails | None = None


class Charge(_Model, frozen=True):
    id: str
    customer: str | None = None
    payment_intent: str | None = None
    amount: int = 0
    amount_captured: int = 0
    amount_refunded: int = 0
    currency: str = "eur"
    status: str = "pending"
    created: int = 0
    failure_code: str | None = None
    failure_message: str | None = None
    payment_method_details: ChargeMethodDetails | None = None
    disputed: bool = False
    refunded: bool = False


# --- invoices ---
class SubscriptionDetails(_Model, frozen=True):
    subscription: str | None = None


class InvoiceParent(_Model, frozen=True):
    subscription_details: SubscriptionDetails | None = None


class LineItemDetails(_Model, frozen=True):
    proration: bool = False


class LineParent(_Model, frozen=True):
    subscription_item_details: LineItemDetails | None = None


class InvoiceLine(_Model, frozen=True):
    description: str | None = None
    amount: int = 0
    currency: str = "eur"
    parent: LineParent | None = None


class InvoiceLines(_Model, frozen=True):
    data: list[InvoiceLine] = []


class InvoicePaymentRef(_Model, frozen=True):
    type: str | None = None
    payment_intent: str | None = None


class InvoicePayment(_Model, frozen=True):
    """An invoice's payment (`payments`, included on request): which payment intent paid it;
    listed by payment intent (`/v1/invoice_payments`), the invoice it paid (expanded there)."""

    payment: InvoicePaymentRef = InvoicePaymentRef()
    invoice: str | Invoice | None = None


class _InvoiceFields(_Model, frozen=True):
    customer: str | None = None
    number: str | None = None
    status: str | None = None
    currency: str = "eur"
    amount_due: int = 0
    amount_paid: int = 0
    amount_remaining: int = 0
    total: int = 0
    created: int = 0
    attempt_count: int = 0
    next_payment_attempt: int | None = None
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    parent: InvoiceParent | None = None
    lines: InvoiceLines = InvoiceLines()
    payments: ListObject[InvoicePayment] | None = None  # when included (`expand`)

    @property
    def subscription_id(self) -> str | None:
        """The subscription that asked for this invoice (`parent.subscription_details`), if any."""
        details = self.parent.subscription_details if self.parent else None
        return details.subscription if details else None


class Invoice(_InvoiceFields, frozen=True):
    id: str = ""  # always there in Stripe's answers (a default only for the field order)


class InvoicePreview(_InvoiceFields, frozen=True):
    """`invoices.create_preview`: an invoice that doesn't exist (yet), without an id."""

    id: str | None = None


class PaidAmount(_Model, frozen=True):
    """Just what lifetime value sums (an invoice's payment or a charge's refunds)."""

    id: str
    currency: str = "eur"
    status: str | None = None
    amount_paid: int = 0
    amount_refunded: int = 0


# --- usage ---
class MeterEventSummary(_Model, frozen=True):
    aggregated_value: float = 0.0
