"""The sidebar's "Refund a payment" action, with a confirm step.

Pick a payment → amount (all that remains by default) and a reason → review: the refund policy
is applied and a confirmation token is signed → "Yes, refund €12.50" spends the token. It is the
refund service Fin uses (`billing.refunds`, built by `Services.refunds("inbox")`), with the same
policy minus Fin's per-customer count (an agent decides), the same single-use token and Stripe
idempotency key, and the admin's id in the audit trail. The button and the action are registered
in `inbox.endpoints`; the steps are routed as `refund`, `refund:charge:<id>`, `refund:review:<id>`,
`refund:confirm`. For a customer matched by email alone the review asks the agent to confirm
the customer's identity too, and `refund:confirm` without that tick spends nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from billing.confirmation_tokens import ConfirmationTokenExpired, InvalidConfirmationToken
from billing.errors import StripeRejected, StripeUnavailable
from billing.money import Money, format_day
from billing.paid_subscriptions import payment_subscriptions, subscription_of
from billing.refund_policy import RefundRefused
from billing.refunds import RefundInProgress, RefundResult
from billing.snapshot import BillingSnapshot
from canvas_kit.components import Button, Component, Input, ListComponent, ListItem, Text, canvas
from canvas_kit.components import canvas_response as response
from canvas_kit.labels import money
from inbox.cards import identity_check, identity_confirmed
from inbox.refund_values import (
    REFUSED_WORDS,
    method_text,
    parse_amount,
    plain_amount,
    refundable,
    refundable_text,
)
from inbox.sidebar import KEPT, InboxContext, render
from kernel.i18n import t
from storage.actions import Actor

log = logging.getLogger(__name__)

MAX_LISTED = 5


# --- the summary button ---
def refund_button(snapshot: BillingSnapshot, ctx: InboxContext) -> list[Button]:
    if not any(refundable(p) for p in snapshot.payments):
        return []
    return [Button(id="refund", label=t("Refund a payment", ctx.locale), style="secondary")]


# --- the steps ---
async def refund_step(ctx: InboxContext, arg: str) -> dict[str, Any]:
    step, _, charge_id = arg.partition(":")
    if not ctx.stored.get("customer_id"):
        return response(await render(ctx, view="summary"))
    if step == "":
        return await _pick(ctx)
    if step == "charge" and charge_id:
        return await _form(ctx, charge_id)
    if step == "review" and charge_id:
        return await _review(ctx, charge_id)
    if step == "confirm":
        return await _confirm(ctx)
    return response(await render(ctx, view="summary"))


async def _pick(ctx: InboxContext) -> dict[str, Any]:
    snapshot = await ctx.snapshot(fresh=True)
    max_age = ctx.services.settings.refund_max_age_days
    payments = [p for p in snapshot.payments if refundable(p, snapshot, max_age)][:MAX_LISTED]
    if not payments:
        return _card(
            ctx,
            Text(
                text=t(
                    "No payment of this customer can be refunded here (refunded, disputed or older "
                    "than %(days)s days).",
                    ctx.locale,
                    days=max_age,
                )
            ),
        )
    # A customer with several subscriptions: each payment says which one it paid for.
    names = await payment_subscriptions(ctx.services.stripe, snapshot)
    items = [
        ListItem(
            id=f"refund:charge:{p.charge_id}",
            title=t(
                "%(amount)s · %(date)s",
                ctx.locale,
                amount=money(p.amount, ctx.locale),
                date=format_day(p.created, ctx.locale),
            ),
            subtitle=refundable_text(p, subscription_of(p, names), ctx.locale),
            tertiary_text=method_text(p),
        )
        for p in payments
    ]
    return _card(
        ctx,
        Text(text=t("**Refund a payment**", ctx.locale)),
        Text(text=t("Which payment should be refunded?", ctx.locale), style="muted"),
        ListComponent(items=items),
    )


async def _form(ctx: InboxContext, charge_id: str, *, problem: str | None = None) -> dict[str, Any]:
    snapshot = await ctx.snapshot(fresh=True)
    payment = next((p for p in snapshot.payments if p.charge_id == charge_id), None)
    if payment is None:
        return _refused(ctx, "refund_charge_not_found", {})
    remaining = payment.refundable
    parts: list[Component] = [
        Text(
            text=t(
                "**Refund the payment of %(date)s**",
                ctx.locale,
                date=format_day(payment.created, ctx.locale),
            )
        ),
        Text(
            text=t(
                "%(amount)s paid, %(refundable)s can still be refunded.",
                ctx.locale,
                amount=money(payment.amount, ctx.locale),
                refundable=money(remaining, ctx.locale),
            ),
            style="muted",
        ),
        Input(
            id="refund_amount",
            label=t("Amount to refund", ctx.locale),
            value=plain_amount(remaining, ctx.locale),
        ),
        Input(
            id="refund_reason",
            label=t("Reason (kept in the audit trail)", ctx.locale),
            placeholder=t("e.g. charged twice", ctx.locale),
        ),
    ]
    if problem:
        parts.append(Text(text=problem, style="error"))
    parts += [
        Button(id=f"refund:review:{charge_id}", label=t("Review refund", ctx.locale)),
        Button(id="summary", label=t("Cancel", ctx.locale), style="secondary"),
    ]
    return _card(ctx, *parts, back=False)


async def _review(ctx: InboxContext, charge_id: str) -> dict[str, Any]:
    values = ctx.request.input_values
    snapshot = await ctx.snapshot()
    currency = snapshot.customer.currency
    payment = next((p for p in snapshot.payments if p.charge_id == charge_id), None)
    if payment is not None:
        currency = payment.amount.currency
    raw_amount = str(values.get("refund_amount") or "").strip()
    try:
        amount = parse_amount(raw_amount, currency) if raw_amount else None
    except ValueError:
        example = plain_amount(Money(1250, currency), ctx.locale)
        problem = t("Enter an amount like %(example)s.", ctx.locale, example=example)
        return await _form(ctx, charge_id, problem=problem)
    reason = str(values.get("refund_reason") or "").strip() or None
    preview = await ctx.services.refunds("inbox").preview(
        ctx.stored["customer_id"],
        actor=Actor("admin", ctx.request.admin_id, ctx.request.conversation_id),
        charge_id=charge_id,
        amount=amount,
        reason=reason,
    )
    if preview.refusal is not None or preview.amount is None or preview.payment is None:
        refusal = preview.refusal or RefundRefused()
        return _refused(ctx, refusal.code, refusal.values)
    paid = preview.payment
    amount_text = money(preview.amount, ctx.locale)
    check = identity_check(ctx.locale) if await ctx.identity_missing() else []
    paid_for = subscription_of(paid, await payment_subscriptions(ctx.services.stripe, snapshot))
    named = (
        [Text(text=t("Subscription: %(name)s", ctx.locale, name=paid_for), style="muted")]
        if paid_for
        else []
    )
    return _card(
        ctx,
        Text(text=t("**Refund %(amount)s?**", ctx.locale, amount=amount_text)),
        Text(
            text=t(
                "From the payment of %(date)s (%(paid)s), back to %(method)s.",
                ctx.locale,
                date=format_day(paid.created, ctx.locale),
                paid=money(paid.amount, ctx.locale),
                method=method_text(paid),
            ),
            style="muted",
        ),
        *named,
        Text(
            text=t("Money moves when you confirm; a refund cannot be undone.", ctx.locale),
            style="muted",
        ),
        *check,
        Button(
            id="refund:confirm", label=t("Yes, refund %(amount)s", ctx.locale, amount=amount_text)
        ),
        Button(id="summary", label=t("Cancel", ctx.locale), style="secondary"),
        back=False,
        refund_token=preview.token,
    )


async def _confirm(ctx: InboxContext) -> dict[str, Any]:
    token = ctx.stored.get("refund_token")
    customer_id = ctx.stored["customer_id"]
    if not isinstance(token, str):
        return _token_refused(ctx)
    if await ctx.identity_missing():
        return _identity_required(ctx, token)
    # The identity check, if this press ticked it, stays ticked on a "Try again" card.
    confirmed = (
        identity_check(ctx.locale, confirmed=True)
        if identity_confirmed(ctx.request.input_values)
        else []
    )
    # Held and shielded: if the sidebar's render budget runs out (or the process stops), the
    # refund still finishes and records its outcome, so pressing the button again replays it
    # instead of finding it half done.
    task = ctx.services.hold(ctx.services.refunds("inbox").execute(token, customer_id=customer_id))
    try:
        result = await asyncio.shield(task)
    except RefundRefused as refusal:
        return _refused(ctx, refusal.code, refusal.values)
    except (InvalidConfirmationToken, ConfirmationTokenExpired):
        return _token_refused(ctx)
    except RefundInProgress:
        return _card(
            ctx,
            Text(
                text=t(
                    "This refund is being processed right now. Check again in a moment.", ctx.locale
                )
            ),
            refund_token=token,
        )
    except StripeRejected as exc:
        log.warning("Stripe rejected an agent refund for %s: %s", customer_id, exc.code)
        return _refused(ctx, "refund_refused", {})
    except StripeUnavailable:
        return _card(
            ctx,
            Text(
                text=t(
                    "Stripe did not confirm the refund in time. Trying again is safe: it cannot "
                    "refund twice.",
                    ctx.locale,
                ),
                style="error",
            ),
            *confirmed,
            Button(id="refund:confirm", label=t("Try again", ctx.locale)),
            refund_token=token,
        )
    finally:
        ctx.services.billing.invalidate(customer_id)
    log.info(
        "agent %s refund %s for %s (replayed: %s)",
        ctx.request.admin_id,
        result.refund_id,
        customer_id,
        result.replayed,
    )
    return _done(ctx, result)


def _identity_required(ctx: InboxContext, token: str) -> dict[str, Any]:
    """A confirm press without the identity tick on a customer matched by email alone: nothing
    was refunded; the same question again, with the amount the token grants."""
    log.info("agent refund for %s without identity check", ctx.stored.get("customer_id"))
    try:
        grant = ctx.services.refunds("inbox").signer.read(
            token, max_age_seconds=ctx.services.settings.confirmation_token_seconds
        )
    except (InvalidConfirmationToken, ConfirmationTokenExpired):
        return _token_refused(ctx)
    amount = money(grant.money, ctx.locale)
    return _card(
        ctx,
        Text(text=t("**Refund %(amount)s?**", ctx.locale, amount=amount)),
        *identity_check(ctx.locale, required=True),
        Button(id="refund:confirm", label=t("Yes, refund %(amount)s", ctx.locale, amount=amount)),
        Button(id="summary", label=t("Cancel", ctx.locale), style="secondary"),
        back=False,
        refund_token=token,
    )


def _done(ctx: InboxContext, result: RefundResult) -> dict[str, Any]:
    parts: list[Component] = [
        Text(
            text=t("**%(amount)s refunded**", ctx.locale, amount=money(result.amount, ctx.locale))
        ),
        Text(
            text=t(
                "Stripe refund %(refund_id)s (%(status)s). The customer usually sees it within 5 "
                "to 10 business days.",
                ctx.locale,
                refund_id=result.refund_id,
                status=result.status,
            ),
            style="muted",
        ),
    ]
    if result.replayed:
        parts.append(
            Text(
                text=t("This refund had already been made; no money moved again.", ctx.locale),
                style="muted",
            )
        )
    return _card(ctx, *parts)


def _token_refused(ctx: InboxContext) -> dict[str, Any]:
    """A confirm press without a token we signed, or with one too old: review again."""
    text = t("The confirmation has expired or is not valid. Review the refund again.", ctx.locale)
    return _card(ctx, Text(text=text, style="error"))


def _refused(ctx: InboxContext, code: str, values: dict[str, Any]) -> dict[str, Any]:
    message = REFUSED_WORDS.get(code, REFUSED_WORDS["refund_refused"])
    currency = values.get("currency") or "eur"
    limit = values.get("remaining", values.get("max_amount"))
    text = t(
        message,
        ctx.locale,
        limit=money(Money(limit, currency), ctx.locale) if limit is not None else "—",
        days=values.get("max_age_days", ctx.services.settings.refund_max_age_days),
    )
    return _card(ctx, Text(text=text, style="error"))


def _card(
    ctx: InboxContext, *components: Component, back: bool = True, refund_token: str | None = None
) -> dict[str, Any]:
    stored = {k: v for k, v in ctx.stored.items() if k in KEPT}
    if refund_token:
        stored["refund_token"] = refund_token
    parts = list(components)
    if back:
        parts.append(Button(id="summary", label=t("Back", ctx.locale), style="secondary"))
    return response(canvas(*parts, stored_data={**stored, "view": "action"}))


# Nothing of its own to route: importing this module adds its button and steps to the inbox.
routes: list[Any] = []
