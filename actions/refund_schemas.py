"""Request and response bodies of Fin's refund endpoints (`/fin/refunds/preview`,
`/fin/refunds`). Like `actions.schemas`, they validate what Fin sends and are the source of
their part of `/fin/openapi.json`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from actions.schemas import FinRequest, MoneyOut, _blank_to_none


class RefundPreviewRequest(FinRequest):
    charge_id: str | None = Field(
        default=None,
        max_length=100,
        description="The payment to refund (a Stripe charge id, see `recent_payments` of "
        "billing-status). By default the customer's latest payment.",
    )
    amount: int | None = Field(
        default=None,
        gt=0,
        description="Amount to refund in the currency's minor unit (cents: 1250 = 12.50 €). "
        "By default everything not yet refunded of that payment.",
    )
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why the customer wants the money back, in their words (kept in the "
        "audit trail).",
    )

    _blank_ids = field_validator("charge_id", "reason", mode="before")(_blank_to_none)


class RefundRequest(FinRequest):
    confirmation_token: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="The `confirmation_token` of a refund preview the customer has explicitly "
        "agreed to."
    )


class ChargeOut(BaseModel):
    id: str
    amount: MoneyOut
    amount_refunded: MoneyOut
    refundable: MoneyOut = Field(description="What is left to refund on this payment.")
    status: str
    created: datetime
    payment_method_type: str | None
    payment_method_last4: str | None
    subscription_id: str | None = Field(
        default=None,
        description="The subscription this payment paid an invoice of (an `id` of "
        "billing-status `subscriptions`, or a cancelled one); null when the payment was for no "
        "subscription (a one-off invoice or charge).",
        examples=["sub_DemoMultiPlan"],
    )
    subscription_name: str | None = Field(
        default=None,
        description="That subscription's plan (its product's name), which `message` names; "
        "null when `subscription_id` is.",
        examples=["Pro"],
    )


class RefundPreviewResponse(BaseModel):
    customer_id: str
    eligible: bool
    reason: str | None = Field(
        description="Why not, when not eligible: refund_amount_too_high, refund_charge_too_old, "
        "refund_limit_reached, refund_disputed_payment, refund_payment_not_settled, "
        "refund_payment_failed, refunded_already, refund_charge_not_found."
    )
    amount: MoneyOut | None = Field(description="What would be refunded.")
    charge: ChargeOut | None
    confirmation_token: str | None = Field(
        description="Pass to /fin/refunds after the customer confirmed `amount`. Single use."
    )
    expires_at: datetime | None
    message: str


class RefundResponse(BaseModel):
    customer_id: str
    refunded: bool = True
    refund_id: str
    refund_status: str = Field(description="Stripe's refund status: succeeded or pending.")
    amount: MoneyOut
    charge_id: str
    replayed: bool = Field(
        description="True when this token was executed before: this is that first result, "
        "no money moved again."
    )
    message: str
