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
import re
from typing import Any

from billing.errors import StripeRejected, StripeUnavailable
from billing.money import Money, format_day, minor_unit_factor
from billing.refund_policy import RefundRefused
from billing.refund_tokens import ConfirmationTokenExpired, InvalidConfirmationToken
from billing.refunds import RefundInProgress, RefundResult
from billing.snapshot import BillingSnapshot, Payment
from canvas_kit.components import Button, Component, Input, ListComponent, ListItem, Text, canvas
from canvas_kit.components import canvas_response as response
from canvas_kit.labels import money
from inbox.cards import identity_check, identity_confirmed
from inbox.sidebar import KEPT, InboxContext, render
from kernel.i18n import MESSAGES, t
from storage.actions import Actor

log = logging.getLogger(__name__)

MAX_LISTED = 5


# --- the summary button ---
def refund_button(snapshot: BillingSnapshot, ctx: InboxContext) -> list[Button]:
    if not any(_refundable(p) for p in snapshot.payments):
        return []
    return [Button(id="refund", label=t("ir.button.refund", ctx.locale), style="secondary")]


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
    payments = [p for p in snapshot.payments if _refundable(p, snapshot, max_age)][:MAX_LISTED]
    if not payments:
        return _card(ctx, Text(text=t("ir.pick.none", ctx.locale, days=max_age)))
    items = [
        ListItem(
            id=f"refund:charge:{p.charge_id}",
            title=t(
                "ir.pick.title",
                ctx.locale,
                amount=money(p.amount, ctx.locale),
                date=format_day(p.created, ctx.locale),
            ),
            subtitle=t("ir.pick.subtitle", ctx.locale, refundable=money(p.refundable, ctx.locale)),
            tertiary_text=_method(p),
        )
        for p in payments
    ]
    return _card(
        ctx,
        Text(text=t("ir.pick.header", ctx.locale)),
        Text(text=t("ir.pick.hint", ctx.locale), style="muted"),
        ListComponent(items=items),
    )


async def _form(ctx: InboxContext, charge_id: str, *, problem: str | None = None) -> dict[str, Any]:
    snapshot = await ctx.snapshot(fresh=True)
    payment = next((p for p in snapshot.payments if p.charge_id == charge_id), None)
    if payment is None:
        return _refused(ctx, "refund_charge_not_found", {})
    remaining = payment.refundable
    parts: list[Component] = [
        Text(text=t("ir.form.header", ctx.locale, date=format_day(payment.created, ctx.locale))),
        Text(
            text=t(
                "ir.form.detail",
                ctx.locale,
                amount=money(payment.amount, ctx.locale),
                refundable=money(remaining, ctx.locale),
            ),
            style="muted",
        ),
        Input(
            id="refund_amount",
            label=t("ir.form.amount", ctx.locale),
            value=_plain_amount(remaining, ctx.locale),
        ),
        Input(
            id="refund_reason",
            label=t("ir.form.reason", ctx.locale),
            placeholder=t("ir.form.reason_placeholder", ctx.locale),
        ),
    ]
    if problem:
        parts.append(Text(text=problem, style="error"))
    parts += [
        Button(id=f"refund:review:{charge_id}", label=t("ir.button.review", ctx.locale)),
        Button(id="summary", label=t("m.button.cancel", ctx.locale), style="secondary"),
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
        example = _plain_amount(Money(1250, currency), ctx.locale)
        problem = t("ir.form.amount_invalid", ctx.locale, example=example)
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
    return _card(
        ctx,
        Text(text=t("ir.confirm.header", ctx.locale, amount=amount_text)),
        Text(
            text=t(
                "ir.confirm.detail",
                ctx.locale,
                date=format_day(paid.created, ctx.locale),
                paid=money(paid.amount, ctx.locale),
                method=_method(paid),
            ),
            style="muted",
        ),
        Text(text=t("ir.confirm.note", ctx.locale), style="muted"),
        *check,
        Button(id="refund:confirm", label=t("ir.button.confirm", ctx.locale, amount=amount_text)),
        Button(id="summary", label=t("m.button.cancel", ctx.locale), style="secondary"),
        back=False,
        refund_token=preview.token,
    )


async def _confirm(ctx: InboxContext) -> dict[str, Any]:
    token = ctx.stored.get("refund_token")
    customer_id = ctx.stored["customer_id"]
    if not isinstance(token, str):
        return _card(ctx, Text(text=t("ir.token_expired", ctx.locale), style="error"))
    if await ctx.identity_missing():
        return _identity_required(ctx, token)
    # The identity check, if this press ticked it, stays ticked on a "Try again" card.
    confirmed = (
        identity_check(ctx.locale, confirmed=True)
        if identity_confirmed(ctx.request.input_values)
        else []
    )
    # Shielded: if the sidebar's render budget runs out, the refund still finishes and records
    # its outcome, so pressing the button again replays it instead of finding it half done.
    task = asyncio.ensure_future(
        ctx.services.refunds("inbox").execute(token, customer_id=customer_id)
    )
    try:
        result = await asyncio.shield(task)
    except RefundRefused as refusal:
        return _refused(ctx, refusal.code, refusal.values)
    except (InvalidConfirmationToken, ConfirmationTokenExpired):
        return _card(ctx, Text(text=t("ir.token_expired", ctx.locale), style="error"))
    except RefundInProgress:
        return _card(ctx, Text(text=t("ir.in_progress", ctx.locale)), refund_token=token)
    except StripeRejected as exc:
        log.warning("Stripe rejected an agent refund for %s: %s", customer_id, exc.code)
        return _refused(ctx, "refund_refused", {})
    except StripeUnavailable:
        return _card(
            ctx,
            Text(text=t("ir.unconfirmed", ctx.locale), style="error"),
            *confirmed,
            Button(id="refund:confirm", label=t("ir.button.try_again", ctx.locale)),
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
        return _card(ctx, Text(text=t("ir.token_expired", ctx.locale), style="error"))
    amount = money(grant.money, ctx.locale)
    return _card(
        ctx,
        Text(text=t("ir.confirm.header", ctx.locale, amount=amount)),
        *identity_check(ctx.locale, required=True),
        Button(id="refund:confirm", label=t("ir.button.confirm", ctx.locale, amount=amount)),
        Button(id="summary", label=t("m.button.cancel", ctx.locale), style="secondary"),
        back=False,
        refund_token=token,
    )


def _done(ctx: InboxContext, result: RefundResult) -> dict[str, Any]:
    parts: list[Component] = [
        Text(text=t("ir.done", ctx.locale, amount=money(result.amount, ctx.locale))),
        Text(
            text=t("ir.done.detail", ctx.locale, refund_id=result.refund_id, status=result.status),
            style="muted",
        ),
    ]
    if result.replayed:
        parts.append(Text(text=t("ir.done.replayed", ctx.locale), style="muted"))
    return _card(ctx, *parts)


def _refused(ctx: InboxContext, code: str, values: dict[str, Any]) -> dict[str, Any]:
    key = f"ir.refused.{code}" if f"ir.refused.{code}" in MESSAGES else "ir.refused.refund_refused"
    currency = values.get("currency") or "eur"
    limit = values.get("remaining", values.get("max_amount"))
    text = t(
        key,
        ctx.locale,
        limit=money(Money(limit, currency), ctx.locale) if limit is not None else "—",
        days=values.get("max_age_days", ctx.services.settings.refund_max_age_days),
    )
    return _card(ctx, Text(text=text, style="error"))


# --- helpers ---
def parse_amount(text: str, currency: str) -> int:
    """What an agent types ("12,50", "12.50 €", "1.234,5", "1,234.50") in minor units. The last
    separator followed by at most the currency's decimals is the decimal mark; any other groups
    thousands. Raises ValueError for anything else or a non-positive amount."""
    factor = minor_unit_factor(currency)
    decimals = len(str(factor)) - 1
    cleaned = re.sub(r"[^\d.,]", "", text)
    if not re.search(r"\d", cleaned):
        raise ValueError(text)
    whole, fraction = cleaned, ""
    last = max(cleaned.rfind("."), cleaned.rfind(","))
    if last >= 0 and 0 < len(cleaned) - last - 1 <= decimals:
        whole, fraction = cleaned[:last], cleaned[last + 1 :]
    digits = re.sub(r"[.,]", "", whole) or "0"
    if not digits.isdigit() or not (fraction == "" or fraction.isdigit()):
        raise ValueError(text)
    amount = int(digits) * factor + (int(fraction.ljust(decimals, "0")) if fraction else 0)
    if amount <= 0:
        raise ValueError(text)
    return amount


def _plain_amount(value: Money, locale: str) -> str:
    # An input's value without the currency sign: what the agent would type.
    factor = minor_unit_factor(value.currency)
    if factor == 1:
        return str(value.amount)
    decimals = len(str(factor)) - 1
    text = f"{value.amount / factor:.{decimals}f}"
    return text.replace(".", ",") if locale.startswith("de") else text


def _refundable(
    payment: Payment, snapshot: BillingSnapshot | None = None, max_age: int = 0
) -> bool:
    if payment.status != "succeeded" or payment.disputed or payment.refundable.amount <= 0:
        return False
    if snapshot is None:
        return True
    return (snapshot.fetched_at - payment.created).days <= max_age


def _method(payment: Payment) -> str:
    last4 = f"•••• {payment.method_last4}" if payment.method_last4 else ""
    if payment.method_type == "sepa_debit":
        return f"SEPA {last4}".strip()
    return last4 or (payment.method_type or "—").replace("_", " ")


def _card(
    ctx: InboxContext, *components: Component, back: bool = True, refund_token: str | None = None
) -> dict[str, Any]:
    stored = {k: v for k, v in ctx.stored.items() if k in KEPT}
    if refund_token:
        stored["refund_token"] = refund_token
    parts = list(components)
    if back:
        parts.append(Button(id="summary", label=t("button.back", ctx.locale), style="secondary"))
    return response(canvas(*parts, stored_data={**stored, "view": "action"}))


# Nothing of its own to route: importing this module adds its button and steps to the inbox.
routes: list[Any] = []
