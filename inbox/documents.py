"""The customer's documents in the sidebar: the details view lists their recent invoices (with
links to each one's page and PDF) and their billing details (tax ids, billing address country),
and the agent can send them the `invoices` or `billing_details` Messenger card.

Sending answers the inbox submit with `card_creation_options` {"card", "customer_id"}, like
`inbox.send_cards`: the customer gets a live card with their own invoices, or with a signed link
to update their billing details. The sections, buttons and the action are registered in
`inbox.endpoints` (`DETAILS_SECTIONS`, `SUMMARY_BUTTONS`, `ACTIONS`).
"""

from __future__ import annotations

import logging
from typing import Any

from billing.billing_details import load_billing_details
from billing.invoices import recent_invoices
from billing.snapshot import BillingSnapshot
from canvas_kit.components import Button, Component, Divider, Text, canvas, canvas_response
from canvas_kit.document_labels import address_country, invoice_line, tax_id_line
from inbox.sidebar import KEPT, InboxContext, render
from kernel.i18n import N_, t

log = logging.getLogger(__name__)

SIDEBAR_INVOICES = 5
DOCUMENT_CARDS = ("invoices", "billing_details")
SEND_WORDS = {
    "invoices": N_("Send invoices"),
    "billing_details": N_("Send billing details card"),
}
SENT_WORDS = {
    "invoices": N_("**Invoices card added to your reply**"),
    "billing_details": N_("**Billing details card added to your reply**"),
}
SENT_HINTS = {
    "invoices": N_(
        "Send the reply: the customer sees their recent invoices, each with its page and PDF."
    ),
    "billing_details": N_(
        "Send the reply: the customer sees their tax IDs and billing address, and a personal "
        "link to update them."
    ),
}


# --- the details view ---
async def invoices_section(snapshot: BillingSnapshot, ctx: InboxContext) -> list[Component]:
    locale = ctx.locale
    invoices = await recent_invoices(
        ctx.services.stripe, snapshot.customer.id, limit=SIDEBAR_INVOICES
    )
    lines: list[Component] = [Divider(), Text(text=t("**Invoices**", locale))]
    if not invoices:
        return [*lines, Text(text=t("No invoices yet", locale), style="muted")]
    return lines + [Text(text=invoice_line(invoice, locale)) for invoice in invoices]


async def billing_details_section(snapshot: BillingSnapshot, ctx: InboxContext) -> list[Component]:
    locale = ctx.locale
    details = await load_billing_details(ctx.services.stripe, snapshot.customer.id)
    lines: list[Component] = [
        Divider(),
        Text(text=t("**Billing details**", locale)),
        Text(
            text=t("Billing address: %(country)s", locale, country=address_country(details, locale))
        ),
    ]
    if not details.tax_ids:
        return [*lines, Text(text=t("No tax ID on file.", locale), style="muted")]
    return lines + [
        Text(text=t("Tax ID: %(tax_id)s", locale, tax_id=tax_id_line(tax_id, locale)))
        for tax_id in details.tax_ids
    ]


# --- send a card ---
def document_buttons(snapshot: BillingSnapshot, ctx: InboxContext) -> list[Button]:
    """Always offered (after the more urgent buttons): any customer may ask for an invoice
    copy or need to put their VAT ID on the next one."""
    return [
        Button(id=f"send_document:{card}", label=t(SEND_WORDS[card], ctx.locale), style="secondary")
        for card in DOCUMENT_CARDS
    ]


async def send_document(ctx: InboxContext, card: str) -> dict[str, Any]:
    customer_id = ctx.stored.get("customer_id")
    if card not in DOCUMENT_CARDS or not isinstance(customer_id, str) or not customer_id:
        return canvas_response(await render(ctx, view="summary"))
    log.info("agent %s sends a %s card for %s", ctx.request.admin_id, card, customer_id)
    stored = {k: v for k, v in ctx.stored.items() if k in KEPT}
    return canvas_response(
        canvas(
            Text(text=t(SENT_WORDS[card], ctx.locale)),
            Text(text=t(SENT_HINTS[card], ctx.locale), style="muted"),
            Button(id="summary", label=t("Back", ctx.locale), style="secondary"),
            stored_data={**stored, "view": "action"},
        ),
        card_creation_options={"card": card, "customer_id": customer_id},
    )
