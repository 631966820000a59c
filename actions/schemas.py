"""The Fin data connectors' request and response bodies (PRODUCT.md §1.4), as pydantic models.

They validate what Fin sends (wrong types or missing fields → 422 with the field errors) and are
the source of `/fin/openapi.json`, so the field descriptions are written for whoever sets up a
connector and for Fin itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonDict

Interval = Literal["month", "year"]
_INTERVAL_WORDS = {
    "month": "month",
    "monthly": "month",
    "monat": "month",
    "monatlich": "month",
    "year": "year",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
    "jahr": "year",
    "jährlich": "year",
}


# What JSON Schema's `\s` means (ECMA-262 white space and line terminators), so that "blank"
# means the same to us and to the published schema (`pattern: "\\S"`): Python's str.strip()
# would also strip e.g. U+001C, which a schema validator calls non-blank.
_ECMA_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_NOT_BLANK = r"\S"


def _blank_to_none(value: object) -> object:
    # Intercom fills a template variable the contact lacks with an empty string.
    if isinstance(value, str) and not value.strip(_ECMA_SPACE):
        return None
    return value.strip(_ECMA_SPACE) if isinstance(value, str) else value


def _named(field: str) -> JsonDict:
    """JSON Schema: `field` is present and a string with something other than white space."""
    return {"required": [field], "properties": {field: {"type": "string", "pattern": _NOT_BLANK}}}


class FinRequest(BaseModel):
    """Who is asking: Intercom fills `email` and `user_id` from the verified contact."""

    model_config = ConfigDict(
        extra="ignore",
        str_max_length=500,
        # What `_someone` checks, said in the schema: at least one identifier, not blank.
        json_schema_extra={"anyOf": [_named("email"), _named("user_id"), _named("stripe_id")]},
    )

    email: str | None = Field(
        default=None,
        max_length=320,
        description="The contact's email address (Intercom attribute `email`). Enough to read "
        "billing; refunds need `user_id` or `stripe_id` (an email alone is answered with 403 "
        "`verified_identity_required`).",
        examples=["anna@example.com"],
    )
    user_id: str | None = Field(
        default=None,
        max_length=200,
        description="The contact's user id (Intercom attribute `user_id` / external id), set "
        "by your product for signed-in users: it lets Fin move money for them.",
        examples=["usr_anna"],
    )
    stripe_id: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^cus_[A-Za-z0-9]+$",
        description="The contact's custom attribute `stripe_id`, when an agent linked the contact "
        "to a Stripe customer: it wins over user id and email (and settles a shared email).",
        examples=["cus_DemoHealthy"],
    )
    locale: str | None = Field(
        default=None,
        max_length=35,
        description="Language of `message`: `en` or `de` (e.g. the contact's language). "
        "Other or missing values use the server's default.",
        examples=["de"],
    )
    conversation_id: str | None = Field(
        default=None,
        max_length=100,
        description="The Intercom conversation id, kept in the audit trail of refunds.",
    )

    _blank = field_validator(
        "email", "user_id", "stripe_id", "locale", "conversation_id", mode="before"
    )(_blank_to_none)

    @model_validator(mode="after")
    def _someone(self) -> FinRequest:
        if not self.email and not self.user_id and not self.stripe_id:
            raise ValueError("email, user_id or stripe_id is required to identify the customer")
        return self


class BillingStatusRequest(FinRequest):
    pass


class SubscriptionRequest(FinRequest):
    subscription_id: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^sub_[A-Za-z0-9]+$",
        description="The subscription meant (an `id` of billing-status `subscriptions`), for a "
        "customer with several; it must be one of theirs (else 404 `subscription_not_found`). "
        "next-invoice: by default the one that renews first; upgrade-quote: required when the "
        "customer has several live subscriptions (else 409 `subscription_required`).",
        examples=["sub_DemoMultiPlan"],
    )

    _blank_subscription = field_validator("subscription_id", mode="before")(_blank_to_none)


class NextInvoiceRequest(SubscriptionRequest):
    pass


class UpgradeQuoteRequest(SubscriptionRequest):
    target_plan: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The plan the customer asks about: a product name ('Business'), a price "
        "lookup key ('business_yearly') or a price id. Case does not matter.",
        examples=["Business"],
    )
    interval: Interval | None = Field(
        default=None,
        description="Billing interval of the new plan; by default the current plan's interval.",
    )

    @field_validator("interval", mode="before")
    @classmethod
    def _interval_words(cls, value: object) -> object:
        value = _blank_to_none(value)
        if isinstance(value, str):
            return _INTERVAL_WORDS.get(value.casefold(), value)
        return value


# --- responses ---
class MoneyOut(BaseModel):
    amount: int = Field(description="In the currency's minor unit (cents).")
    currency: str = Field(description="Lower-case ISO 4217 code.", examples=["eur"])
    formatted: str = Field(description="As the customer reads it.", examples=["79,00 €"])


class PlanOut(BaseModel):
    name: str
    price: MoneyOut | None = Field(description="Price per interval; null for usage-based prices.")
    interval: str | None = Field(description="month, year, ...")
    interval_count: int = 1


class PaymentMethodOut(BaseModel):
    type: str = Field(description="card, sepa_debit, ...")
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None


class NextPaymentOut(BaseModel):
    amount: MoneyOut
    date: datetime | None


class OpenInvoiceOut(BaseModel):
    id: str
    number: str | None
    amount_remaining: MoneyOut
    payment_failed: bool = Field(description="A payment attempt for this invoice failed.")
    failure_reason: str | None = Field(
        description="Why the last payment failed, in plain words (with the SEPA reason code "
        "for direct debits)."
    )
    next_payment_attempt: datetime | None
    hosted_invoice_url: str | None = Field(description="null unless user_id/stripe_id found them")


class PaymentOut(BaseModel):
    charge_id: str
    amount: MoneyOut
    amount_refunded: MoneyOut
    status: str = Field(description="succeeded, pending (e.g. SEPA processing) or failed.")
    created: datetime
    payment_method_type: str | None


class SubscriptionOut(BaseModel):
    id: str = Field(examples=["sub_DemoMultiPlan"])
    plan: PlanOut | None = Field(description="The subscription's main plan (or add-on).")
    add_on: bool = Field(
        description="An add-on bought beside a plan (e.g. 'Priority support'), not a plan."
    )
    status: str = Field(description="active, trialing, past_due, ...")
    trial_end: datetime | None
    cancel_at_period_end: bool
    current_period_end: datetime | None
    next_payment: NextPaymentOut | None = Field(
        description="This subscription's next invoice (none while it is ending)."
    )


class BillingStatusResponse(BaseModel):
    customer_id: str
    subscriptions: list[SubscriptionOut] = Field(
        description="Every live subscription, the primary one first (the one `plan`, "
        "`status` and `next_payment` describe). Use an `id` as `subscription_id` of "
        "next-invoice or upgrade-quote when the customer has several."
    )
    plan: PlanOut | None
    status: str = Field(
        description="Subscription status (active, trialing, past_due, ...) or `none`."
    )
    trial_end: datetime | None
    cancel_at_period_end: bool
    current_period_end: datetime | None
    next_payment: NextPaymentOut | None
    payment_method: PaymentMethodOut | None
    open_invoices: list[OpenInvoiceOut]
    recent_payments: list[PaymentOut] = Field(description="The last three payments, newest first.")
    balance: MoneyOut = Field(description="Negative: credit in the customer's favour.")
    message: str = Field(description="A sentence Fin can say to the customer.")


class InvoiceLineOut(BaseModel):
    description: str
    amount: MoneyOut
    proration: bool


class NextInvoiceResponse(BaseModel):
    customer_id: str
    has_upcoming_invoice: bool
    subscription_id: str | None
    subscription_name: str | None = Field(
        default=None,
        description="The subscription's product (with its id if two share a name), when the "
        "customer has several live subscriptions; `message` names it.",
    )
    amount_due: MoneyOut | None = Field(
        description="What will be charged (after credit balance and discounts)."
    )
    total: MoneyOut | None
    date: datetime | None = Field(description="When the invoice will be charged.")
    lines: list[InvoiceLineOut] = Field(description="The main lines, largest first (at most 5).")
    message: str


class QuotePlanOut(BaseModel):
    name: str
    price_id: str
    price: MoneyOut | None
    interval: str | None


class UpgradeQuoteResponse(BaseModel):
    customer_id: str
    quotable: bool = Field(
        description="False when there is nothing to quote: see `reason` and `message`."
    )
    reason: str | None = Field(
        default=None,
        description="Why there is no quote: plan_not_found, already_on_plan, not_an_upgrade, "
        "no_subscription, not_a_plan (the subscription holds an add-on).",
    )
    kind: str | None = Field(default=None, description="upgrade or interval_change.")
    subscription_id: str | None = Field(default=None, description="The subscription quoted.")
    subscription_name: str | None = Field(
        default=None,
        description="Its product (with its id if two share a name), when the customer has "
        "several live subscriptions; `message` names it.",
    )
    current_plan: QuotePlanOut | None = None
    target_plan: QuotePlanOut | None = None
    amount_due_now: MoneyOut | None = Field(
        default=None,
        description="Charged immediately when the change is made (prorated, after credit).",
    )
    new_recurring_price: MoneyOut | None = None
    new_interval: str | None = None
    effective_date: datetime | None = None
    proration_date: int | None = Field(
        default=None,
        description="Unix time the proration is computed for; applying the change with the "
        "same proration_date charges exactly `amount_due_now`.",
    )
    lines: list[InvoiceLineOut] = Field(default_factory=list)
    message: str


class SubscriptionChoiceOut(BaseModel):
    id: str = Field(examples=["sub_DemoMultiPlan"])
    product: str = Field(examples=["Pro"])
    price: MoneyOut | None
    interval: str | None
    status: str


class ErrorBody(BaseModel):
    code: str = Field(
        description="Stable, machine-readable: unauthorized, invalid_json, invalid_request, "
        "customer_not_found, subscription_not_found, subscription_required, "
        "ambiguous_customer, verified_identity_required, stripe_unavailable, refund_*, ..."
    )
    message: str = Field(description="Safe to relay to the customer.")
    details: list[dict[str, str]] | None = Field(default=None, description="Field errors of a 422.")
    subscriptions: list[SubscriptionChoiceOut] | None = Field(
        default=None,
        description="With `subscription_required`: the customer's live subscriptions; ask which "
        "one is meant and call again with its `id` as `subscription_id`.",
    )


class ErrorResponse(BaseModel):
    error: ErrorBody
