"""The first screen of each Messenger card (billing status, trial, payment recovery, savings),
as `initialize`, the live canvas and a refresh show it."""

from __future__ import annotations

from datetime import UTC, datetime

from billing import savings
from billing.recovery import load_invoice
from billing.snapshot import BillingSnapshot
from canvas_kit.components import Component
from messenger import cards
from messenger.cancel import cancel_home
from messenger.context import Customer, MessengerContext, find_customer, pay_link
from messenger.recovery import recovery_screen


async def home(ctx: MessengerContext, *, fresh: bool = False) -> list[Component]:
    customer = await find_customer(ctx, fresh=fresh)
    snapshot = await ctx.services.billing.snapshot(customer.stripe, fresh=fresh)
    now = datetime.now(UTC)
    if ctx.card == "savings":
        option = savings.best_for(snapshot, await ctx.services.savings_catalogue())
        return cards.savings_card(snapshot, option, locale=ctx.locale)
    if ctx.card == "cancel":
        return await cancel_home(ctx, customer, snapshot)
    if ctx.card == "payment_recovery":
        failed = snapshot.failed_invoice
        invoice = await load_invoice(ctx.services.stripe, failed.id) if failed else None
        return recovery_screen(ctx, customer, invoice)
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


def _trial_link(ctx: MessengerContext, customer: Customer, snapshot: BillingSnapshot) -> str | None:
    sub = snapshot.subscription
    if sub is None or sub.status != "trialing" or snapshot.payment_method is not None:
        return None
    return pay_link(ctx, customer, None)
