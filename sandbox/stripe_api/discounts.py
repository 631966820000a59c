"""Coupons and discounts: ``/v1/coupons``, ``discounts`` on subscriptions, discounted invoices.

A coupon is redeemed into a ``discount`` (``di_...``) on a subscription; invoices of that
subscription carry the discount ids in ``discounts``, the amount per discount in
``total_discount_amounts`` and per line in ``discount_amounts``. A percent off is computed and
rounded (half up) per line; an amount off is spread over the discountable lines in proportion
to their amounts. Proration lines are not discountable (Stripe: "Always false for prorations").
``once`` discounts leave the subscription after the invoice they applied to; ``repeating`` ones
end ``duration_in_months`` after they started.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from . import objects as ob
from .errors import ApiError, invalid, missing_param
from .forms import as_int, as_list
from .params import check_params, created_filter, metadata_update, paginate
from .state import StripeState, round_half_up

if TYPE_CHECKING:
    from .server import Ctx

DURATIONS = ("once", "repeating", "forever")
_COUPON_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


# ------------------------------------------------------------------------------ coupons
COUPON_PARAMS = {
    "id",
    "percent_off",
    "amount_off",
    "currency",
    "duration",
    "duration_in_months",
    "name",
    "metadata",
    "max_redemptions",
    "redeem_by",
}


def create_coupon(state: StripeState, p: dict[str, Any]) -> dict[str, Any]:
    """Validate ``POST /v1/coupons`` parameters and store the coupon."""
    percent = p.get("percent_off")
    amount = p.get("amount_off")
    if percent in (None, "") and amount in (None, ""):
        # Chosen wording: Stripe requires exactly one of the two.
        raise invalid("You must specify either `percent_off` or `amount_off`.", "percent_off")
    if percent not in (None, "") and amount not in (None, ""):
        raise invalid(
            "You may only specify one of these parameters: amount_off, percent_off.", "amount_off"
        )
    percent_off: float | None = None
    amount_off: int | None = None
    currency = None
    if percent not in (None, ""):
        try:
            value = Decimal(str(percent))
        except InvalidOperation:
            raise invalid(f"Invalid decimal: {percent}", "percent_off") from None
        if not Decimal(0) < value <= Decimal(100):
            raise invalid(
                "Invalid percent_off: must be greater than 0 and less than or equal to 100.",
                "percent_off",
            )
        percent_off = float(value)
    else:
        amount_off = as_int(amount, "amount_off")
        if amount_off <= 0:
            raise invalid("Invalid amount_off: must be greater than 0.", "amount_off")
        if not p.get("currency"):
            raise missing_param("currency")
        currency = str(p["currency"]).lower()
    duration = p.get("duration") or "once"
    if duration not in DURATIONS:
        raise invalid("Invalid duration: must be one of once, repeating, or forever", "duration")
    months = None
    if duration == "repeating":
        if p.get("duration_in_months") in (None, ""):
            raise missing_param("duration_in_months")
        months = as_int(p["duration_in_months"], "duration_in_months")
        if months < 1:
            raise invalid("Invalid duration_in_months: must be at least 1.", "duration_in_months")
    elif p.get("duration_in_months") not in (None, ""):
        # Chosen wording: Stripe only takes a month count for `repeating` coupons.
        raise invalid(
            "duration_in_months can only be set when duration is `repeating`.",
            "duration_in_months",
        )
    cid = p.get("id") or state.new_id("x", 8)[2:]
    if not _COUPON_ID.match(cid):
        raise invalid("Invalid coupon id: use letters, digits, `-` and `_` only.", "id")
    if cid in state.objects:
        raise ApiError(400, "Coupon already exists.", code="resource_already_exists", param="id")
    coupon = ob.coupon(
        id=cid,
        created=state.now(),
        percent_off=percent_off,
        amount_off=amount_off,
        currency=currency,
        duration=duration,
        duration_in_months=months,
        name=p.get("name") or None,
        metadata={k: str(v) for k, v in (p.get("metadata") or {}).items() if v != ""},
        max_redemptions=as_int(p["max_redemptions"], "max_redemptions")
        if p.get("max_redemptions")
        else None,
        redeem_by=as_int(p["redeem_by"], "redeem_by") if p.get("redeem_by") else None,
    )
    return state.put(coupon)


def coupon_create(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, COUPON_PARAMS)
    coupon = create_coupon(ctx.state, ctx.params)
    ctx.state.emit("coupon.created", coupon)
    return ctx.state.render(coupon)


def coupon_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(_coupon(ctx.state, ctx.path["id"], "id"))


def coupon_update(ctx: Ctx) -> dict[str, Any]:
    """Only ``name`` and ``metadata`` of a coupon can change."""
    check_params(ctx, {"name", "metadata"})
    st = ctx.state
    coupon = _coupon(st, ctx.path["id"], "id")
    before = st.render(coupon)
    if "name" in ctx.params:
        coupon["name"] = ctx.params["name"] or None
    if "metadata" in ctx.params:
        metadata_update(coupon["metadata"], ctx.params["metadata"])
    prev = st.previous_attributes(before, st.render(coupon))
    if prev:
        st.emit("coupon.updated", coupon, prev)
    return st.render(coupon)


def coupon_delete(ctx: Ctx) -> dict[str, Any]:
    """Deleting a coupon keeps the discounts already made from it (as Stripe does)."""
    check_params(ctx, set())
    coupon = _coupon(ctx.state, ctx.path["id"], "id")
    ctx.state.emit("coupon.deleted", coupon)
    ctx.state.forget(coupon["id"])
    return ob.deleted("coupon", coupon["id"])


def coupons_list(ctx: Ctx) -> dict[str, Any]:
    objs = created_filter(ctx, ctx.state.all("coupon"))
    return paginate(ctx, objs, "/v1/coupons", kind="coupon")


def _coupon(state: StripeState, cid: Any, param: str) -> dict[str, Any]:
    if not isinstance(cid, str) or not cid:
        raise missing_param(param)
    return state.get("coupon", cid, param)


def redeemable(state: StripeState, coupon: dict[str, Any], param: str) -> None:
    """Refuse a coupon that can no longer be redeemed."""
    now = state.now()
    over = (
        coupon["max_redemptions"] is not None
        and coupon["times_redeemed"] >= coupon["max_redemptions"]
    )
    if over or (coupon["redeem_by"] is not None and coupon["redeem_by"] < now):
        coupon["valid"] = False
        raise invalid(f"Coupon expired: {coupon['id']}", param)


# ---------------------------------------------------------------------------- discounts
def new_discount(
    state: StripeState,
    coupon: dict[str, Any],
    customer: str,
    subscription: str | None,
    *,
    at: int | None = None,
    store: bool = True,
) -> dict[str, Any]:
    """Redeem ``coupon`` into a discount (stored, unless only a preview needs it)."""
    from .billing import add_interval

    start = at if at is not None else state.now()
    end = (
        add_interval(start, "month", coupon["duration_in_months"])
        if coupon["duration"] == "repeating"
        else None
    )
    di = ob.discount(
        id=state.new_id("di"),
        coupon=coupon["id"],
        customer=customer,
        start=start,
        end=end,
        subscription=subscription,
    )
    if store:
        coupon["times_redeemed"] += 1
        state.put(di)
    return di


def discounts_param(
    state: StripeState, value: Any, param: str, *, currency: str
) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """``discounts=[{coupon}|{discount}]`` → (coupon to redeem, existing discount) pairs;
    ``discounts=""`` → no discounts."""
    if value == "":
        return []
    out: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    for n, entry in enumerate(as_list(value)):
        where = f"{param}[{n}]"
        if not isinstance(entry, dict):
            raise invalid("Invalid object", where)
        unknown = set(entry) - {"coupon", "discount", "promotion_code"}
        if unknown:
            name = sorted(unknown)[0]
            raise ApiError(
                400,
                f"Received unknown parameter: {where}[{name}]",
                code="parameter_unknown",
                param=f"{where}[{name}]",
            )
        given = [k for k in ("coupon", "discount", "promotion_code") if entry.get(k)]
        if len(given) != 1:
            raise invalid(
                "You must specify exactly one of `coupon`, `discount` or `promotion_code`.",
                where,
            )
        if given[0] == "promotion_code":
            raise invalid(
                "The sandbox does not support promotion codes.", f"{where}[promotion_code]"
            )
        if given[0] == "discount":
            out.append((None, state.get("discount", entry["discount"], f"{where}[discount]")))
            continue
        coupon = _coupon(state, entry["coupon"], f"{where}[coupon]")
        redeemable(state, coupon, f"{where}[coupon]")
        if coupon["amount_off"] is not None and coupon["currency"] != currency:
            raise invalid(
                f"The coupon {coupon['id']} is in {coupon['currency']}, this subscription "
                f"is in {currency}.",
                f"{where}[coupon]",
            )
        out.append((coupon, None))
    if len({(c or {}).get("id") or (d or {}).get("id") for c, d in out}) != len(out):
        raise invalid("A coupon or discount can only be applied once.", param)
    return out


def set_subscription_discounts(
    state: StripeState,
    sub: dict[str, Any],
    wanted: list[tuple[dict[str, Any] | None, dict[str, Any] | None]],
) -> None:
    """Replace the subscription's discounts: new coupons are redeemed, dropped discounts end."""
    keep = {d["id"] for _, d in wanted if d is not None}
    for did in sub["discounts"]:
        if did not in keep:
            end_discount(state, sub, did, emit_subscription=False)
    ids = []
    for coupon, existing in wanted:
        if existing is not None:
            if existing["subscription"] != sub["id"]:
                raise invalid(
                    f"The discount {existing['id']} does not belong to this subscription.",
                    "discounts",
                )
            ids.append(existing["id"])
            continue
        assert coupon is not None
        di = new_discount(state, coupon, sub["customer"], sub["id"])
        state.emit("customer.discount.created", di)
        ids.append(di["id"])
    sub["discounts"] = ids


def end_discount(
    state: StripeState, sub: dict[str, Any], did: str, *, emit_subscription: bool = True
) -> None:
    """Take a discount off its subscription (``customer.discount.deleted``)."""
    before = state.render(sub)
    sub["discounts"] = [d for d in sub["discounts"] if d != did]
    di = state.find(did, "discount")
    if di is not None:
        state.emit("customer.discount.deleted", di)
    if emit_subscription:
        state.emit(
            "customer.subscription.updated",
            sub,
            state.previous_attributes(before, state.render(sub)),
        )


def active_discounts(state: StripeState, sub: dict[str, Any], at: int) -> list[dict[str, Any]]:
    """The subscription's discounts that still apply at ``at``."""
    out = []
    for did in sub["discounts"]:
        di = state.find(did, "discount")
        if di is None or state.priv(did).get("used"):
            continue
        if di["end"] is not None and di["end"] <= at:
            continue
        out.append(di)
    return out


def apply_to_invoice(
    state: StripeState, inv: dict[str, Any], discounts: list[dict[str, Any]]
) -> None:
    """Discount the invoice's discountable lines and recompute its totals."""
    lines = inv["lines"]["data"]
    for line in lines:
        line["discount_amounts"] = []
    totals: list[dict[str, Any]] = []
    for di in discounts:
        coupon = state.find(di["source"]["coupon"], "coupon")
        if coupon is None:
            continue
        targets = [li for li in lines if li["discountable"] and _left(li) > 0]
        amounts = _amounts(coupon, [_left(li) for li in targets])
        for line, amount in zip(targets, amounts, strict=True):
            line["discount_amounts"].append({"amount": amount, "discount": di["id"]})
        totals.append({"amount": sum(amounts), "discount": di["id"]})
    inv["discounts"] = [di["id"] for di in discounts]
    inv["total_discount_amounts"] = totals
    subtotal = sum(li["amount"] for li in lines)
    total = subtotal - sum(t["amount"] for t in totals)
    inv.update(
        subtotal=subtotal,
        subtotal_excluding_tax=subtotal,
        total=total,
        total_excluding_tax=total,
    )
    inv["amount_due"] = max(0, total + (inv["starting_balance"] or 0))
    inv["amount_remaining"] = inv["amount_due"]


def _left(line: dict[str, Any]) -> int:
    return int(line["amount"]) - sum(d["amount"] for d in line["discount_amounts"])


def _amounts(coupon: dict[str, Any], bases: list[int]) -> list[int]:
    """Discount per line: percent off rounded half up per line; an amount off (at most the
    lines' total) spread in proportion to the line amounts, remainders to the largest parts."""
    if coupon["percent_off"] is not None:
        pct = Decimal(str(coupon["percent_off"]))
        return [round_half_up(Decimal(b) * pct / 100) for b in bases]
    total = sum(bases)
    off = min(int(coupon["amount_off"]), total)
    if not total:
        return [0 for _ in bases]
    shares = [off * b // total for b in bases]
    rest = off - sum(shares)
    order = sorted(range(len(bases)), key=lambda i: (off * bases[i]) % total, reverse=True)
    for i in order[:rest]:
        shares[i] += 1
    return shares
