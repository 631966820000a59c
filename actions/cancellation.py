"""Fin's cancel-or-save endpoints: `/fin/cancellation/preview` (what cancelling means and the
offers to stay, each with its confirmation token) and `/fin/cancellation` (the chosen option,
once). Both need a verified identity (`billing.trust`): the preview hands out tokens that change
a subscription. The domain is `billing.cancellation`; the words are shared with the cards
(`canvas_kit.cancel_words`) and the templates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from actions.answers import money_out
from actions.cancellation_schemas import (
    CancellationOfferOut,
    CancellationPreviewRequest,
    CancellationPreviewResponse,
    CancellationRequest,
    CancellationResponse,
    SubscriptionToCancelOut,
)
from actions.messages import say
from billing.cancellation import (
    CancellationPreview,
    CancellationResult,
)
from billing.cancellation_offers import Offer, Option
from billing.money import format_day
from billing.snapshot import SubscriptionSummary
from canvas_kit.cancel_words import discount_words, offer_sentence, per
from storage.actions import Actor

if TYPE_CHECKING:
    from actions.endpoints import FinCall

# Fin offers these; cancelling right away is for an agent (the sidebar).
FIN_OPTIONS: tuple[Option, ...] = ("pause", "coupon", "plan_switch", "cancel_at_period_end")


async def cancellation_preview(call: FinCall) -> CancellationPreviewResponse:
    body: CancellationPreviewRequest = call.body
    customer = await call.customer(for_money=True)
    snapshot = await call.services.billing.snapshot(customer, fresh=True)
    preview = await call.services.cancellations("fin").preview(
        snapshot,
        actor=Actor("fin", None, body.conversation_id),
        subscription_id=body.subscription_id,
        options=FIN_OPTIONS,
    )
    return preview_answer(preview, call.locale)


async def cancellation(call: FinCall) -> CancellationResponse:
    body: CancellationRequest = call.body
    customer = await call.customer(for_money=True)
    result = await call.services.cancellations("fin").execute(
        body.confirmation_token, customer_id=customer.id
    )
    if not result.replayed:
        call.services.billing.invalidate(customer.id)
    return done_answer(result, call.locale)


# --- answers (pure) ---
def preview_answer(preview: CancellationPreview, locale: str) -> CancellationPreviewResponse:
    sub = preview.subscription
    offers = [signed.offer for signed in preview.offers]
    stays = [o for o in offers if o.saves_customer]
    pauses = [o for o in stays if o.option == "pause"]
    others = [o for o in stays if o.option != "pause"]
    message = say(
        "cancellation_preview",
        locale,
        plan=_plan(sub),
        pending=sub.cancel_at_period_end,
        ends_at=format_day(preview.ends_at, locale),
        max_pause=max((o.months or 0 for o in pauses), default=0),
        offers=[offer_sentence(o, locale) for o in others],
        can_cancel=any(o.option == "cancel_at_period_end" for o in offers),
    )
    return CancellationPreviewResponse(
        customer_id=preview.customer_id,
        subscription=subscription_out(sub, locale),
        ends_at=preview.ends_at,
        offers=[_offer_out(s.offer, s.token, locale) for s in preview.offers],
        expires_at=preview.expires_at,
        message=message,
    )


def done_answer(result: CancellationResult, locale: str) -> CancellationResponse:
    offer = result.offer
    return CancellationResponse(
        customer_id=result.customer_id,
        subscription_id=offer.subscription_id,
        option=offer.option,
        already=result.already,
        replayed=result.replayed,
        ends_at=offer.ends_at if offer.option.startswith("cancel") else None,
        resumes_at=offer.resumes_at,
        new_price=money_out(offer.new_price, locale) if offer.new_price else None,
        message=say(
            "cancellation_done",
            locale,
            already=result.already,
            option=offer.option,
            plan=offer.plan_name or "",
            ends_at=format_day(offer.ends_at, locale),
            resumes_at=format_day(offer.resumes_at, locale),
            discount=discount_words(offer.coupon, locale) if offer.coupon else "",
            new_price=per(offer.new_price, offer.interval, locale),
            target=offer.quote.target.product_name if offer.quote else "",
        ),
    )


def subscription_out(sub: SubscriptionSummary, locale: str) -> SubscriptionToCancelOut:
    plan = sub.plan
    return SubscriptionToCancelOut(
        id=sub.id,
        plan=plan.product_name if plan else None,
        status=sub.status,
        price=money_out(plan.amount, locale) if plan and plan.amount else None,
        interval=plan.interval if plan else None,
        current_period_end=sub.current_period_end,
        cancel_at_period_end=sub.cancel_at_period_end,
    )


def _offer_out(offer: Offer, token: str, locale: str) -> CancellationOfferOut:
    quote = offer.quote
    return CancellationOfferOut(
        option=offer.option,
        description=offer_sentence(offer, locale),
        months=offer.months,
        resumes_at=offer.resumes_at,
        current_price=money_out(offer.current_price, locale) if offer.current_price else None,
        new_price=money_out(offer.new_price, locale) if offer.new_price else None,
        interval=offer.interval,
        target_plan=quote.target.product_name if quote else None,
        amount_due_now=money_out(quote.amount_now, locale) if quote else None,
        credit=money_out(offer.credit, locale) if offer.credit else None,
        ends_at=offer.ends_at if offer.option.startswith("cancel") else None,
        confirmation_token=token,
    )


def _plan(sub: SubscriptionSummary) -> str:
    return sub.plan.product_name if sub.plan else sub.id
