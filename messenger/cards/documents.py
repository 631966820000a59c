"""The cards for the customer's documents: their recent invoices with links to each one's page
and PDF (`invoices`), and their billing details with a link to update them
(`billing_details`)."""

from __future__ import annotations

from billing.billing_details import BillingDetails
from billing.invoices import InvoiceCopy
from canvas_kit.components import Button, Component, Text, UrlAction
from canvas_kit.document_labels import address_country, invoice_line, tax_id_line
from kernel.i18n import t
from messenger.cards.common import ambiguous_card, muted


def invoices_card(invoices: list[InvoiceCopy], *, locale: str) -> list[Component]:
    if not invoices:
        return [
            Text(text=t("**No invoices yet**", locale)),
            muted(t("Your invoices show up here as soon as they are issued.", locale)),
        ]
    return [
        Text(text=t("**Your invoices**", locale)),
        *(Text(text=invoice_line(invoice, locale)) for invoice in invoices),
        muted(
            t(
                "Each invoice opens on the page of our payment provider, Stripe, where you can "
                "download it.",
                locale,
            )
        ),
    ]


def billing_details_card(
    details: BillingDetails, *, locale: str, update_url: str | None, ambiguous: bool = False
) -> list[Component]:
    components: list[Component] = [
        Text(text=t("**Your billing details**", locale)),
        Text(
            text=t("Billing address: %(country)s", locale, country=address_country(details, locale))
        ),
    ]
    if details.tax_ids:
        components += [
            Text(
                text=t(
                    "Tax ID: %(tax_id)s",
                    locale,
                    tax_id=tax_id_line(tax_id, locale, for_customer=True),
                )
            )
            for tax_id in details.tax_ids
        ]
    else:
        components.append(muted(t("No tax ID on file.", locale)))
    if ambiguous:
        return components + ambiguous_card(locale=locale)
    if update_url:
        components += [
            muted(
                t(
                    "Change your billing address or add your VAT ID: it appears on your next "
                    "invoices.",
                    locale,
                )
            ),
            Button(
                id="update_billing_details",
                label=t("Update billing details", locale),
                action=UrlAction(url=update_url),
            ),
        ]
    return components
