"""Billing rules: invoices, payments (card and SEPA), prorations, previews, refunds.

Everything here mutates a ``StripeState`` and emits the events Stripe would emit.
"""

from __future__ import annotations

import calendar
import contextlib
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from . import objects as ob
from .errors import ApiError, invalid, missing_param
from .state import StripeState, money, round_half_up

# Card numbers whose use fails, and how (decline_code).
DECLINING_CARDS = {
    "4000000000009995": "insufficient_funds",
    "4000000000000002": "generic_decline",
    "4100000000000019": "fraudulent",
}
# Stripe's test card that Radar always blocks: `card_declined` with decline code `fraudulent`,
# while the charge's `outcome` is Radar's (type `blocked`, reason `highest_risk_level`).
RADAR_BLOCKED_CARDS = {"4100000000000019"}
# SEPA test IBANs that fail at settlement, and with which failure code.
FAILING_IBANS = {
    "DE65370400440002222227": "insufficient_funds",
    "DE62370400440532013001": "generic_decline",
    "DE78370400440532013004": "generic_decline",
    "DE65370400440000343434": "charge_exceeds_source_limit",
}
FAILURE_MESSAGES = {
    "insufficient_funds": "The customer's account has insufficient funds to cover this payment.",
    "generic_decline": "The payment was declined.",
    "charge_exceeds_source_limit": "This payment exceeds the source's limit.",
}
CARD_DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "fraudulent": "Your card was declined.",
    "generic_decline": "Your card was declined.",
}


# ---------------------------------------------------------------------------- time helpers
def add_interval(ts: int, interval: str, count: int = 1) -> int:
    """Calendar-correct period arithmetic (month end clamps like Stripe's anchors)."""
    d = datetime.fromtimestamp(ts, UTC)
    if interval == "day":
        return ts + 86400 * count
    if interval == "week":
        return ts + 7 * 86400 * count
    months = count * (12 if interval == "year" else 1)
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return int(d.replace(year=year, month=month, day=day).timestamp())


def fmt_date(ts: int) -> str:
    """``28 Nov 2026``, the date style of Stripe's proration descriptions."""
    d = datetime.fromtimestamp(ts, UTC)
    return f"{d.day} {d:%b %Y}"


def unit_text(price: dict[str, Any]) -> str:
    """``€79.00 / month`` or ``€0.005 / month`` for metered decimals."""
    interval = price["recurring"]["interval"]
    if price["unit_amount"] is not None and price["recurring"]["meter"] is None:
        return f"{money(price['unit_amount'], price['currency'])} / {interval}"
    eur = Decimal(price["unit_amount_decimal"]) / 100
    return f"€{eur.normalize():f} / {interval}"


# ------------------------------------------------------------------------------- lines
@dataclass
class LineSpec:
    """One invoice line before it belongs to an invoice."""

    price: dict[str, Any]
    quantity: int
    amount: int
    description: str
    start: int
    end: int
    subscription: str | None
    subscription_item: str | None
    proration: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def product_name(state: StripeState, price: dict[str, Any]) -> str:
    prod = state.find(price["product"], "product")
    return prod["name"] if prod else price["product"]


def cycle_line(
    state: StripeState,
    sub_id: str,
    si_id: str | None,
    price: dict[str, Any],
    quantity: int,
    start: int,
    end: int,
) -> LineSpec:
    """A full-period licensed line: ``1 × Pro (at €79.00 / month)``."""
    amount = (price["unit_amount"] or 0) * quantity
    desc = f"{quantity} × {product_name(state, price)} (at {unit_text(price)})"
    return LineSpec(price, quantity, amount, desc, start, end, sub_id, si_id)


def usage_line(
    state: StripeState,
    sub_id: str,
    si_id: str | None,
    price: dict[str, Any],
    customer: str,
    start: int,
    end: int,
) -> LineSpec:
    """A metered line billed in arrears from meter events in ``[start, end)``."""
    usage = state.usage(price["recurring"]["meter"], customer, start, end)
    qty = int(usage)
    amount = round_half_up(usage * Decimal(price["unit_amount_decimal"]))
    desc = f"{qty} × {product_name(state, price)} (at {unit_text(price)})"
    return LineSpec(price, qty, amount, desc, start, end, sub_id, si_id)


def materialize(
    state: StripeState, invoice_id: str | None, specs: list[LineSpec]
) -> list[dict[str, Any]]:
    """Turn specs into ``line_item`` objects of an invoice."""
    return [
        ob.line_item(
            id=state.new_id("il"),
            invoice=invoice_id,
            amount=s.amount,
            currency=s.price["currency"],
            description=s.description,
            period_start=s.start,
            period_end=s.end,
            quantity=s.quantity,
            price=s.price,
            subscription=s.subscription,
            subscription_item=s.subscription_item,
            proration=s.proration,
        )
        for s in specs
    ]


# ---------------------------------------------------------------------------- invoices
def create_invoice(
    state: StripeState,
    customer: dict[str, Any],
    sub: dict[str, Any] | None,
    specs: list[LineSpec],
    billing_reason: str,
    period: tuple[int, int],
    *,
    at: int | None = None,
    finalize: bool = True,
    discounts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Create an invoice (draft, then finalized by default: balance applied, number given).

    A subscription's invoice takes the subscription's discounts that still apply (unless
    ``discounts`` says otherwise); a ``once`` discount is used up by it.
    """
    from . import discounts as dc

    at = at if at is not None else state.now()
    inv_id = state.new_id("in")
    inv = ob.invoice(
        id=inv_id,
        created=at,
        customer=customer,
        subscription=sub["id"] if sub else None,
        lines=materialize(state, inv_id, specs),
        status="draft",
        billing_reason=billing_reason,
        period_start=period[0],
        period_end=period[1],
        number=None,
        hosted_invoice_url=None,
    )
    if discounts is None:
        discounts = dc.active_discounts(state, sub, at) if sub is not None else []
    if discounts:
        dc.apply_to_invoice(state, inv, discounts)
    state.put(inv)
    if sub is not None:
        sub["latest_invoice"] = inv_id
    state.emit("invoice.created", inv)
    for used in inv["total_discount_amounts"]:
        di = state.find(used["discount"], "discount")
        if di is not None and sub is not None and _coupon_duration(state, di) == "once":
            state.priv(di["id"])["used"] = True
            dc.end_discount(state, sub, di["id"])
    if finalize:
        finalize_invoice(state, inv, at=at)
    return inv


def _coupon_duration(state: StripeState, di: dict[str, Any]) -> str | None:
    coupon = state.find(di["source"]["coupon"], "coupon")
    return coupon["duration"] if coupon else None


def finalize_invoice(state: StripeState, inv: dict[str, Any], *, at: int | None = None) -> None:
    """Finalize: apply the customer balance, assign a number, open (or pay a zero invoice)."""
    at = at if at is not None else state.now()
    cus = state.get("customer", inv["customer"])
    start = cus["balance"]
    net = inv["total"] + start
    inv["starting_balance"] = start
    inv["ending_balance"] = min(0, net) if net < 0 or start < 0 else 0
    inv["amount_due"] = max(0, net)
    inv["amount_remaining"] = inv["amount_due"]
    if start != inv["ending_balance"]:
        prev = {"balance": cus["balance"]}
        cus["balance"] = inv["ending_balance"]
        state.emit("customer.updated", cus, prev)
    assign_number(state, inv)
    cus["currency"] = cus["currency"] or inv["currency"]
    inv["status"] = "open"
    inv["auto_advance"] = True
    inv["effective_at"] = at
    inv["status_transitions"]["finalized_at"] = at
    inv["next_payment_attempt"] = at + 3600 if inv["amount_due"] > 0 else None
    state.emit("invoice.finalized", inv)
    if inv["amount_due"] == 0:
        mark_invoice_paid(state, inv, at=at)


def assign_number(state: StripeState, inv: dict[str, Any]) -> None:
    """What finalizing gives every invoice: ``<invoice_prefix>-<seq>``, the hosted page and
    PDF addresses (served by the sandbox) and the customer's details as they are now."""
    cus = state.get("customer", inv["customer"])
    inv["number"] = f"{cus['invoice_prefix']}-{cus['next_invoice_sequence']:04d}"
    cus["next_invoice_sequence"] += 1
    inv["hosted_invoice_url"] = f"{{base}}/invoices/{inv['id']}"
    inv["invoice_pdf"] = f"{{base}}/invoices/{inv['id']}/pdf"
    inv["customer_address"] = copy.deepcopy(cus["address"])
    inv["customer_name"], inv["customer_email"] = cus["name"], cus["email"]
    inv["customer_tax_ids"] = [
        {"type": t["type"], "value": t["value"]}
        for t in reversed(state.all("tax_id"))
        if t["customer"] == cus["id"]
    ]


def mark_invoice_paid(state: StripeState, inv: dict[str, Any], *, at: int | None = None) -> None:
    """Invoice paid: amounts, transitions, subscription active again, customer not delinquent."""
    at = at if at is not None else state.now()
    prev = {"status": inv["status"], "amount_paid": inv["amount_paid"]}
    inv["status"] = "paid"
    inv["amount_paid"] = inv["amount_due"]
    inv["amount_remaining"] = 0
    inv["next_payment_attempt"] = None
    inv["auto_advance"] = False
    inv["status_transitions"]["paid_at"] = at
    state.emit("invoice.paid", inv, prev)
    state.emit("invoice.payment_succeeded", inv, prev)
    sub = subscription_of(state, inv)
    if sub and _pending_invoice(state, sub, inv):
        _apply_pending_update(state, sub)
    if sub and sub["status"] in ("past_due", "unpaid", "incomplete"):
        sprev = {"status": sub["status"]}
        sub["status"] = "active"
        state.emit("customer.subscription.updated", sub, sprev)
    cus = state.get("customer", inv["customer"])
    if cus["delinquent"] and not any(
        i["status"] == "open" and i["attempt_count"] > 0 and i["id"] != inv["id"]
        for i in state.all("invoice")
        if i["customer"] == cus["id"]
    ):
        cus["delinquent"] = False
        state.emit("customer.updated", cus, {"delinquent": True})


def subscription_of(state: StripeState, inv: dict[str, Any]) -> dict[str, Any] | None:
    parent = inv.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return state.find(details.get("subscription"), "subscription")


def resolve_payment_method(
    state: StripeState, inv: dict[str, Any], pm_id: str | None
) -> dict[str, Any]:
    """param, else subscription default, else customer default (Stripe's order)."""
    if pm_id:
        return state.require_customer_pm(inv["customer"], pm_id, "payment_method")
    sub = subscription_of(state, inv)
    cus = state.get("customer", inv["customer"])
    for cand in (
        inv.get("default_payment_method"),
        sub and sub.get("default_payment_method"),
        cus["invoice_settings"]["default_payment_method"],
    ):
        if cand and state.find(cand, "payment_method"):
            return state.objects[cand]
    raise ApiError(
        400,
        "There is no `default_payment_method` set on this Customer or Invoice. It's possible "
        "this Customer has no payment methods. Please provide a payment method or attach one "
        "to the customer and set it as default.",
    )


def pay_invoice(
    state: StripeState,
    inv: dict[str, Any],
    pm_id: str | None = None,
    *,
    force: str | None = None,
    at: int | None = None,
    raise_on_decline: bool = True,
) -> dict[str, Any]:
    """Attempt payment of an open invoice.

    Card: immediate success or 402 ``card_declined``. SEPA: the payment intent goes
    ``processing`` (charge ``pending``) and the invoice stays ``open`` until settlement.
    ``force`` ("succeed"/"fail") lets the seed and demo controls decide the outcome.

    Every attempt is a new charge on the invoice's payment intent. ``attempt_count`` counts like
    Stripe's: "Any payment attempt counts as the first attempt, and subsequently only automatic
    retries increment the attempt count" (the sandbox makes no automatic retries), so a manual
    ``invoices.pay`` after the first attempt leaves it as it is.
    """
    at = at if at is not None else state.now()
    if inv["status"] == "draft":
        finalize_invoice(state, inv, at=at)
    if inv["status"] == "paid":
        # Real Stripe: 400 invalid_request_error "Invoice is already paid" (no code).
        raise ApiError(400, "Invoice is already paid")
    if inv["status"] != "open":
        raise ApiError(400, f"You can only pay an open invoice. This invoice is {inv['status']}.")
    p = state.priv(inv["id"])
    pi = state.find(p.get("payment_intent"), "payment_intent")
    if pi and pi["status"] == "processing":
        # Chosen wording: Stripe refuses to pay while the invoice's payment intent is processing.
        raise ApiError(400, "This invoice can't be paid while a payment is processing.")
    pm = resolve_payment_method(state, inv, pm_id)
    amount = inv["amount_remaining"]
    cus = state.get("customer", inv["customer"])
    if pi is None:
        pi = ob.payment_intent(
            id=state.new_id("pi"),
            created=at,
            amount=amount,
            currency=inv["currency"],
            customer=cus["id"],
            payment_method=pm["id"],
            pm_type=pm["type"],
            status="requires_payment_method",
            latest_charge=None,
            description=_charge_description(inv),
        )
        state.put(pi, {"invoice": inv["id"]})
        p["payment_intent"] = pi["id"]
        ip = ob.invoice_payment(
            id=state.new_id("inpay"),
            created=at,
            invoice=inv["id"],
            amount_requested=amount,
            currency=inv["currency"],
            payment_intent=pi["id"],
        )
        state.put(ip)
        p["invoice_payment"] = ip["id"]
    pi["payment_method"] = pm["id"]
    pi["payment_method_types"] = [pm["type"]]
    pi["payment_method_options"] = {pm["type"]: {}}
    pi["last_payment_error"] = None
    attempts_before = inv["attempt_count"]
    if attempts_before == 0:
        inv["attempt_count"] = 1
    inv["attempted"] = True
    ch = ob.charge(
        id=state.new_id("ch"),
        created=at,
        amount=amount,
        currency=inv["currency"],
        customer=cus["id"],
        payment_intent=pi["id"],
        pm=pm,
        status="pending",
        description=_charge_description(inv),
        billing_name=cus["name"],
        billing_email=cus["email"],
        mandate=state.priv(pm["id"]).get("mandate"),
    )
    state.put(ch, {"attempt_count_before": attempts_before})
    pi["latest_charge"] = ch["id"]
    outcome = force
    if pm["type"] == "sepa_debit" and force is None:
        pi["status"] = "processing"
        pi["processing"] = None
        state.priv(pi["id"])["processing_since"] = at
        state.emit("charge.pending", ch)
        state.emit("payment_intent.processing", pi)
        return inv
    if outcome is None:
        number = state.priv(pm["id"]).get("number")
        outcome = "fail" if number in DECLINING_CARDS else "succeed"
    if outcome == "succeed":
        _succeed(state, pi, ch, inv, at)
        return inv
    _fail(state, pi, ch, inv, pm, at)
    if raise_on_decline and pm["type"] == "card":
        err = pi["last_payment_error"]
        raise ApiError(
            402,
            err["message"],
            type="card_error",
            code=err["code"],
            decline_code=err.get("decline_code"),
            extra={
                "charge": ch["id"],
                "payment_intent": state.render(pi),
                "payment_method": state.render(pm),
            },
        )
    return inv


def _charge_description(inv: dict[str, Any]) -> str:
    return {
        "subscription_create": "Subscription creation",
        "subscription_update": "Subscription update",
    }.get(inv["billing_reason"], "Subscription cycle")


def _succeed(
    state: StripeState, pi: dict[str, Any], ch: dict[str, Any], inv: dict[str, Any], at: int
) -> None:
    ch.update(
        status="succeeded",
        paid=True,
        captured=True,
        amount_captured=ch["amount"],
        balance_transaction="txn_" + ch["id"][3:],
        outcome=ob._outcome("succeeded", None),
    )
    pi.update(status="succeeded", amount_received=pi["amount"], processing=None)
    ip = state.find(state.priv(inv["id"]).get("invoice_payment"), "invoice_payment")
    if ip:
        ip.update(status="paid", amount_paid=pi["amount"])
        ip["status_transitions"]["paid_at"] = at
    state.emit("charge.succeeded", ch)
    state.emit("payment_intent.succeeded", pi)
    mark_invoice_paid(state, inv, at=at)


def _fail(
    state: StripeState,
    pi: dict[str, Any],
    ch: dict[str, Any],
    inv: dict[str, Any],
    pm: dict[str, Any],
    at: int,
    code: str | None = None,
) -> None:
    blocked = False
    if pm["type"] == "card":
        number = state.priv(pm["id"]).get("number", "")
        blocked = code is None and number in RADAR_BLOCKED_CARDS
        decline = code or DECLINING_CARDS.get(number, "insufficient_funds")
        err: dict[str, Any] = {
            "code": "card_declined",
            "decline_code": decline,
            "message": CARD_DECLINE_MESSAGES.get(decline, "Your card was declined."),
            "type": "card_error",
        }
        ch_code, ch_msg = "card_declined", err["message"]
    else:
        fcode = code or FAILING_IBANS.get(
            state.priv(pm["id"]).get("iban", ""), "insufficient_funds"
        )
        err = {
            "code": fcode,
            "decline_code": None,
            "message": FAILURE_MESSAGES.get(fcode, "The payment failed."),
            "type": "card_error",
        }
        ch_code, ch_msg = fcode, err["message"]
    err.update(
        {
            "doc_url": f"https://stripe.com/docs/error-codes/{err['code'].replace('_', '-')}",
            "payment_method": state.render(pm),
        }
    )
    ch.update(
        status="failed",
        paid=False,
        captured=False,
        amount_captured=0,
        balance_transaction=None,
        failure_code=ch_code,
        failure_message=ch_msg,
        outcome=ob.radar_blocked_outcome()
        if blocked
        else ob._outcome("failed", err.get("decline_code") or ch_code),
    )
    pi.update(
        status="requires_payment_method", last_payment_error=err, processing=None, amount_received=0
    )
    before = state.priv(ch["id"]).get("attempt_count_before", inv["attempt_count"])
    prev = {"attempt_count": before} if before != inv["attempt_count"] else None
    inv["next_payment_attempt"] = at + 3 * 86400
    state.emit("charge.failed", ch)
    state.emit("payment_intent.payment_failed", pi)
    state.emit("invoice.payment_failed", inv, prev)
    sub = subscription_of(state, inv)
    # A pending update's failed invoice leaves the subscription as it was ("continues to cycle
    # as if no update request was made").
    if sub and sub["status"] in ("active", "trialing") and not _pending_invoice(state, sub, inv):
        sub["status"] = "past_due"
        state.emit("customer.subscription.updated", sub, {"status": "active"})
    cus = state.get("customer", inv["customer"])
    if not cus["delinquent"]:
        cus["delinquent"] = True
        state.emit("customer.updated", cus, {"delinquent": False})


def settle_payment_intent(
    state: StripeState, pi_id: str, force: str | None = None
) -> dict[str, Any]:
    """SEPA settlement of a processing payment: success, or failure for failing test IBANs."""
    pi = state.get("payment_intent", pi_id)
    if pi["status"] != "processing":
        return {"payment_intent": pi_id, "status": pi["status"]}
    ch = state.get("charge", pi["latest_charge"])
    pm = state.get("payment_method", pi["payment_method"])
    inv = state.get("invoice", state.priv(pi_id)["invoice"])
    at = state.now()
    outcome = force or ("fail" if state.priv(pm["id"]).get("iban") in FAILING_IBANS else "succeed")
    if outcome == "succeed":
        _succeed(state, pi, ch, inv, at)
    else:
        _fail(state, pi, ch, inv, pm, at)
    return {"payment_intent": pi_id, "status": pi["status"], "invoice": inv["id"]}


# -------------------------------------------------------------------- subscription change
@dataclass
class ChangePlan:
    """Result of applying subscription item changes at a proration date (no side effects)."""

    items: list[dict[str, Any]]  # new stored items (copies)
    prorations: list[LineSpec]
    reset_anchor: bool
    at: int
    invoice_now: list[LineSpec]  # lines to invoice immediately (anchor reset / always_invoice)


def _price(state: StripeState, pid: Any, param: str) -> dict[str, Any]:
    if not isinstance(pid, str):
        raise invalid("Invalid string", param)
    return state.get("price", pid, param)


def plan_change(
    state: StripeState,
    sub: dict[str, Any],
    items_param: list[dict[str, Any]],
    *,
    proration_date: int | None,
    behavior: str,
    anchor: str | None,
    prefix: str,
    at: int | None = None,
) -> ChangePlan:
    """Compute new items and proration lines like Stripe (time-proportional, half-up rounding)."""
    now = at if at is not None else state.now()
    t = proration_date if proration_date is not None else now
    cur = {i["id"]: i for i in sub["items"]["data"]}
    new_items = [copy.deepcopy(i) for i in sub["items"]["data"]]
    by_id = {i["id"]: i for i in new_items}
    changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []  # (old, new)
    for n, ip in enumerate(items_param):
        if not isinstance(ip, dict):
            raise invalid("Invalid object", f"{prefix}[{n}]")
        for k in ip:
            if k not in ("id", "price", "quantity", "deleted", "metadata", "clear_usage"):
                raise ApiError(
                    400,
                    f"Received unknown parameter: {prefix}[{n}][{k}]",
                    code="parameter_unknown",
                    param=f"{prefix}[{n}][{k}]",
                )
        deleted = ip.get("deleted") in ("true", True)
        qty = int(ip["quantity"]) if ip.get("quantity") not in (None, "") else None
        if ip.get("id"):
            si = ip["id"]
            if si not in cur:
                raise ApiError(
                    400,
                    f"No such subscription item: '{si}'",
                    code="resource_missing",
                    param=f"{prefix}[{n}][id]",
                )
            old = cur[si]
            if deleted:
                new_items = [i for i in new_items if i["id"] != si]
                changes.append((old, None))
                continue
            item = by_id[si]
            if ip.get("price"):
                item["price"] = _price(state, ip["price"], f"{prefix}[{n}][price]")["id"]
            if qty is not None:
                item["quantity"] = qty
            if item["price"] != old["price"] or item["quantity"] != old["quantity"]:
                changes.append((old, item))
        else:
            if not ip.get("price"):
                raise missing_param(f"{prefix}[{n}][price]")
            p = _price(state, ip["price"], f"{prefix}[{n}][price]")
            ref = sub["items"]["data"][0]
            item = ob.subscription_item(
                id=state.new_id("si", 14),
                created=now,
                subscription=sub["id"],
                price=p["id"],
                quantity=None if p["recurring"]["meter"] else (qty or 1),
                current_period_start=ref["current_period_start"],
                current_period_end=ref["current_period_end"],
            )
            new_items.append(item)
            changes.append((None, item))
    ref = sub["items"]["data"][0]
    p_start, p_end = ref["current_period_start"], ref["current_period_end"]
    if proration_date is not None and not (p_start <= proration_date <= p_end):
        raise invalid(
            "The proration date must be within the current subscription period "
            f"({p_start} - {p_end}).",
            f"{prefix.rsplit('[', 1)[0]}[proration_date]"
            if prefix.startswith("subscription_details")
            else "proration_date",
        )

    def interval_of(items: list[dict[str, Any]]) -> str | None:
        for i in items:
            pr = state.objects[i["price"]]
            if pr["recurring"]["meter"] is None:
                return pr["recurring"]["interval"]
        return None

    old_iv, new_iv = interval_of(sub["items"]["data"]), interval_of(new_items)
    reset = anchor == "now" or (old_iv is not None and new_iv is not None and old_iv != new_iv)
    trialing = sub["status"] == "trialing"
    length = max(1, p_end - p_start)
    remaining = max(0, p_end - t)
    prorations: list[LineSpec] = []
    if behavior != "none" and not trialing:
        olds = [(i, None) for i in sub["items"]["data"]] if reset else changes
        for old, new in olds:
            if old is not None:
                op = state.objects[old["price"]]
                if op["recurring"]["meter"] is None:
                    q = old["quantity"] or 1
                    amt = -round_half_up(Decimal(op["unit_amount"] * q * remaining) / length)
                    label = f"{q} × {product_name(state, op)}" if q > 1 else product_name(state, op)
                    prorations.append(
                        LineSpec(
                            op,
                            q,
                            amt,
                            f"Unused time on {label} after {fmt_date(t)}",
                            t,
                            p_end,
                            sub["id"],
                            old["id"],
                            proration=True,
                        )
                    )
            if new is not None and not reset:
                np_ = state.objects[new["price"]]
                if np_["recurring"]["meter"] is None:
                    q = new["quantity"] or 1
                    amt = round_half_up(Decimal(np_["unit_amount"] * q * remaining) / length)
                    label = (
                        f"{q} × {product_name(state, np_)}" if q > 1 else product_name(state, np_)
                    )
                    prorations.append(
                        LineSpec(
                            np_,
                            q,
                            amt,
                            f"Remaining time on {label} after {fmt_date(t)}",
                            t,
                            p_end,
                            sub["id"],
                            new["id"],
                            proration=True,
                        )
                    )
    invoice_now: list[LineSpec] = []
    if reset and not trialing:
        invoice_now = list(prorations)
        for i in new_items:
            pr = state.objects[i["price"]]
            end = add_interval(t, pr["recurring"]["interval"])
            i["current_period_start"], i["current_period_end"] = t, end
            if pr["recurring"]["meter"] is None:
                invoice_now.append(
                    cycle_line(state, sub["id"], i["id"], pr, i["quantity"] or 1, t, end)
                )
    elif behavior == "always_invoice":
        invoice_now = list(prorations)
    return ChangePlan(new_items, prorations, reset and not trialing, t, invoice_now)


def renewal_lines(
    state: StripeState, sub: dict[str, Any], items: list[dict[str, Any]]
) -> tuple[list[LineSpec], int, int]:
    """Lines of the next renewal invoice: licensed items for the next period, usage in arrears."""
    specs: list[LineSpec] = []
    ref = items[0]
    start, end = ref["current_period_start"], ref["current_period_end"]
    for i in items:
        pr = state.objects[i["price"]]
        if pr["recurring"]["meter"]:
            specs.append(
                usage_line(
                    state,
                    sub["id"],
                    i["id"],
                    pr,
                    sub["customer"],
                    i["current_period_start"],
                    i["current_period_end"],
                )
            )
        else:
            nxt = add_interval(i["current_period_end"], pr["recurring"]["interval"])
            specs.append(
                cycle_line(
                    state, sub["id"], i["id"], pr, i["quantity"] or 1, i["current_period_end"], nxt
                )
            )
    return specs, start, end


def pending_specs(state: StripeState, sub: dict[str, Any]) -> list[LineSpec]:
    """Prorations waiting for the next invoice (``create_prorations``)."""
    return list(state.priv(sub["id"]).get("pending_prorations", []))


def preview_invoice(
    state: StripeState,
    customer: dict[str, Any],
    sub: dict[str, Any],
    plan: ChangePlan | None,
    behavior: str,
    discounts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The invoice ``create_preview`` returns (id ``upcoming_in_...``, status draft).

    ``discounts`` replaces the subscription's own (``[]``: none); by default the invoice has
    the subscription's discounts that still apply when it would be created.
    """
    from . import discounts as dc

    now = state.now()
    if plan is not None and (plan.reset_anchor or behavior == "always_invoice"):
        specs = pending_specs(state, sub) + plan.invoice_now
        reason = "subscription_update"
        created = now
        period = (plan.at, plan.at)
        next_attempt = now + 3600
    else:
        items = plan.items if plan else sub["items"]["data"]
        cycle, start, end = renewal_lines(state, sub, items)
        extra = plan.prorations if plan else []
        specs = pending_specs(state, sub) + extra + cycle
        reason = "upcoming"
        created = end
        period = (start, end)
        next_attempt = end + 3600
    inv_id = state.new_id("upcoming_in")
    inv = ob.invoice(
        id=inv_id,
        created=created,
        customer=customer,
        subscription=sub["id"],
        lines=materialize(state, None, specs),
        status="draft",
        billing_reason=reason,
        period_start=period[0],
        period_end=period[1],
        number=None,
        hosted_invoice_url=None,
        starting_balance=customer["balance"],
    )
    if discounts is None:
        discounts = dc.active_discounts(state, sub, created)
    if discounts:
        dc.apply_to_invoice(state, inv, discounts)
    net = inv["total"] + customer["balance"]
    inv["ending_balance"] = min(0, net) if net < 0 or customer["balance"] < 0 else 0
    inv["next_payment_attempt"] = next_attempt if inv["amount_due"] > 0 else None
    inv["lines"]["url"] = "/v1/invoices/upcoming/lines"
    return inv


PENDING_UPDATE_MAX_SECONDS = 23 * 3600


def apply_change(
    state: StripeState,
    sub: dict[str, Any],
    plan: ChangePlan,
    behavior: str,
    payment_behavior: str = "allow_incomplete",
) -> dict[str, Any] | None:
    """Commit a planned change; invoice (and try to pay) now when Stripe would.

    ``pending_if_incomplete`` (pending updates): when the change invoices now, it applies only
    once that invoice is paid. If the payment fails the subscription keeps its items, shows the
    change in ``pending_update`` and points ``latest_invoice`` at the open invoice; paying that
    invoice later applies the change (https://docs.stripe.com/billing/subscriptions/pending-updates).
    """
    if payment_behavior == "pending_if_incomplete" and plan.invoice_now:
        return _apply_pending(state, sub, plan)
    sub["items"]["data"] = plan.items
    if plan.reset_anchor:
        sub["billing_cycle_anchor"] = plan.at
    if plan.invoice_now:
        cus = state.get("customer", sub["customer"])
        pend = pending_specs(state, sub)
        state.priv(sub["id"])["pending_prorations"] = []
        inv = create_invoice(
            state, cus, sub, pend + plan.invoice_now, "subscription_update", (plan.at, plan.at)
        )
        if inv["status"] == "open":
            # no payment method: the invoice stays open, like payment_behavior=allow_incomplete
            with contextlib.suppress(ApiError):
                pay_invoice(state, inv, raise_on_decline=False)
        return inv
    if plan.prorations and behavior == "create_prorations":
        state.priv(sub["id"]).setdefault("pending_prorations", []).extend(plan.prorations)
    return None


def _apply_pending(state: StripeState, sub: dict[str, Any], plan: ChangePlan) -> dict[str, Any]:
    cus = state.get("customer", sub["customer"])
    pend = pending_specs(state, sub)
    state.priv(sub["id"])["pending_prorations"] = []
    inv = create_invoice(
        state,
        cus,
        sub,
        pend + plan.invoice_now,
        "subscription_update",
        (plan.at, plan.at),
        finalize=False,
    )
    state.priv(sub["id"])["pending_change"] = {
        "invoice": inv["id"],
        "items": plan.items,
        "anchor": plan.at if plan.reset_anchor else None,
    }
    finalize_invoice(state, inv)  # a zero invoice is paid here, which applies the change
    if inv["status"] == "open":
        with contextlib.suppress(ApiError):  # no payment method: nothing attempted
            pay_invoice(state, inv, raise_on_decline=False)
    if inv["status"] != "paid":
        now = state.now()
        period_end = sub["items"]["data"][0]["current_period_end"]
        sub["pending_update"] = {
            "billing_cycle_anchor": plan.at if plan.reset_anchor else None,
            "expires_at": min(period_end, now + PENDING_UPDATE_MAX_SECONDS),
            "subscription_items": [state.render(i) for i in plan.items],
            "trial_end": None,
            "trial_from_plan": None,
        }
    return inv


def _pending_invoice(state: StripeState, sub: dict[str, Any], inv: dict[str, Any]) -> bool:
    change = state.priv(sub["id"]).get("pending_change")
    return change is not None and change["invoice"] == inv["id"]


def _apply_pending_update(state: StripeState, sub: dict[str, Any]) -> None:
    """The pending update's invoice is paid: the change applies now."""
    change = state.priv(sub["id"]).pop("pending_change")
    prev = {"items": state.render(sub)["items"], "pending_update": sub["pending_update"]}
    sub["items"]["data"] = change["items"]
    if change["anchor"] is not None:
        sub["billing_cycle_anchor"] = change["anchor"]
    sub["pending_update"] = None
    state.emit("customer.subscription.updated", sub, prev)


# ------------------------------------------------------------------------------ refunds
def create_refund(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    """Refund a charge (or a payment intent's latest charge) with Stripe's validations."""
    ch_id = params.get("charge")
    pi_id = params.get("payment_intent")
    if not ch_id and not pi_id:
        raise ApiError(
            400,
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
        )
    if ch_id:
        ch = state.get("charge", ch_id, "charge")
        if pi_id and ch["payment_intent"] != pi_id:
            raise invalid(f"Charge {ch_id} does not belong to PaymentIntent {pi_id}.", "charge")
    else:
        assert pi_id is not None  # one of the two was given
        pi = state.get("payment_intent", pi_id, "payment_intent")
        if not pi["latest_charge"] or pi["status"] != "succeeded":
            raise ApiError(
                400,
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        ch = state.objects[pi["latest_charge"]]
    if ch["disputed"]:
        raise ApiError(
            400,
            f"Charge {ch['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
            param="charge",
        )
    if ch["status"] == "pending":
        raise ApiError(
            400,
            f"Charge {ch['id']} is pending and cannot be refunded until it succeeds.",
            code="charge_not_refundable",
            param="charge",
        )
    if ch["status"] == "failed":
        raise ApiError(
            400,
            f"Charge {ch['id']} has failed and has no funds to refund.",
            code="charge_not_refundable",
            param="charge",
        )
    if ch["refunded"] or ch["amount_refunded"] >= ch["amount_captured"]:
        raise ApiError(
            400,
            f"Charge {ch['id']} has already been refunded.",
            code="charge_already_refunded",
            param="charge",
        )
    left = ch["amount_captured"] - ch["amount_refunded"]
    amount = left
    if params.get("amount") not in (None, ""):
        try:
            amount = int(params["amount"])
        except ValueError:
            raise invalid("Invalid integer: " + str(params["amount"]), "amount") from None
        if amount <= 0:
            raise ApiError(
                400,
                "Refund amount must be greater than zero.",
                code="amount_too_small",
                param="amount",
            )
        if amount > left:
            raise ApiError(
                400,
                f"Refund amount ({money(amount, ch['currency'])}) is greater than unrefunded "
                f"amount on charge ({money(left, ch['currency'])})",
                code="amount_too_large",
                param="amount",
            )
    reason = params.get("reason") or None
    if reason and reason not in ("duplicate", "fraudulent", "requested_by_customer"):
        raise invalid(
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            "reason",
        )
    meta = {k: v for k, v in (params.get("metadata") or {}).items() if v != ""}
    pm_type = ch["payment_method_details"]["type"]
    ref = ob.refund(
        id=state.new_id("re"),
        created=state.now(),
        amount=amount,
        charge=ch["id"],
        payment_intent=ch["payment_intent"],
        currency=ch["currency"],
        reason=reason,
        metadata=meta,
        pm_type=pm_type,
        payment_method=ch["payment_method"],
    )
    state.put(ref)
    prev = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] >= ch["amount_captured"]
    state.emit("refund.created", ref)
    state.emit("charge.refunded", ch, prev)
    return ref


# --------------------------------------------------------------------------- demo control
def fail_renewal(state: StripeState, customer_id: str) -> dict[str, Any]:
    """Renew the customer's subscription now with a payment that fails (insufficient funds)."""
    cus = state.get("customer", customer_id, "customer")
    subs = [
        s
        for s in state.all("subscription")
        if s["customer"] == customer_id and s["status"] != "canceled"
    ]
    if not subs:
        raise invalid(f"Customer {customer_id} has no live subscription.", "customer")
    sub = subs[0]
    specs, _, _ = renewal_lines(state, sub, sub["items"]["data"])
    ref = sub["items"]["data"][0]
    inv = create_invoice(
        state,
        cus,
        sub,
        specs,
        "subscription_cycle",
        (ref["current_period_start"], ref["current_period_end"]),
    )
    if inv["status"] == "open":
        pay_invoice(state, inv, force="fail", raise_on_decline=False)
    return inv
