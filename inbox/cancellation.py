"""The sidebar's "Cancel subscription" and "Resume subscription" actions, each with a confirm step.

Cancel: pick the subscription (when several are live) → when (at the period end, by default, or
now) and a refund (none, the last payment for the subscription, or the unused part of it,
prorated) → review: the cancellation's confirmation token (`billing.cancellation`) and, with a
refund, the refund service's (`Services.refunds("inbox")`: the inbox policy) → confirm spends
both, each once, audited with the admin as the actor. Resume undoes a cancellation scheduled for
the period end (and a pause). For a customer matched by email alone the review asks the agent to
confirm the customer's identity, and the confirm step changes nothing without that tick.
Routed as `cancel`, `cancel:sub:<id>`, `cancel:review:<id>`, `cancel:confirm`, `resume`,
`resume:sub:<id>`, `resume:confirm`; the buttons and prefixes are registered in `inbox.endpoints`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from billing.cancellation import (
    CancellationInProgress,
    CancellationResult,
    OfferNotAvailable,
    SubscriptionNotFound,
    live_subscriptions,
)
from billing.cancellation_offers import Option
from billing.cancellation_refund import (
    REFUND_CHOICES,
    RefundChoice,
    last_subscription_payment,
    refund_amount,
)
from billing.confirmation_tokens import ConfirmationTokenExpired, InvalidConfirmationToken
from billing.errors import StripeRejected
from billing.money import format_day
from billing.quotes import NoSubscription
from billing.refund_policy import RefundRefused
from billing.refunds import RefundInProgress, RefundResult
from billing.snapshot import BillingSnapshot, payment_of
from canvas_kit.cancel_words import per
from canvas_kit.components import (
    Button,
    Component,
    ListComponent,
    ListItem,
    SingleSelect,
    SubmitAction,
    Text,
    canvas,
)
from canvas_kit.components import Option as Choice
from canvas_kit.components import canvas_response as response
from canvas_kit.labels import day, money
from inbox.cancellation_cards import done_texts, plan_name, refusal_text, review_texts
from inbox.cards import identity_check
from inbox.sidebar import KEPT, InboxContext, render
from kernel.i18n import t
from storage.actions import Actor

log = logging.getLogger(__name__)

WHEN_INPUT, REFUND_INPUT = "cancel_when", "cancel_refund"
EXPIRED = "The confirmation has expired or is not valid. Review it again."


# --- the summary buttons ---
def cancellation_buttons(snapshot: BillingSnapshot, ctx: InboxContext) -> list[Button]:
    live = live_subscriptions(snapshot)
    buttons = []
    if any(not s.cancel_at_period_end for s in live):
        buttons.append(
            Button(id="cancel", label=t("Cancel subscription", ctx.locale), style="secondary")
        )
    if any(s.cancel_at_period_end or s.paused for s in live):
        buttons.append(
            Button(id="resume", label=t("Resume subscription", ctx.locale), style="secondary")
        )
    return buttons


# --- the steps ---
async def cancel_step(ctx: InboxContext, arg: str) -> dict[str, Any]:
    step, _, subscription_id = arg.partition(":")
    if not ctx.stored.get("customer_id"):
        return response(await render(ctx, view="summary"))
    if step == "":
        return await _pick(ctx, "cancel", lambda s: not s.cancel_at_period_end)
    if step == "sub" and subscription_id:
        return await _form(ctx, subscription_id)
    if step == "review" and subscription_id:
        return await _review(ctx, subscription_id)
    if step == "confirm":
        return await _confirm(ctx)
    return response(await render(ctx, view="summary"))


async def resume_step(ctx: InboxContext, arg: str) -> dict[str, Any]:
    step, _, subscription_id = arg.partition(":")
    if not ctx.stored.get("customer_id"):
        return response(await render(ctx, view="summary"))
    if step == "":
        return await _pick(ctx, "resume", lambda s: s.cancel_at_period_end or s.paused)
    if step == "sub" and subscription_id:
        return await _review_resume(ctx, subscription_id)
    if step == "confirm":
        return await _confirm(ctx)
    return response(await render(ctx, view="summary"))


async def _pick(ctx: InboxContext, action: str, wanted: Any) -> dict[str, Any]:
    snapshot = await ctx.snapshot(fresh=True)
    subs = [s for s in live_subscriptions(snapshot) if wanted(s)]
    if not subs:
        return _card(ctx, Text(text=t("There is no subscription to change.", ctx.locale)))
    if len(subs) == 1:
        if action == "cancel":
            return await _form(ctx, subs[0].id, snapshot=snapshot)
        return await _review_resume(ctx, subs[0].id)
    items = [
        ListItem(
            id=f"{action}:sub:{s.id}",
            title=plan_name(s),
            subtitle=per(s.plan.amount, s.plan.interval, ctx.locale) if s.plan else s.id,
            tertiary_text=t(
                "renews %(date)s", ctx.locale, date=day(s.current_period_end, ctx.locale)
            )
            if not s.cancel_at_period_end
            else t("ends %(date)s", ctx.locale, date=day(s.cancel_at, ctx.locale)),
            action=SubmitAction(),
        )
        for s in subs
    ]
    title = t("**Cancel which subscription?**", ctx.locale)
    if action == "resume":
        title = t("**Resume which subscription?**", ctx.locale)
    return _card(ctx, Text(text=title), ListComponent(items=items))


async def _form(
    ctx: InboxContext,
    subscription_id: str,
    *,
    snapshot: BillingSnapshot | None = None,
    problem: str | None = None,
) -> dict[str, Any]:
    snapshot = snapshot or await ctx.snapshot(fresh=True)
    sub = next((s for s in live_subscriptions(snapshot) if s.id == subscription_id), None)
    if sub is None:
        return _card(ctx, Text(text=t("There is no subscription to change.", ctx.locale)))
    last = await last_subscription_payment(ctx.services.stripe, snapshot.customer.id, sub.id)
    refund_words = {
        "none": t("No refund", ctx.locale),
        "last": t("Refund the last payment", ctx.locale)
        + (f" ({money(last.amount_paid, ctx.locale)})" if last else ""),
        "prorated": t("Refund the unused time (prorated)", ctx.locale),
    }
    parts: list[Component] = [
        Text(text=t("**Cancel %(plan)s**", ctx.locale, plan=plan_name(sub))),
        Text(
            text=t(
                "Renews on %(date)s. %(id)s",
                ctx.locale,
                date=day(sub.current_period_end, ctx.locale),
                id=sub.id,
            ),
            style="muted",
        ),
        SingleSelect(
            id=WHEN_INPUT,
            label=t("When", ctx.locale),
            options=[
                Choice(
                    id="period_end",
                    text=t(
                        "At period end (%(date)s)",
                        ctx.locale,
                        date=day(sub.current_period_end, ctx.locale),
                    ),
                ),
                Choice(id="now", text=t("Now", ctx.locale)),
            ],
            value="period_end",
        ),
        SingleSelect(
            id=REFUND_INPUT,
            label=t("Refund", ctx.locale),
            options=[Choice(id=c, text=refund_words[c]) for c in REFUND_CHOICES],
            value="none",
        ),
    ]
    if problem:
        parts.append(Text(text=problem, style="error"))
    parts += [
        Button(id=f"cancel:review:{sub.id}", label=t("Review cancellation", ctx.locale)),
        Button(id="summary", label=t("Back", ctx.locale), style="secondary"),
    ]
    return _card(ctx, *parts, back=False)


async def _review(ctx: InboxContext, subscription_id: str) -> dict[str, Any]:
    values = ctx.request.input_values
    option: Option = "cancel_now" if values.get(WHEN_INPUT) == "now" else "cancel_at_period_end"
    choice: RefundChoice = next(
        (c for c in REFUND_CHOICES if c == values.get(REFUND_INPUT)), "none"
    )
    customer_id = ctx.stored["customer_id"]
    snapshot = await ctx.snapshot(fresh=True)
    try:
        preview = await ctx.services.cancellations("inbox").preview(
            snapshot, actor=_actor(ctx), subscription_id=subscription_id, options=(option,)
        )
    except (NoSubscription, SubscriptionNotFound):
        return _card(ctx, Text(text=t("There is no subscription to change.", ctx.locale)))
    signed = preview.offer(option)
    if signed is None:
        problem = t("This subscription can't be cancelled that way now.", ctx.locale)
        return await _form(ctx, subscription_id, snapshot=snapshot, problem=problem)
    offer, sub = signed.offer, preview.subscription
    refund_token, refund_line = None, None
    if choice != "none":
        last = await last_subscription_payment(ctx.services.stripe, customer_id, sub.id)
        payment = (
            payment_of(await ctx.services.stripe.retrieve_charge(last.charge_id)) if last else None
        )
        amount = refund_amount(choice, payment, last, sub, offer.ends_at)
        if amount is None or payment is None:
            problem = t("There is nothing to refund that way.", ctx.locale)
            return await _form(ctx, subscription_id, snapshot=snapshot, problem=problem)
        refund = await ctx.services.refunds("inbox").preview(
            customer_id,
            actor=_actor(ctx),
            charge_id=payment.charge_id,
            amount=amount.amount,
            reason=f"cancellation of {sub.id}" + (" (prorated)" if choice == "prorated" else ""),
        )
        if refund.refusal is not None or refund.amount is None:
            problem = refusal_text(
                refund.refusal or RefundRefused(),
                ctx.locale,
                ctx.services.settings.refund_max_age_days,
            )
            return await _form(ctx, subscription_id, snapshot=snapshot, problem=problem)
        refund_token = refund.token
        refund_line = t(
            "Refund %(amount)s of the payment of %(date)s.",
            ctx.locale,
            amount=money(refund.amount, ctx.locale),
            date=format_day(payment.created, ctx.locale),
        )
    check = identity_check(ctx.locale) if await ctx.identity_missing() else []
    return _card(
        ctx,
        *review_texts(ctx.locale, offer.option, sub, offer.ends_at, refund_line),
        *check,
        Button(id="cancel:confirm", label=t("Yes, cancel", ctx.locale)),
        Button(id="summary", label=t("Back", ctx.locale), style="secondary"),
        back=False,
        tokens={"cancel_token": signed.token, "refund_token": refund_token},
    )


async def _review_resume(ctx: InboxContext, subscription_id: str) -> dict[str, Any]:
    snapshot = await ctx.snapshot(fresh=True)
    resume: tuple[Option, ...] = ("resume",)
    try:
        preview = await ctx.services.cancellations("inbox").preview(
            snapshot, actor=_actor(ctx), subscription_id=subscription_id, options=resume
        )
    except (NoSubscription, SubscriptionNotFound):
        preview = None
    signed = preview.offer("resume") if preview else None
    if preview is None or signed is None:
        return _card(ctx, Text(text=t("There is no subscription to change.", ctx.locale)))
    sub = preview.subscription
    check = identity_check(ctx.locale) if await ctx.identity_missing() else []
    return _card(
        ctx,
        *review_texts(ctx.locale, "resume", sub, None, None),
        *check,
        Button(id="resume:confirm", label=t("Yes, resume", ctx.locale)),
        Button(id="summary", label=t("Back", ctx.locale), style="secondary"),
        back=False,
        tokens={"cancel_token": signed.token},
    )


async def _confirm(ctx: InboxContext) -> dict[str, Any]:
    token = ctx.stored.get("cancel_token")
    refund_token = ctx.stored.get("refund_token")
    refund_token = refund_token if isinstance(refund_token, str) else None
    customer_id = ctx.stored["customer_id"]
    tokens = {"cancel_token": token, "refund_token": refund_token}
    if not isinstance(token, str):
        return _card(ctx, Text(text=t(EXPIRED, ctx.locale), style="error"))
    service = ctx.services.cancellations("inbox")
    if await ctx.identity_missing():
        log.info("agent cancellation for %s without identity check", customer_id)
        try:
            grant = service.read(token)
        except (InvalidConfirmationToken, ConfirmationTokenExpired):
            return _card(ctx, Text(text=t(EXPIRED, ctx.locale), style="error"))
        confirm_id = "resume:confirm" if grant.offer.option == "resume" else "cancel:confirm"
        return _card(
            ctx,
            *identity_check(ctx.locale, required=True),
            Button(id=confirm_id, label=t("Confirm", ctx.locale)),
            Button(id="summary", label=t("Cancel", ctx.locale), style="secondary"),
            back=False,
            tokens=tokens,
        )
    # Shielded: when the render budget runs out, the change (and the refund) still finish and
    # record their outcome, so pressing the button again replays them.
    task = asyncio.ensure_future(_execute(ctx, token, refund_token, customer_id))
    try:
        result, refunded, refund_problem = await asyncio.shield(task)
    except (InvalidConfirmationToken, ConfirmationTokenExpired):
        return _card(ctx, Text(text=t(EXPIRED, ctx.locale), style="error"))
    except OfferNotAvailable:
        text = t("The subscription changed in the meantime; nothing was changed.", ctx.locale)
        return _card(ctx, Text(text=text, style="error"))
    except (CancellationInProgress, RefundInProgress):
        # The change, or its refund, is being made by another press: pressing again replays it.
        text = t("This change is being made right now. Check again in a moment.", ctx.locale)
        return _card(ctx, Text(text=text), tokens=tokens)
    except StripeRejected as exc:
        log.warning("Stripe rejected an agent cancellation for %s: %s", customer_id, exc.code)
        text = t("Stripe refused the change; nothing was changed.", ctx.locale)
        return _card(ctx, Text(text=text, style="error"))
    finally:
        ctx.services.billing.invalidate(customer_id)
    refusal = (
        refusal_text(refund_problem, ctx.locale, ctx.services.settings.refund_max_age_days)
        if refund_problem
        else None
    )
    return _card(ctx, *done_texts(result, refunded, refusal, ctx.locale))


async def _execute(
    ctx: InboxContext, token: str, refund_token: str | None, customer_id: str
) -> tuple[CancellationResult, RefundResult | None, RefundRefused | None]:
    """The change, then the refund (both single-use: a second press replays them)."""
    result = await ctx.services.cancellations("inbox").execute(token, customer_id=customer_id)
    if refund_token is None:
        return result, None, None
    try:
        refunded = await ctx.services.refunds("inbox").execute(
            refund_token, customer_id=customer_id
        )
    except RefundRefused as refusal:
        return result, None, refusal
    except StripeRejected:
        return result, None, RefundRefused()
    return result, refunded, None


def _actor(ctx: InboxContext) -> Actor:
    return Actor("admin", ctx.request.admin_id, ctx.request.conversation_id)


def _card(
    ctx: InboxContext,
    *components: Component,
    back: bool = True,
    tokens: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    stored = {k: v for k, v in ctx.stored.items() if k in KEPT}
    stored.update({k: v for k, v in (tokens or {}).items() if v})
    parts = list(components)
    if back:
        parts.append(Button(id="summary", label=t("Back", ctx.locale), style="secondary"))
    return response(canvas(*parts, stored_data={**stored, "view": "action"}))


# Nothing of its own to route: importing this module adds its buttons and steps to the inbox.
routes: list[Any] = []
