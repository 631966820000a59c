"""A customer's invoices as people ask for them ("send me a copy of my last invoice"): the
recent finalized ones, newest first, with the links to Stripe's hosted page and PDF, or one by
its number.

Drafts are never shown (they have no number, no PDF and may still change); a void invoice is
shown, as void. Lookup by number lists the customer's invoices and filters them (newest first,
a page of 100 at a time, at most `NUMBER_PAGES` pages) rather than using `invoices.search`:
search is eventually consistent, and the invoice a customer asks about is usually the one that
was just finalized, which search may not know yet. A number is matched exactly, ignoring case
and surrounding white space (people type "annabeck-0006"). Either may be limited to one of the
customer's subscriptions (Stripe's `subscription` filter), named by its plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing.errors import BillingError, NotFound
from billing.money import Money, to_datetime
from billing.snapshot import subscription_summary
from billing.subscription_choice import SubscriptionNotFound
from gateways.stripe import StripeGateway
from gateways.stripe_models import Invoice

RECENT_INVOICES = 5  # what a card or the sidebar shows
MAX_INVOICES = 10  # what Fin may ask for
NUMBER_PAGES = 5  # invoices searched for a number: 500, newest first
# A list page holds drafts too (a renewal's draft lives about an hour): ask for a few more.
DRAFT_MARGIN = 3


class InvoiceNotFound(BillingError):
    """The customer has no finalized invoice with that number."""

    code = "invoice_not_found"


@dataclass(frozen=True, slots=True)
class InvoiceCopy:
    """A finalized invoice as the customer may receive it."""

    id: str
    number: str | None
    created: datetime
    status: str  # open, paid, uncollectible, void
    total: Money
    amount_due: Money
    amount_paid: Money
    hosted_invoice_url: str | None
    invoice_pdf: str | None
    subscription_id: str | None

    @property
    def currency(self) -> str:
        return self.amount_due.currency

    @property
    def label(self) -> str:
        """The number as printed on the invoice (the id of one that has none)."""
        return self.number or self.id


@dataclass(frozen=True, slots=True)
class InvoicedSubscription:
    """A subscription as its invoices and payments name it: the id and its plan's product."""

    id: str
    name: str  # "Pro"; the id for a subscription without a plan


async def recent_invoices(
    gateway: StripeGateway,
    customer_id: str,
    *,
    limit: int = RECENT_INVOICES,
    subscription_id: str | None = None,
) -> list[InvoiceCopy]:
    """The customer's latest `limit` finalized invoices (of `subscription_id` only, if named),
    newest first."""
    limit = max(1, min(limit, MAX_INVOICES))
    page = await gateway.invoices_page(
        customer_id, limit=limit + DRAFT_MARGIN, subscription=subscription_id
    )
    return [invoice_copy(i) for i in page.data if shown(i)][:limit]


async def invoice_by_number(
    gateway: StripeGateway, customer_id: str, number: str, *, subscription_id: str | None = None
) -> InvoiceCopy:
    """The customer's finalized invoice numbered `number` (of `subscription_id`, if named);
    `InvoiceNotFound` if there is none among their latest `NUMBER_PAGES` × 100 invoices."""
    wanted = number.strip().casefold()
    starting_after: str | None = None
    for _ in range(NUMBER_PAGES):
        page = await gateway.invoices_page(
            customer_id, starting_after=starting_after, subscription=subscription_id
        )
        for invoice in page.data:
            if shown(invoice) and (invoice.number or "").casefold() == wanted:
                return invoice_copy(invoice)
        if not page.has_more or not page.data:
            break
        starting_after = page.data[-1].id
    raise InvoiceNotFound("The customer has no invoice with this number.")


def shown(invoice: Invoice) -> bool:
    """Finalized invoices only: a draft may change and has neither number nor PDF."""
    return invoice.status not in (None, "draft")


def invoice_copy(invoice: Invoice) -> InvoiceCopy:
    return InvoiceCopy(
        id=invoice.id,
        number=invoice.number,
        created=to_datetime(invoice.created),
        status=invoice.status or "open",
        total=Money(invoice.total, invoice.currency),
        amount_due=Money(invoice.amount_due, invoice.currency),
        amount_paid=Money(invoice.amount_paid, invoice.currency),
        hosted_invoice_url=invoice.hosted_invoice_url,
        invoice_pdf=invoice.invoice_pdf,
        subscription_id=invoice.subscription_id,
    )


async def invoiced_subscription(
    gateway: StripeGateway, customer_id: str, subscription_id: str
) -> InvoicedSubscription:
    """The customer's subscription `subscription_id`, named by its plan. Any status: a cancelled
    subscription keeps its invoices and payments. Another customer's, or one Stripe does not
    know, is `SubscriptionNotFound`."""
    try:
        sub = await gateway.subscription_with_products(subscription_id)
    except NotFound:
        raise SubscriptionNotFound("No such subscription for this customer.") from None
    if sub.customer != customer_id:
        raise SubscriptionNotFound("No such subscription for this customer.")
    plan = subscription_summary(sub, {}).plan
    return InvoicedSubscription(sub.id, plan.product_name if plan else sub.id)
