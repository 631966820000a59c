"""The first screen of each Messenger card (billing status, trial, payment recovery, savings,
invoices, billing details), as `initialize`, the live canvas and a refresh show it."""

from __future__ import annotations

from datetime import UTC, datetime

from billing import savings
from billing.failed_invoices import load_invoice
from billing.snapshot import BillingSnapshot, SubscriptionSummary, subscription_name
from canvas_kit.components import Component
from messenger import cards
from messenger.cancel import cancel_home
from messenger.context import Customer, MessengerContext, find_customer, pay_link
from messenger.documents import DOCUMENT_CARDS, document_screen
from messenger.recovery import recovery_screen


async def home(ctx: MessengerContext, *, fresh: bool = False) -> list[Component]:
    customer = await find_customer(ctx, fresh=fresh)
    if ctx.card in DOCUMENT_CARDS:
        return await document_screen(ctx, customer)  # its own reads, no snapshot
    snapshot = await ctx.services.billing.snapshot(customer.stripe, fresh=fresh)
    now = datetime.now(UTC)
    if ctx.card == "savings":
        catalogue = await ctx.services.savings_catalogue()
        return savings_screen(
            ctx, snapshot, savings.savings_choice(snapshot, catalogue, ctx.subscription)
        )
    if ctx.card == "cancel":
        return await cancel_home(ctx, customer, snapshot)
    if ctx.card == "payment_recovery":
        failed = snapshot.failed_invoice
        invoice = await load_invoice(ctx.services.stripe, failed.id) if failed else None
        sub = snapshot.subscription_by_id(invoice.subscription_id) if invoice else None
        return recovery_screen(
            ctx, customer, invoice, subscription=subscription_label(snapshot, sub)
        )
    trial_link = _trial_link(ctx, customer, snapshot)
    if ctx.card == "trial":
        return cards.trial_card(
            snapshot,
            locale=ctx.locale,
            now=now,
            add_payment_method_url=trial_link,
            ambiguous=customer.ambiguous,
        )
    return cards.billing_status_card(
        snapshot,
        locale=ctx.locale,
        now=now,
        add_payment_method_url=trial_link,
        trial_warning_days=ctx.services.settings.trial_warning_days,
    )


def savings_screen(
    ctx: MessengerContext, snapshot: BillingSnapshot, choice: savings.SavingsChoice
) -> list[Component]:
    """The savings card's first screen: the question which subscription, when several have a
    saving and none is chosen; else the saving (or "your plan fits") of the one chosen."""
    if choice.ask:
        return cards.choose_savings_card(choice.ask, locale=ctx.locale)
    return cards.savings_card(
        snapshot,
        choice.option,
        locale=ctx.locale,
        subscription=choice.subscription,
        name=subscription_label(snapshot, choice.subscription),
        choose_again=choice.others,
    )


def subscription_label(snapshot: BillingSnapshot, sub: SubscriptionSummary | None) -> str | None:
    """How a card names the subscription it is about, when the customer has several."""
    if sub is None or not snapshot.several_subscriptions:
        return None
    return subscription_name(sub, snapshot.live_subscriptions)


def _trial_link(ctx: MessengerContext, customer: Customer, snapshot: BillingSnapshot) -> str | None:
    sub = snapshot.subscription
    if sub is None or sub.status != "trialing" or snapshot.payment_method is not None:
        return None
    return pay_link(ctx, customer, None)
