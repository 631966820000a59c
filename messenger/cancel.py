"""The Messenger's `cancel` card actions: the first screen (which subscription, then what
cancelling means and the offers), a chosen offer's confirm step (its signed confirmation token in
`stored_data`) and the confirmation, executed once (`billing.cancellation`, actor the customer).
"""

from __future__ import annotations

import logging

from billing.cancellation import (
    CancellationInProgress,
    CancellationPreview,
    OfferNotAvailable,
    SubscriptionNotFound,
    SubscriptionRequired,
    live_subscriptions,
)
from billing.cancellation_offers import Option
from billing.confirmation_tokens import ConfirmationTokenExpired, InvalidConfirmationToken
from billing.errors import StripeRejected
from billing.quotes import NoSubscription
from billing.snapshot import BillingSnapshot
from canvas_kit.components import Component
from kernel.i18n import t
from messenger import cards
from messenger.cards import cancel as cancel_cards
from messenger.cards.common import muted
from messenger.context import Customer, MessengerContext, find_customer

log = logging.getLogger(__name__)

# The Messenger offers these (cancelling right away is for an agent).
MESSENGER_OPTIONS: tuple[Option, ...] = (
    "pause",
    "coupon",
    "plan_switch",
    "cancel_at_period_end",
    "resume",
)
TOKEN_KEY = "cancel_token"


async def cancel_home(
    ctx: MessengerContext, customer: Customer, snapshot: BillingSnapshot
) -> list[Component]:
    """The first screen: the subscription to cancel (asked when there are several), what
    cancelling it means and the offers."""
    live = live_subscriptions(snapshot)
    if not live:
        return cancel_cards.no_subscription_card(locale=ctx.locale)
    if len(live) > 1:
        return cancel_cards.pick_subscription_card(live, locale=ctx.locale)
    return await _overview(ctx, customer, live[0].id)


async def pick_subscription(ctx: MessengerContext) -> list[Component]:
    """`cancel_pick:<subscription>`: the offers for that one."""
    customer = await find_customer(ctx, fresh=True)
    subscription_id = ctx.request.component_id.partition(":")[2]
    return await _overview(ctx, customer, subscription_id)


async def choose_offer(ctx: MessengerContext) -> list[Component]:
    """`cancel_offer:<option>[:<months>]:<subscription>`: the offer as Stripe prices it now,
    to confirm."""
    customer = await find_customer(ctx, fresh=True)
    if customer.ambiguous:
        return cards.ambiguous_card(locale=ctx.locale)
    parts = ctx.request.component_id.split(":")[1:]
    option, subscription_id = (parts[0], parts[-1]) if len(parts) >= 2 else ("", "")
    months = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None
    preview = await _preview(ctx, customer, subscription_id)
    if isinstance(preview, list):
        return preview
    signed = next(
        (
            s
            for s in preview.offers
            if s.offer.option == option and (months is None or s.offer.months == months)
        ),
        None,
    )
    if signed is None:
        return cancel_cards.not_available_card(locale=ctx.locale)
    ctx.stored[TOKEN_KEY] = signed.token
    return cancel_cards.confirm_card(signed.offer, locale=ctx.locale)


async def confirm_cancel(ctx: MessengerContext) -> list[Component]:
    token = ctx.stored.pop(TOKEN_KEY, None)
    if not isinstance(token, str):
        return await _back_home(ctx)
    customer = await find_customer(ctx, fresh=True)
    if customer.ambiguous:
        return cards.ambiguous_card(locale=ctx.locale)
    service = ctx.services.cancellations("messenger")
    try:
        result = await service.execute(token, customer_id=customer.id)
    except ConfirmationTokenExpired:
        return await _back_home(ctx)
    except InvalidConfirmationToken:
        log.warning("messenger cancellation with an invalid token for %s", customer.id)
        return await _back_home(ctx)
    except OfferNotAvailable:
        return cancel_cards.not_available_card(locale=ctx.locale)
    except CancellationInProgress:
        ctx.stored[TOKEN_KEY] = token
        return cancel_cards.in_progress_card(locale=ctx.locale)
    except StripeRejected as exc:
        log.warning("Stripe rejected a messenger cancellation for %s: %s", customer.id, exc.code)
        return cancel_cards.rejected_card(locale=ctx.locale)
    except BaseException:
        ctx.stored[TOKEN_KEY] = token  # "Try again" sends the same token: never twice
        raise
    finally:
        ctx.services.billing.invalidate(customer.id)
    log.info(
        "messenger cancellation %s for %s (replayed: %s)",
        result.offer.option,
        customer.id,
        result.replayed,
    )
    return cancel_cards.result_card(result, locale=ctx.locale)


async def _overview(
    ctx: MessengerContext, customer: Customer, subscription_id: str
) -> list[Component]:
    preview = await _preview(ctx, customer, subscription_id)
    if isinstance(preview, list):
        return preview
    return cancel_cards.cancel_card(preview, locale=ctx.locale)


async def _preview(
    ctx: MessengerContext, customer: Customer, subscription_id: str | None
) -> CancellationPreview | list[Component]:
    snapshot = await ctx.services.billing.snapshot(customer.stripe, fresh=True)
    try:
        return await ctx.services.cancellations("messenger").preview(
            snapshot,
            actor=ctx.actor,
            subscription_id=subscription_id or None,
            options=MESSENGER_OPTIONS,
        )
    except SubscriptionRequired as exc:
        return cancel_cards.pick_subscription_card(exc.choices, locale=ctx.locale)
    except (NoSubscription, SubscriptionNotFound):
        return cancel_cards.no_subscription_card(locale=ctx.locale)


async def _back_home(ctx: MessengerContext) -> list[Component]:
    customer = await find_customer(ctx, fresh=True)
    snapshot = await ctx.services.billing.snapshot(customer.stripe, fresh=True)
    notice = muted(t("That confirmation had expired. Here are your options.", ctx.locale))
    return [notice, *await cancel_home(ctx, customer, snapshot)]
