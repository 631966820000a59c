"""Request and response bodies of the Fin endpoints for the customer's documents: invoice copies
(`/fin/invoices`) and billing details (`/fin/billing-details`). Like `actions.schemas`, they
validate what Fin sends and are the source of `/fin/openapi.json`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from actions.schemas import FinRequest, MoneyOut, _blank_to_none


class InvoicesRequest(FinRequest):
    number: str | None = Field(
        default=None,
        max_length=100,
        description="An invoice number the customer names (as printed on the invoice, e.g. "
        "`ANNABECK-0006`; case does not matter). Without it: the latest invoices.",
        examples=["ANNABECK-0006"],
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        le=10,
        description="How many of the latest invoices to list (1–10, default 5). Use 1 for "
        "'my last invoice'.",
    )

    subscription_id: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^sub_[A-Za-z0-9]+$",
        description="Only this subscription's invoices (an `id` of billing-status "
        "`subscriptions`, or of a cancelled one), for a customer with several: 'my invoices "
        "for the add-on'. It must be one of the customer's (else 404 "
        "`subscription_not_found`). With `number`: that invoice only if it bills this "
        "subscription.",
        examples=["sub_DemoMultiPlan"],
    )

    _blank_fields = field_validator("number", "limit", "subscription_id", mode="before")(
        _blank_to_none
    )


class BillingDetailsRequest(FinRequest):
    pass


class InvoiceOut(BaseModel):
    id: str
    number: str | None = Field(description="As printed on the invoice.")
    created: datetime = Field(description="The invoice date.")
    status: str = Field(description="open (not paid yet), paid, uncollectible or void.")
    currency: str = Field(description="Lower-case ISO 4217 code.", examples=["eur"])
    total: MoneyOut = Field(description="The invoice's total.")
    amount_due: MoneyOut = Field(description="What the invoice asked to pay (after credit).")
    amount_paid: MoneyOut
    hosted_invoice_url: str | None = Field(
        description="Stripe's page of the invoice (view, download, pay when open). Null when "
        "the request named the customer by email only (see `links_included`)."
    )
    invoice_pdf: str | None = Field(
        description="The invoice as a PDF. Null when the request named the customer by email "
        "only (see `links_included`)."
    )
    subscription_id: str | None = Field(description="The subscription it bills, if any.")


class InvoicesResponse(BaseModel):
    customer_id: str
    subscription_id: str | None = Field(
        default=None,
        description="The subscription the list is limited to (the request's `subscription_id`).",
    )
    subscription_name: str | None = Field(
        default=None,
        description="Its plan (the product's name), which `message` names; null without "
        "`subscription_id`.",
        examples=["Priority support"],
    )
    invoices: list[InvoiceOut] = Field(description="Newest first; drafts are never listed.")
    links_included: bool = Field(
        description="False when the request named the customer by email only: anyone with an "
        "invoice link can open it, so links go only to a verified contact (`user_id` or "
        "`stripe_id`); `message` then asks the customer to sign in for them."
    )
    message: str = Field(description="A sentence Fin can say, with the PDF link(s) when included.")


class TaxIdOut(BaseModel):
    type: str = Field(description="Stripe's tax id type: eu_vat, gb_vat, ...", examples=["eu_vat"])
    value: str = Field(examples=["DE123456789"])
    country: str | None = Field(description="ISO 3166-1 alpha-2.", examples=["DE"])
    verification_status: str | None = Field(
        description="pending, verified, unverified or unavailable; null when not checked."
    )


class BillingDetailsResponse(BaseModel):
    customer_id: str
    tax_ids: list[TaxIdOut]
    address_country: str | None = Field(
        description="Country of the billing address (ISO 3166-1 alpha-2); null without one."
    )
    url: str = Field(
        description="A personal link for the customer: it opens a page where they update their "
        "billing address and tax ids (nothing else). Give it to the customer only."
    )
    expires_at: datetime = Field(description="When the link stops working.")
    message: str
