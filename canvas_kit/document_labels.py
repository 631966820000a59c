"""Labels for the customer's documents, shared by the inbox and Messenger cards: an invoice as
one line with its links, a tax id, the billing address country."""

from __future__ import annotations

from billing.billing_details import BillingDetails, TaxIdSummary
from billing.invoices import InvoiceCopy
from canvas_kit.labels import day, money, plain
from kernel.i18n import N_, country_name, t

INVOICE_STATUS_WORDS = {
    "paid": N_("Paid"),
    "open": N_("Open"),
    "void": N_("Void"),
    "uncollectible": N_("Uncollectible"),
}
# Tax id types as a customer names them (Stripe's own code for the others).
TAX_ID_WORDS = {
    "eu_vat": N_("EU VAT number"),
    "gb_vat": N_("UK VAT number"),
    "ch_vat": N_("Swiss VAT number"),
    "de_stn": N_("German tax number"),
}
VERIFICATION_WORDS = {
    "verified": N_("verified"),
    "pending": N_("being verified"),
    "unverified": N_("not verified"),
}


def invoice_status(invoice: InvoiceCopy, locale: str) -> str:
    words = INVOICE_STATUS_WORDS.get(invoice.status)
    return t(words, locale) if words else plain(invoice.status)


def invoice_line(invoice: InvoiceCopy, locale: str) -> str:
    """ "**ANNABECK-0006** · Nov 14, 2026 · €79.00 · Paid · [Invoice](…) · [PDF](…)": one text
    component (Markdown: the number in bold, the links as links)."""
    parts = [
        f"**{plain(invoice.label)}**",
        day(invoice.created, locale),
        money(invoice.total, locale),
        invoice_status(invoice, locale),
    ]
    # (Words outside the f-strings: pybabel does not look into them.)
    if invoice.hosted_invoice_url:
        page = t("Invoice", locale)
        parts.append(f"[{page}]({_url(invoice.hosted_invoice_url)})")
    if invoice.invoice_pdf:
        pdf = t("PDF", locale)
        parts.append(f"[{pdf}]({_url(invoice.invoice_pdf)})")
    return " · ".join(parts)


def tax_id_line(tax_id: TaxIdSummary, locale: str, *, for_customer: bool = False) -> str:
    """ "eu_vat DE123456789 · verified" for an agent (Stripe's type, as the dashboard shows
    it); "EU VAT number DE123456789 · verified" for the customer."""
    kind = TAX_ID_WORDS.get(tax_id.type) if for_customer else None
    text = f"{t(kind, locale) if kind else plain(tax_id.type)} {plain(tax_id.value)}"
    words = VERIFICATION_WORDS.get(tax_id.verification or "")
    return f"{text} · {t(words, locale)}" if words else text


def address_country(details: BillingDetails, locale: str) -> str:
    """The billing address's country ("Germany" / "Deutschland"), or that there is none."""
    name = country_name(details.address_country, locale)
    return plain(name) if name else t("not given", locale)


def _url(url: str) -> str:
    # Stripe's URLs have no spaces or parentheses; keep it so, a link target can't be broken out of.
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
