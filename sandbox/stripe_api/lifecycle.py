"""A subscription over time: renewals, paused collection, cancellation (now or at period end).

Renewals happen when the sandbox clock passes a period end (``/_sandbox/clock/advance``):
the items move to the next period (``customer.subscription.updated``), a ``subscription_cycle``
invoice bills it (discounts applied) and is collected, unless collection is paused:

- ``keep_as_draft``: the invoice stays a draft (no number, no payment attempt);
- ``mark_uncollectible``: it is finalized and marked ``uncollectible``;
- ``void``: it is finalized and voided.

"When you pause payment collection, the subscription remains active and invoices continue to
generate, but Stripe doesn't collect payment" (docs: billing/subscriptions/pause-payment).
Collection resumes once ``resumes_at`` has passed, before a renewal at or after it.
A subscription with ``cancel_at`` (``cancel_at_period_end`` sets it to the period end) ends
then instead of renewing (``customer.subscription.deleted``).
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from . import billing
from .errors import ApiError, invalid
from .forms import as_bool, as_int
from .state import StripeState, round_half_up

PAUSE_BEHAVIORS = ("keep_as_draft", "mark_uncollectible", "void")
FEEDBACK = (
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
)
MAX_RENEWALS_PER_RUN = 60  # a clock jump of years still ends


def period_end(sub: dict[str, Any]) -> int:
    return int(sub["items"]["data"][0]["current_period_end"])


# ------------------------------------------------------------------------ update params
def apply_pause(state: StripeState, sub: dict[str, Any], value: Any) -> None:
    """``pause_collection={behavior, resumes_at}`` pauses; ``pause_collection=""`` resumes."""
    if value == "":
        sub["pause_collection"] = None
        return
    if not isinstance(value, dict):
        raise invalid("Invalid object", "pause_collection")
    unknown = set(value) - {"behavior", "resumes_at"}
    if unknown:
        name = f"pause_collection[{sorted(unknown)[0]}]"
        raise ApiError(
            400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
        )
    behavior = value.get("behavior")
    if not behavior:
        raise ApiError(
            400,
            "Missing required param: pause_collection[behavior].",
            code="parameter_missing",
            param="pause_collection[behavior]",
        )
    if behavior not in PAUSE_BEHAVIORS:
        raise invalid(
            "Invalid pause_collection[behavior]: must be one of keep_as_draft, "
            "mark_uncollectible, or void",
            "pause_collection[behavior]",
        )
    resumes_at = value.get("resumes_at")
    sub["pause_collection"] = {
        "behavior": behavior,
        "resumes_at": as_int(resumes_at, "pause_collection[resumes_at]")
        if resumes_at not in (None, "")
        else None,
    }


def apply_cancel_flags(state: StripeState, sub: dict[str, Any], p: dict[str, Any]) -> None:
    """``cancel_at_period_end`` / ``cancel_at`` (set or undo a scheduled cancellation) and
    ``cancellation_details[comment|feedback]``."""
    if "cancel_at_period_end" in p and p.get("cancel_at") not in (None,):
        raise invalid(
            "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
            "cancel_at",
        )
    scheduled: int | None | bool = False  # False: unchanged
    if "cancel_at_period_end" in p:
        at_end = as_bool(p["cancel_at_period_end"], "cancel_at_period_end")
        scheduled = period_end(sub) if at_end else None
    elif "cancel_at" in p:
        value = p["cancel_at"]
        if value == "":
            scheduled = None
        elif value in ("min_period_end", "max_period_end"):
            scheduled = period_end(sub)
        else:
            scheduled = as_int(value, "cancel_at")
            if scheduled <= state.now():
                raise invalid("cancel_at must be in the future.", "cancel_at")
    if scheduled is not False:
        if scheduled is None:
            sub.update(cancel_at=None, cancel_at_period_end=False, canceled_at=None)
            sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}
        else:
            assert isinstance(scheduled, int)
            sub.update(
                cancel_at=scheduled,
                cancel_at_period_end=scheduled == period_end(sub),
                canceled_at=state.now(),
            )
            sub["cancellation_details"]["reason"] = "cancellation_requested"
    if "cancellation_details" in p:
        apply_cancellation_details(sub, p["cancellation_details"])


def apply_cancellation_details(sub: dict[str, Any], value: Any) -> None:
    if not isinstance(value, dict):
        raise invalid("Invalid object", "cancellation_details")
    for k, v in value.items():
        if k not in ("comment", "feedback"):
            name = f"cancellation_details[{k}]"
            raise ApiError(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )
        if k == "feedback" and v not in ("", *FEEDBACK):
            raise invalid(
                "Invalid cancellation_details[feedback]: must be one of " + ", ".join(FEEDBACK),
                "cancellation_details[feedback]",
            )
        if k == "comment" and len(str(v)) > 500:
            raise invalid(
                "cancellation_details[comment] must be at most 500 characters.",
                "cancellation_details[comment]",
            )
        sub["cancellation_details"][k] = v or None


# ---------------------------------------------------------------------- cancel right now
def cancel_now(
    state: StripeState, sub: dict[str, Any], *, prorate: bool, invoice_now: bool
) -> dict[str, Any] | None:
    """``DELETE /v1/subscriptions/{id}``: ends now. ``prorate`` credits the unused time of
    licensed items; ``invoice_now`` bills that credit, pending prorations and metered usage
    on a final invoice (a credit total goes to the customer balance). Without either, pending
    prorations are dropped. Open invoices of the subscription stop being collected."""
    now = state.now()
    credits = _unused_time_credits(state, sub, now) if prorate else []
    pending = billing.pending_specs(state, sub)
    state.priv(sub["id"])["pending_prorations"] = []
    inv = None
    if invoice_now:
        usage = [
            billing.usage_line(
                state,
                sub["id"],
                i["id"],
                state.objects[i["price"]],
                sub["customer"],
                i["current_period_start"],
                now,
            )
            for i in sub["items"]["data"]
            if state.objects[i["price"]]["recurring"]["meter"]
        ]
        specs = pending + credits + [u for u in usage if u.amount]
        if specs:
            cus = state.get("customer", sub["customer"])
            ref = sub["items"]["data"][0]
            inv = billing.create_invoice(
                state,
                cus,
                sub,
                specs,
                "subscription_update",  # chosen: the final invoice of an immediate cancel
                (ref["current_period_start"], now),
                discounts=[],
            )
            if inv["status"] == "open":
                with contextlib.suppress(ApiError):  # no payment method: stays open
                    billing.pay_invoice(state, inv, raise_on_decline=False)
    elif prorate:
        # Stripe leaves the credit as a pending invoice item of the customer.
        state.priv(sub["customer"]).setdefault("pending_credits", []).extend(credits)
    final = inv["id"] if inv is not None else None
    for other in state.all("invoice"):
        if (
            other["status"] == "open"
            and other["id"] != final
            and billing.subscription_of(state, other) is sub
        ):
            other.update(auto_advance=False, next_payment_attempt=None)
    end(state, sub, at=now)
    return inv


def _unused_time_credits(
    state: StripeState, sub: dict[str, Any], at: int
) -> list[billing.LineSpec]:
    out = []
    for item in sub["items"]["data"]:
        price = state.objects[item["price"]]
        if price["recurring"]["meter"] is not None or sub["status"] == "trialing":
            continue
        start, stop = item["current_period_start"], item["current_period_end"]
        remaining = max(0, stop - at)
        if not remaining:
            continue
        q = item["quantity"] or 1
        amount = -round_half_up(
            Decimal(price["unit_amount"] * q * remaining) / max(1, stop - start)
        )
        name = billing.product_name(state, price)
        label = f"{q} × {name}" if q > 1 else name
        out.append(
            billing.LineSpec(
                price,
                q,
                amount,
                f"Unused time on {label} after {billing.fmt_date(at)}",
                at,
                stop,
                sub["id"],
                item["id"],
                proration=True,
            )
        )
    return out


def end(state: StripeState, sub: dict[str, Any], *, at: int) -> None:
    """The subscription is over (``customer.subscription.deleted``)."""
    sub.update(status="canceled", ended_at=at, canceled_at=sub["canceled_at"] or at)
    sub["cancellation_details"]["reason"] = (
        sub["cancellation_details"]["reason"] or "cancellation_requested"
    )
    state.emit("customer.subscription.deleted", sub)


# ------------------------------------------------------------------------- time passing
def run_due_subscriptions(state: StripeState) -> list[str]:
    """Resume paused collection, end scheduled cancellations and renew, up to now."""
    now = state.now()
    renewed = []
    for sub in list(state.all("subscription")):
        for _ in range(MAX_RENEWALS_PER_RUN):
            if sub["status"] not in ("active", "past_due", "unpaid"):
                break
            end_at = period_end(sub)
            pause = sub["pause_collection"]
            if (
                pause
                and pause["resumes_at"] is not None
                and pause["resumes_at"] <= min(now, end_at)
            ):
                before = state.render(sub)
                sub["pause_collection"] = None
                state.emit(
                    "customer.subscription.updated",
                    sub,
                    state.previous_attributes(before, state.render(sub)),
                )
            cancel_at = sub["cancel_at"]
            if cancel_at is not None and cancel_at <= min(now, end_at):
                end(state, sub, at=cancel_at)
                break
            if end_at > now:
                break
            renew(state, sub, at=end_at)
            renewed.append(sub["id"])
    return renewed


def renew(state: StripeState, sub: dict[str, Any], *, at: int) -> dict[str, Any]:
    """Start the next period at ``at`` and bill it (see the module docstring)."""
    from . import discounts as dc

    before = state.render(sub)
    for did in list(sub["discounts"]):
        di = state.find(did, "discount")
        if di is not None and di["end"] is not None and di["end"] <= at:
            dc.end_discount(state, sub, did)
            before = state.render(sub)
    specs, start, stop = billing.renewal_lines(state, sub, sub["items"]["data"])
    pending = billing.pending_specs(state, sub)
    state.priv(sub["id"])["pending_prorations"] = []
    for item in sub["items"]["data"]:
        interval = state.objects[item["price"]]["recurring"]["interval"]
        item["current_period_start"] = item["current_period_end"]
        item["current_period_end"] = billing.add_interval(item["current_period_end"], interval)
    cus = state.get("customer", sub["customer"])
    inv = billing.create_invoice(
        state, cus, sub, pending + specs, "subscription_cycle", (start, stop), at=at, finalize=False
    )
    state.emit(
        "customer.subscription.updated", sub, state.previous_attributes(before, state.render(sub))
    )
    pause = sub["pause_collection"]
    if pause is None:
        billing.finalize_invoice(state, inv, at=at)
        if inv["status"] == "open":
            with contextlib.suppress(ApiError):  # no payment method: the invoice stays open
                billing.pay_invoice(state, inv, at=at, raise_on_decline=False)
    elif pause["behavior"] == "keep_as_draft":
        inv["auto_advance"] = False
    else:
        _finalize_uncollected(state, inv, at)
        if pause["behavior"] == "void":
            prev = {"status": "open"}
            inv.update(status="void", amount_remaining=0)
            inv["status_transitions"]["voided_at"] = at
            state.emit("invoice.voided", inv, prev)
        else:
            prev = {"status": "open"}
            inv["status"] = "uncollectible"
            inv["status_transitions"]["marked_uncollectible_at"] = at
            state.emit("invoice.marked_uncollectible", inv, prev)
    return inv


def _finalize_uncollected(state: StripeState, inv: dict[str, Any], at: int) -> None:
    """Finalize without touching the customer balance or trying to collect."""
    billing.assign_number(state, inv)
    inv.update(status="open", auto_advance=False, effective_at=at, next_payment_attempt=None)
    inv["ending_balance"] = inv["starting_balance"]
    inv["status_transitions"]["finalized_at"] = at
    state.emit("invoice.finalized", inv)
