"""The Fin endpoints for the customer's documents: `/fin/invoices` (recent invoices, or one by
its number, with a ready-to-say message and the PDF link) and `/fin/billing-details` (tax ids,
billing address country, and a personal link to update them). Registered in
`actions.endpoints.ENDPOINTS`.

Trust (`billing.trust`): reading invoices is a read, so an email alone may list them — but an
invoice link opens without a login and shows name, address and tax id, so links go only to a
request whose `user_id` or `stripe_id` found the customer (`may_share_documents`); for an email
alone they are null and the message asks the customer to sign in. A link that edits billing
details is a change: it needs that verified identity (403 `verified_identity_required`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING

from actions.answers import money_out
from actions.document_schemas import (
    BillingDetailsResponse,
    InvoiceOut,
    InvoicesRequest,
    InvoicesResponse,
    TaxIdOut,
)
from actions.messages import say
from billing.billing_details import BillingDetails, load_billing_details
from billing.invoices import (
    RECENT_INVOICES,
    InvoiceCopy,
    InvoicedSubscription,
    invoice_by_number,
    invoiced_subscription,
    recent_invoices,
)
from billing.money import format_day
from billing.trust import may_share_documents
from gateways.stripe import gather_all
from kernel.i18n import country_name
from kernel.link_tokens import PaymentLink, link_expires_at, payment_link_url
from kernel.logs import bind_customer

if TYPE_CHECKING:
    from actions.endpoints import FinCall

INVOICES_SUMMARY = "The customer's recent invoices (or one by number) with links to the PDF"
INVOICES_DESCRIPTION = (
    "Call this when the customer asks for an invoice or a copy of it: 'Could you send me my "
    "last invoice?', 'I need invoice ANNABECK-0006 again', 'Where can I download my "
    "invoices?'. Pass `number` when the customer names an invoice number, `limit`=1 for "
    "'my last invoice', and `subscription_id` for the invoices of one of several "
    "subscriptions ('the invoices for my add-on'; an unknown one is 404 "
    "`subscription_not_found`). The answer lists finalized invoices, newest first (number, "
    "date, amounts, status) and a `message` to relay with the PDF link. Invoice links go only to a "
    "verified contact: send `user_id` or `stripe_id`; with only an email the invoices are "
    "listed without links (`links_included`=false) and `message` asks the customer to sign in. "
    "An unknown number is answered with 404 `invoice_not_found`."
)
BILLING_DETAILS_SUMMARY = "The customer's tax IDs and billing country, and a link to update them"
BILLING_DETAILS_DESCRIPTION = (
    "Call this when the customer wants to change their billing address or add or correct a "
    "VAT ID / tax ID on their invoices: 'Please put our VAT ID on the invoice', 'We moved, "
    "please update our address'. It changes nothing itself: it returns the tax IDs and "
    "billing address country on file and a personal `url` (valid until `expires_at`) where "
    "the customer updates their address and tax IDs themselves; relay `message`, which "
    "contains the link. Handing out that link needs a verified contact: send `user_id` or "
    "`stripe_id`; a request with only an email is refused with 403 "
    "`verified_identity_required` (relay `message`: the customer should sign in)."
)


# --- invoices ---
async def invoices(call: FinCall) -> InvoicesResponse:
    body: InvoicesRequest = call.body
    resolution = await call.services.billing.resolve(call.identity)
    customer = resolution.require_one(for_money=False)
    bind_customer(customer.id)
    gateway, subscription_id = call.services.stripe, body.subscription_id
    if body.number:
        listing = _one(
            invoice_by_number(gateway, customer.id, body.number, subscription_id=subscription_id)
        )
    else:
        listing = recent_invoices(
            gateway,
            customer.id,
            limit=body.limit or RECENT_INVOICES,
            subscription_id=subscription_id,
        )
    subscription = None
    if subscription_id is None:
        found = await listing
    else:
        # Whose it is and what it is called, asked beside the list; "not theirs" comes first.
        subscription, found = await gather_all(
            invoiced_subscription(gateway, customer.id, subscription_id), _outcome(listing)
        )
        if isinstance(found, Exception):
            raise found
    return invoices_answer(
        customer.id,
        found,
        call.locale,
        links=may_share_documents(call.identity, resolution),
        subscription=subscription,
    )


async def _one(invoice: Awaitable[InvoiceCopy]) -> list[InvoiceCopy]:
    return [await invoice]


async def _outcome(listing: Awaitable[list[InvoiceCopy]]) -> list[InvoiceCopy] | Exception:
    try:
        return await listing
    except Exception as exc:  # raised once the subscription is known to be theirs
        return exc


def invoices_answer(
    customer_id: str,
    found: list[InvoiceCopy],
    locale: str,
    *,
    links: bool,
    subscription: InvoicedSubscription | None = None,
) -> InvoicesResponse:
    return InvoicesResponse(
        customer_id=customer_id,
        subscription_id=subscription.id if subscription else None,
        subscription_name=subscription.name if subscription else None,
        invoices=[_invoice_out(invoice, locale, links=links) for invoice in found],
        links_included=links,
        message=say(
            "invoices",
            locale,
            subscription=subscription.name if subscription else None,
            invoices=[
                {
                    "number": invoice.label,
                    "date": format_day(invoice.created, locale),
                    "amount": invoice.total.format(locale),
                    "status": invoice.status,
                    "pdf": invoice.invoice_pdf if links else None,
                }
                for invoice in found
            ],
            links=links,
        ),
    )


def _invoice_out(invoice: InvoiceCopy, locale: str, *, links: bool) -> InvoiceOut:
    return InvoiceOut(
        id=invoice.id,
        number=invoice.number,
        created=invoice.created,
        status=invoice.status,
        currency=invoice.currency,
        total=money_out(invoice.total, locale),
        amount_due=money_out(invoice.amount_due, locale),
        amount_paid=money_out(invoice.amount_paid, locale),
        hosted_invoice_url=invoice.hosted_invoice_url if links else None,
        invoice_pdf=invoice.invoice_pdf if links else None,
        subscription_id=invoice.subscription_id,
    )


# --- billing details ---
async def billing_details(call: FinCall) -> BillingDetailsResponse:
    customer = await call.customer(for_money=True)  # the link changes the customer
    details = await load_billing_details(call.services.stripe, customer.id)
    settings = call.services.settings
    link = PaymentLink(customer=customer.id, invoice=None, kind="details", locale=call.locale)
    return billing_details_answer(
        details,
        call.locale,
        url=payment_link_url(settings, link),
        hours=settings.link_max_age_hours,
        expires_at=link_expires_at(settings),
    )


def billing_details_answer(
    details: BillingDetails, locale: str, *, url: str, hours: int, expires_at: datetime
) -> BillingDetailsResponse:
    return BillingDetailsResponse(
        customer_id=details.customer_id,
        tax_ids=[
            TaxIdOut(
                type=tax_id.type,
                value=tax_id.value,
                country=tax_id.country,
                verification_status=tax_id.verification,
            )
            for tax_id in details.tax_ids
        ],
        address_country=details.address_country,
        url=url,
        expires_at=expires_at,
        message=say(
            "billing_details",
            locale,
            tax_ids=[
                {"type": tax_id.type, "value": tax_id.value, "verification": tax_id.verification}
                for tax_id in details.tax_ids
            ],
            country=country_name(details.address_country, locale),
            url=url,
            hours=hours,
        ),
    )
