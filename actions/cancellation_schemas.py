"""Request and response bodies of Fin's cancel-or-save endpoints (`/fin/cancellation/preview`,
`/fin/cancellation`); like `actions.schemas`, the source of their part of `/fin/openapi.json`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from actions.schemas import FinRequest, MoneyOut, _blank_to_none


class CancellationPreviewRequest(FinRequest):
    subscription_id: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^sub_[A-Za-z0-9]+$",
        description="The subscription the customer wants to cancel (`sub_...`). Needed only "
        "when the customer has several: without it the answer is 409 `subscription_required` "
        "with the subscriptions in `details`.",
    )

    _blank_subscription = field_validator("subscription_id", mode="before")(_blank_to_none)


class CancellationRequest(FinRequest):
    confirmation_token: Annotated[str, Field(min_length=1, max_length=4000)] = Field(
        description="The `confirmation_token` of the option the customer explicitly chose in "
        "the preview."
    )


class SubscriptionToCancelOut(BaseModel):
    id: str
    plan: str | None
    status: str
    price: MoneyOut | None = Field(description="Price per interval of the plan.")
    interval: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool


class CancellationOfferOut(BaseModel):
    option: str = Field(
        description="pause (payments paused for `months`), coupon (the retention discount), "
        "plan_switch (the closest cheaper plan), cancel_at_period_end."
    )
    description: str = Field(description="The option in one sentence, with its exact amounts.")
    months: int | None = Field(default=None, description="pause: how many months.")
    resumes_at: datetime | None = Field(default=None, description="pause: payments resume then.")
    current_price: MoneyOut | None = Field(
        default=None, description="coupon: the next invoice as it is; plan_switch: the price now."
    )
    new_price: MoneyOut | None = Field(
        default=None,
        description="coupon: the next invoice with the discount (Stripe's preview); "
        "plan_switch: the cheaper plan's price.",
    )
    interval: str | None = None
    target_plan: str | None = Field(default=None, description="plan_switch: the cheaper plan.")
    amount_due_now: MoneyOut | None = Field(
        default=None, description="plan_switch: charged when switching (usually nothing)."
    )
    credit: MoneyOut | None = Field(
        default=None, description="plan_switch: unused time on the current plan, credited."
    )
    ends_at: datetime | None = Field(
        default=None, description="cancel_at_period_end: the subscription ends then."
    )
    confirmation_token: str = Field(
        description="Pass to /fin/cancellation once the customer chose this option. Single use."
    )


class CancellationPreviewResponse(BaseModel):
    customer_id: str
    subscription: SubscriptionToCancelOut
    ends_at: datetime | None = Field(
        description="If cancelled, the subscription ends (and access stops) then."
    )
    offers: list[CancellationOfferOut] = Field(
        description="What the customer may choose, offers to stay first, cancelling last."
    )
    expires_at: datetime = Field(description="The confirmation tokens expire then.")
    message: str


class CancellationResponse(BaseModel):
    customer_id: str
    subscription_id: str
    option: str
    done: bool = True
    already: bool = Field(
        description="True when the subscription was so already; nothing was changed."
    )
    replayed: bool = Field(
        description="True when this token was executed before: this is that first result."
    )
    ends_at: datetime | None = None
    resumes_at: datetime | None = None
    new_price: MoneyOut | None = None
    message: str
