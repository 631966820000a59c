"""The Messenger's savings card actions: show the saving, quote the switch (signed into
`stored_data`, so it cannot be edited on the way) and confirm it (`billing.plan_switch`)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from billing import savings
from billing.errors import StripeRejected
from billing.plan_switch import SWITCHABLE_STATUSES, confirm_plan_change
from billing.quotes import (
    NoSubscription,
    NotAnUpgrade,
    NotAPlan,
    PlanChangeQuote,
    PlanNotFound,
    quote_from_data,
    quote_plan_change,
    quote_to_data,
)
from billing.snapshot import SubscriptionSummary
from canvas_kit.components import Component
from kernel.i18n import t
from kernel.services import Services
from messenger import cards
from messenger.context import MessengerContext, find_customer
from messenger.home import home, savings_screen, subscription_label
from storage.actions import ActionStore

log = logging.getLogger(__name__)

QUOTE_SALT = "plan-quote"


def _switchable(sub: SubscriptionSummary | None) -> bool:
    """Plans change only on an active or trialing subscription (none that owes money)."""
    return sub is not None and sub.status in SWITCHABLE_STATUSES


async def show_savings(ctx: MessengerContext) -> list[Component]:
    customer = await find_customer(ctx)
    snapshot = await ctx.services.billing.snapshot(customer.stripe)
    choice = savings.savings_choice(
        snapshot, await ctx.services.savings_catalogue(), ctx.subscription
    )
    if choice.option is None or not _switchable(choice.subscription):
        return savings_screen(ctx, snapshot, choice)
    return cards.savings_breakdown_card(
        choice.option, locale=ctx.locale, name=subscription_label(snapshot, choice.subscription)
    )


async def switch_plan(ctx: MessengerContext, *, notice: str | None = None) -> list[Component]:
    customer = await find_customer(ctx, fresh=True)
    if customer.ambiguous:
        return cards.ambiguous_card(locale=ctx.locale)
    snapshot = await ctx.services.billing.snapshot(customer.stripe, fresh=True)
    choice = savings.savings_choice(
        snapshot, await ctx.services.savings_catalogue(), ctx.subscription
    )
    sub, option = choice.subscription, choice.option
    if option is None or not _switchable(sub):
        return savings_screen(ctx, snapshot, choice)
    try:
        quote = await quote_plan_change(
            ctx.services.stripe, customer.id, sub, option.target.as_target()
        )
    except (NoSubscription, NotAPlan, NotAnUpgrade, PlanNotFound, StripeRejected) as exc:
        # Stripe or the catalogue disagree with our arithmetic: offer nothing rather than guess.
        log.info("no quote for %s: %s", customer.id, exc.code)
        return cards.savings_card(snapshot, None, locale=ctx.locale, subscription=sub)
    ctx.stored["quote"] = _seal(ctx.services, quote)
    return cards.quote_card(
        quote, locale=ctx.locale, notice=notice, name=subscription_label(snapshot, sub)
    )


async def confirm_switch(ctx: MessengerContext) -> list[Component]:
    sealed = ctx.stored.pop("quote", None)
    try:
        quote_id, quote = _unseal(ctx.services, sealed)
    except SignatureExpired:
        return await switch_plan(
            ctx, notice=t("That quote had expired, so here is a fresh one.", ctx.locale)
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        log.warning("messenger confirm with an invalid quote")
        return await home(ctx, fresh=True)
    customer = await find_customer(ctx, fresh=True)
    if customer.ambiguous:
        return cards.ambiguous_card(locale=ctx.locale)
    if customer.id != quote.customer_id:
        # A quote made for someone else: never apply it for this contact.
        return await home(ctx, fresh=True)
    try:
        result = await confirm_plan_change(
            ctx.services.stripe,
            ActionStore(ctx.services.db),
            quote,
            quote_id=quote_id,
            actor=ctx.actor,
        )
    finally:
        ctx.services.billing.invalidate(customer.id)
    log.info("messenger plan switch for %s: %s", customer.id, result.kind)
    if result.kind in ("unavailable", "in_progress"):
        ctx.stored["quote"] = sealed  # still valid: "Try again" confirms the same quote
    return cards.switch_result_card(result, locale=ctx.locale)


def _serializer(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services.settings.secret_key.get_secret_value(), salt=QUOTE_SALT)


def _seal(services: Services, quote: PlanChangeQuote) -> str:
    payload = {"id": uuid.uuid4().hex, "quote": quote_to_data(quote)}
    return _serializer(services).dumps(payload)


def _unseal(services: Services, sealed: Any) -> tuple[str, PlanChangeQuote]:
    if not isinstance(sealed, str):
        raise BadSignature("no quote")
    payload = _serializer(services).loads(
        sealed, max_age=services.settings.confirmation_token_seconds
    )
    return str(payload["id"]), quote_from_data(payload["quote"])
