"""The first screens of the document cards: `invoices` (the customer's recent invoices) and
`billing_details` (tax ids and address country, and a signed link into the Billing Portal to
update them). Like every Messenger card, only a verified user gets here (`billing.trust`)."""

from __future__ import annotations

from billing.billing_details import load_billing_details
from billing.invoices import recent_invoices
from canvas_kit.components import Component
from kernel.link_tokens import PaymentLink, payment_link_url
from messenger.cards.documents import billing_details_card, invoices_card
from messenger.context import Customer, MessengerContext

DOCUMENT_CARDS = ("invoices", "billing_details")


async def document_screen(ctx: MessengerContext, customer: Customer) -> list[Component]:
    if ctx.card == "invoices":
        invoices = await recent_invoices(ctx.services.stripe, customer.id)
        return invoices_card(invoices, locale=ctx.locale)
    details = await load_billing_details(ctx.services.stripe, customer.id)
    return billing_details_card(
        details,
        locale=ctx.locale,
        update_url=details_link(ctx, customer),
        ambiguous=customer.ambiguous,
    )


def details_link(ctx: MessengerContext, customer: Customer) -> str | None:
    """A signed `/l/` link into the Billing Portal's customer-update flow for this customer;
    none while several customers match (nothing is changed on a guess)."""
    if customer.ambiguous:
        return None
    link = PaymentLink(
        customer=customer.id,
        invoice=None,
        kind="details",
        locale=ctx.locale,
        contact=ctx.request.identity.contact_id,
    )
    return payment_link_url(ctx.services.settings, link)
