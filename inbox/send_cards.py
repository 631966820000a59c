"""Sidebar actions around the Messenger cards: send the customer a payment-recovery or savings
card, and retry a failed invoice with a confirm step.

A retry on a customer matched by email alone asks the agent to confirm the customer's identity
first (a checkbox on the confirm step); without the tick the confirm press retries nothing.

Sending answers the inbox submit with `card_creation_options` {"card", "customer_id"}: Intercom
puts the app into the agent's reply and calls the Messenger `initialize` with those options, so
the customer gets a live card with their own data. The button and the handlers are
registered in `inbox.endpoints` (`SUMMARY_BUTTONS`, `ACTIONS`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from billing import savings
from billing.errors import NotFound
from billing.failed_invoices import load_invoice
from billing.money import format_moment
from billing.retry import RetryResult, not_retryable, retry_invoice
from billing.snapshot import BillingSnapshot, subscription_name
from canvas_kit.components import Button, Component, Text, canvas, canvas_response
from canvas_kit.labels import failure_line, money, payment_method_label, plain, plain_reason
from inbox.cards import identity_check
from inbox.sidebar import KEPT, InboxContext, render
from kernel.i18n import N_, t
from storage.actions import ActionStore, Actor

log = logging.getLogger(__name__)

SENDABLE_CARDS = ("payment_recovery", "savings")

SENT_WORDS = {
    "payment_recovery": N_("**Recovery card added to your reply**"),
    "savings": N_("**Savings card added to your reply**"),
}
# A retry that moved no money, in the agent's words.
RETRY_WORDS = {
    "in_progress": N_("**A retry is already in progress**"),
    "already_paid": N_("**The invoice is already paid**"),
    "not_payable": N_("**There is no failed invoice to retry**"),
    "unavailable": N_(
        "**Stripe could not be reached**: nothing was charged. Try again in a moment."
    ),
}


def summary_buttons(snapshot: BillingSnapshot, ctx: InboxContext) -> list[Button]:
    """In priority order (the summary shows only the first few): let the customer fix a failed
    payment themselves, retry it for them, offer a saving."""
    locale = ctx.locale
    buttons = []
    failed = snapshot.failed_invoice
    processing = any(p.status == "pending" for p in snapshot.payments)
    if failed is not None and not processing:
        buttons += [
            Button(
                id="send_card:payment_recovery",
                label=t("Send recovery card", locale),
                style="secondary",
            ),
            Button(
                id=f"retry_invoice:{failed.id}",
                label=t("Retry failed payment", locale),
                style="secondary",
            ),
        ]
    if _offers_savings(snapshot, ctx):
        buttons.append(
            Button(id="send_card:savings", label=t("Send savings card", locale), style="secondary")
        )
    return buttons


def _offers_savings(snapshot: BillingSnapshot, ctx: InboxContext) -> bool:
    # The render must not wait for Stripe's catalogue: use it when this process has it cached,
    # otherwise a cheaper test of the snapshot (the card itself always uses the catalogue).
    prices = ctx.services.catalogue.cached()
    if prices is not None:
        catalogue = savings.catalogue_from_prices(
            prices, usage_limit_key=ctx.services.settings.usage_limit_metadata_key
        )
        return bool(savings.options_by_subscription(snapshot, catalogue))
    return savings.may_save(snapshot)


# --- send a card ---
async def send_card(ctx: InboxContext, card: str) -> dict[str, Any]:
    if card not in SENDABLE_CARDS:
        return canvas_response(await render(ctx, view="summary"))
    snapshot = await ctx.snapshot(fresh=True)
    lines: list[Component] = []
    if card == "savings":
        options = savings.options_by_subscription(snapshot, await ctx.services.savings_catalogue())
        if not options:
            plan = snapshot.subscription.plan if snapshot.subscription else None
            return _answer(
                ctx,
                Text(text=t("**No saving to offer**", ctx.locale)),
                Text(
                    text=t(
                        "%(plan)s already fits this customer's usage; no card was added.",
                        ctx.locale,
                        plan=plan.product_name if plan else "—",
                    ),
                    style="muted",
                ),
            )
        for sub, option in options:
            saving = t(
                "%(per_year)s / year (%(per_month)s / month)",
                ctx.locale,
                per_year=money(option.saving_per_year, ctx.locale),
                per_month=money(option.saving_per_month, ctx.locale),
            )
            if snapshot.several_subscriptions:
                # The card asks the customer which one when there are several savings.
                name = subscription_name(sub, snapshot.live_subscriptions)
                saving = t("%(name)s: %(saving)s", ctx.locale, name=name, saving=saving)
            lines.append(Text(text=saving))
    log.info("agent %s sends a %s card for %s", ctx.request.admin_id, card, snapshot.customer.id)
    return _answer(
        ctx,
        Text(text=t(SENT_WORDS[card], ctx.locale)),
        *lines,
        Text(
            text=t(
                "Send the reply: the customer sees their own, current billing in the card.",
                ctx.locale,
            ),
            style="muted",
        ),
        card_creation_options={"card": card, "customer_id": snapshot.customer.id},
    )


# --- retry a failed invoice (agent) ---
async def ask_retry(ctx: InboxContext, invoice_id: str) -> dict[str, Any]:
    """First press: show what will happen ("Retry €29.00 now?") and ask to confirm (and, for a
    customer matched by email alone, to confirm the customer's identity)."""
    return await _ask_retry(ctx, invoice_id)


async def _ask_retry(
    ctx: InboxContext, invoice_id: str, *, identity_required: bool = False
) -> dict[str, Any]:
    """`identity_required`: a confirm press came without the identity tick it needed."""
    customer_id = ctx.stored.get("customer_id")
    if not customer_id or not invoice_id:
        return canvas_response(await render(ctx, view="summary"))
    try:
        invoice = await load_invoice(ctx.services.stripe, invoice_id)
    except NotFound:
        invoice = None
    if invoice is None or invoice.customer_id != customer_id:
        return canvas_response(await render(ctx, view="summary"))
    if (standing := not_retryable(invoice)) is not None:
        return _retry_outcome(ctx, standing)
    snapshot = await ctx.snapshot()
    amount = money(invoice.amount, ctx.locale)
    sub = snapshot.subscription_by_id(invoice.subscription_id)
    # Several subscriptions: say which one the failed invoice is for.
    named = (
        [
            Text(
                text=t(
                    "Subscription: %(name)s",
                    ctx.locale,
                    name=subscription_name(sub, snapshot.live_subscriptions),
                ),
                style="muted",
            )
        ]
        if sub is not None and snapshot.several_subscriptions
        else []
    )
    check = (
        identity_check(ctx.locale, required=identity_required)
        if identity_required or await ctx.identity_missing()
        else []
    )
    return _answer(
        ctx,
        Text(text=t("**Retry %(amount)s now?**", ctx.locale, amount=amount)),
        Text(
            text=t(
                "Invoice %(number)s: %(reason)s",
                ctx.locale,
                number=invoice.number or invoice.invoice_id,
                reason=failure_line(invoice, ctx.locale),
            ),
            style="muted",
        ),
        *named,
        Text(
            text=t(
                "Stripe charges the subscription's payment method: %(method)s.",
                ctx.locale,
                method=payment_method_label(snapshot.payment_method, ctx.locale),
            ),
            style="muted",
        ),
        *check,
        Button(
            id=f"confirm_retry_invoice:{invoice.invoice_id}",
            label=t("Yes, retry %(amount)s", ctx.locale, amount=amount),
        ),
        Button(id="summary", label=t("Cancel", ctx.locale), style="secondary"),
        back=False,
    )


async def confirm_retry(ctx: InboxContext, invoice_id: str) -> dict[str, Any]:
    customer_id = ctx.stored.get("customer_id")
    if not customer_id or not invoice_id:
        return canvas_response(await render(ctx, view="summary"))
    if await ctx.identity_missing():
        # Matched by email alone and the identity box not ticked: ask again, retry nothing.
        log.info("agent retry of %s for %s without identity check", invoice_id, customer_id)
        return await _ask_retry(ctx, invoice_id, identity_required=True)
    actor = Actor("admin", ctx.request.admin_id, ctx.request.conversation_id)
    # Held and shielded: if the sidebar's render budget runs out (or the process stops), the
    # retry still finishes and records its outcome (and holds its claim) rather than being cut
    # off between Stripe and the log.
    task = ctx.services.hold(
        retry_invoice(
            ctx.services.stripe,
            ActionStore(ctx.services.db),
            invoice_id=invoice_id,
            customer_id=customer_id,
            actor=actor,
            cooldown=timedelta(minutes=ctx.services.settings.retry_cooldown_minutes),
        )
    )
    try:
        result = await asyncio.shield(task)
    except NotFound:
        # Not this customer's invoice (a stale or crafted button): back to their summary.
        return canvas_response(await render(ctx, view="summary"))
    finally:
        ctx.services.billing.invalidate(customer_id)
    log.info("agent retry of %s for %s: %s", invoice_id, customer_id, result.kind)
    return _retry_outcome(ctx, result)


def _retry_outcome(ctx: InboxContext, result: RetryResult) -> dict[str, Any]:
    locale = ctx.locale
    invoice = result.invoice
    amount = money(invoice.amount, locale)
    kind = result.kind
    lines: list[Component] = []
    if kind == "processing" or kind == "still_processing":
        if kind == "processing":
            line = t("**Retry submitted: %(amount)s is processing**", locale, amount=amount)
        else:
            line = t(
                "**A payment of %(amount)s is still processing**: no retry needed.",
                locale,
                amount=amount,
            )
        lines.append(Text(text=line))
        if invoice.is_sepa:
            lines.append(
                Text(text=t("SEPA debits settle in a few business days.", locale), style="muted")
            )
    elif kind == "paid":
        lines.append(Text(text=t("**%(amount)s paid**", locale, amount=amount)))
    elif kind == "declined":
        reason = plain_reason(invoice.failure_code, invoice.failure_message, locale)
        lines.append(
            Text(text=t("**Retry declined**: %(reason)s", locale, reason=reason), style="error")
        )
    elif kind == "rejected":
        lines.append(
            Text(
                text=t(
                    "**Stripe refused the retry**: %(reason)s",
                    locale,
                    reason=plain(result.message or "—"),
                ),
                style="error",
            )
        )
    elif kind == "cooldown" and result.retry_after is not None:
        time = format_moment(result.retry_after, locale)
        lines.append(
            Text(
                text=t(
                    "**Retried recently**: the next retry is possible after %(time)s.",
                    locale,
                    time=time,
                )
            )
        )
    else:
        lines.append(Text(text=t(RETRY_WORDS.get(kind, RETRY_WORDS["not_payable"]), locale)))
    return _answer(ctx, *lines)


def _answer(
    ctx: InboxContext,
    *components: Component,
    card_creation_options: dict[str, Any] | None = None,
    back: bool = True,
) -> dict[str, Any]:
    stored = {k: v for k, v in ctx.stored.items() if k in KEPT}
    parts = list(components)
    if back:
        parts.append(Button(id="summary", label=t("Back", ctx.locale), style="secondary"))
    return canvas_response(
        canvas(*parts, stored_data={**stored, "view": "action"}),
        card_creation_options=card_creation_options,
    )


# Nothing of its own to route: importing this module adds its buttons and actions to the inbox.
routes: list[Any] = []
