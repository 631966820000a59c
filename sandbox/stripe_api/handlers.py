"""``/v1`` endpoint handlers: parameter checks, then state/billing calls, then rendering."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from . import billing, lifecycle, portal, tax_ids
from . import discounts as dc
from . import objects as ob
from . import payment_methods as pms
from .errors import ApiError, invalid, missing_param, unknown_param
from .forms import as_bool, as_int, as_list
from .params import check_params, created_filter, metadata_update, paginate
from .search import compile_query

if TYPE_CHECKING:
    from .server import Ctx


# ------------------------------------------------------------------------------- customers
def customers_list(ctx: Ctx) -> dict[str, Any]:
    objs = ctx.state.all("customer")
    email = ctx.params.get("email")
    if email is not None:
        objs = [c for c in objs if c["email"] == email]  # exact, case-sensitive (as Stripe)
    return paginate(ctx, created_filter(ctx, objs), "/v1/customers", kind="customer")


def customers_search(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    pred = compile_query(p.get("query", ""))
    limit = as_int(p.get("limit") or 10, "limit")
    if limit < 1 or limit > 100:
        raise invalid("Invalid limit: must be between 1 and 100", "limit")
    offset = 0
    if p.get("page"):
        try:
            offset = int(base64.urlsafe_b64decode(p["page"].encode()).decode().split(":")[1])
        except (ValueError, IndexError):
            raise invalid("Invalid page: " + p["page"], "page") from None
    hits = [c for c in ctx.state.all("customer") if pred(c)]
    page = hits[offset : offset + limit]
    more = offset + limit < len(hits)
    nxt = base64.urlsafe_b64encode(f"page:{offset + limit}".encode()).decode() if more else None
    out: dict[str, Any] = {
        "object": "search_result",
        "data": [ctx.state.render(c) for c in page],
        "has_more": more,
        "next_page": nxt,
        "url": "/v1/customers/search",
    }
    if "total_count" in as_list(p.get("expand")):
        out["total_count"] = len(hits)
    return out


def customer_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("customer", ctx.path["id"]))


CUSTOMER_FIELDS = {
    "email",
    "name",
    "metadata",
    "balance",
    "invoice_settings",
    "description",
    "phone",
    "preferred_locales",
    "payment_method",
    "address",
    "shipping",
}
ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def customer_create(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, CUSTOMER_FIELDS)
    st = ctx.state
    cus = ob.customer(
        id=st.new_id("cus", 14),
        created=st.now(),
        email=None,
        name=None,
        metadata={},
        invoice_prefix=st.new_id("x", 8)[2:].upper(),
    )
    st.put(cus)
    _apply_customer(ctx, cus)
    if ctx.params.get("payment_method"):
        pms.attach(
            st, st.get("payment_method", ctx.params["payment_method"], "payment_method"), cus["id"]
        )
    st.emit("customer.created", cus)
    return st.render(cus)


def customer_update(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, CUSTOMER_FIELDS - {"payment_method"} | {"default_source"})
    st = ctx.state
    cus = st.get("customer", ctx.path["id"])
    before = st.render(cus)
    _apply_customer(ctx, cus)
    after = st.render(cus)
    prev = st.previous_attributes(before, after)
    if prev:
        st.emit("customer.updated", cus, prev)
    return after


def _apply_customer(ctx: Ctx, cus: dict[str, Any]) -> None:
    p = ctx.params
    for k in ("email", "name", "description", "phone"):
        if k in p:
            cus[k] = p[k] or None
    if "balance" in p:
        cus["balance"] = as_int(p["balance"], "balance")
    if "metadata" in p:
        metadata_update(cus["metadata"], p["metadata"])
    if "address" in p:
        cus["address"] = parse_address(p["address"], "address")
    if "shipping" in p:
        cus["shipping"] = _shipping(p["shipping"])
    inv = p.get("invoice_settings")
    if isinstance(inv, dict) and "default_payment_method" in inv:
        pm_id = inv["default_payment_method"]
        if pm_id:
            pm = ctx.state.get("payment_method", pm_id, "invoice_settings[default_payment_method]")
            if pm["customer"] != cus["id"]:
                raise invalid(
                    f"No such PaymentMethod: '{pm_id}'; It's possible this PaymentMethod "
                    "exists on one of your connected accounts, or is not attached to this customer.",
                    "invoice_settings[default_payment_method]",
                    code="resource_missing",
                )
        cus["invoice_settings"]["default_payment_method"] = pm_id or None


def parse_address(value: Any, param: str) -> dict[str, Any] | None:
    """An ``address[...]`` hash replaces the whole address (keys left out become null);
    ``address=""`` removes it."""
    if value == "":
        return None
    if not isinstance(value, dict):
        raise invalid("Invalid object", param)
    for k in value:
        if k not in ADDRESS_KEYS:
            raise unknown_param(f"{param}[{k}]")
    country = value.get("country") or None
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise invalid(
            "Country must be a two-letter country code (ISO 3166-1 alpha-2).", f"{param}[country]"
        )
    out = {k: (str(value[k]).strip() or None) if value.get(k) else None for k in ADDRESS_KEYS}
    out["country"] = country.upper() if country else None
    return out


def _shipping(value: Any) -> dict[str, Any] | None:
    if value == "":
        return None
    if not isinstance(value, dict):
        raise invalid("Invalid object", "shipping")
    if not value.get("name"):
        raise missing_param("shipping[name]")
    if not isinstance(value.get("address"), dict):
        raise missing_param("shipping[address]")
    return {
        "address": parse_address(value["address"], "shipping[address]"),
        "name": value["name"],
        "phone": value.get("phone") or None,
    }


def customer_payment_methods(ctx: Ctx) -> dict[str, Any]:
    cus = ctx.state.get("customer", ctx.path["id"])
    objs = [pm for pm in ctx.state.all("payment_method") if pm["customer"] == cus["id"]]
    if ctx.params.get("type"):
        objs = [pm for pm in objs if pm["type"] == ctx.params["type"]]
    return paginate(ctx, objs, f"/v1/customers/{cus['id']}/payment_methods", kind="payment_method")


# ------------------------------------------------------------------------- catalogue
def products_list(ctx: Ctx) -> dict[str, Any]:
    objs = ctx.state.all("product")
    if ctx.params.get("active") is not None:
        a = as_bool(ctx.params["active"], "active")
        objs = [o for o in objs if o["active"] == a]
    if ctx.params.get("ids"):
        ids = as_list(ctx.params["ids"])
        objs = [o for o in objs if o["id"] in ids]
    return paginate(ctx, objs, "/v1/products", kind="product")


def product_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("product", ctx.path["id"]))


def prices_list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    objs = ctx.state.all("price")
    if p.get("product"):
        objs = [o for o in objs if o["product"] == p["product"]]
    if p.get("active") is not None:
        a = as_bool(p["active"], "active")
        objs = [o for o in objs if o["active"] == a]
    if p.get("lookup_keys"):
        keys = as_list(p["lookup_keys"])
        objs = [o for o in objs if o["lookup_key"] in keys]
    if p.get("type"):
        objs = [o for o in objs if o["type"] == p["type"]]
    rec = p.get("recurring")
    if isinstance(rec, dict):
        if rec.get("interval"):
            objs = [o for o in objs if o["recurring"]["interval"] == rec["interval"]]
        if rec.get("usage_type"):
            objs = [o for o in objs if o["recurring"]["usage_type"] == rec["usage_type"]]
    if p.get("currency"):
        objs = [o for o in objs if o["currency"] == p["currency"]]
    return paginate(ctx, objs, "/v1/prices", kind="price")


PRICE_PARAMS = {
    "currency",
    "unit_amount",
    "recurring",
    "product",
    "product_data",
    "lookup_key",
    "metadata",
    "nickname",
    "active",
}


def price_create(ctx: Ctx) -> dict[str, Any]:
    """`POST /v1/prices`: a recurring (or one-time) per-unit price of an existing product or of
    a new one from `product_data`."""
    check_params(ctx, PRICE_PARAMS)
    st, p = ctx.state, ctx.params
    if not p.get("currency"):
        raise missing_param("currency")
    if p.get("unit_amount") in (None, ""):
        raise missing_param("unit_amount")
    amount = as_int(p["unit_amount"], "unit_amount")
    if amount < 0:
        raise invalid("This value must be greater than or equal to 0.", "unit_amount")
    if p.get("product"):
        product = st.get("product", p["product"], "product")
    elif isinstance(p.get("product_data"), dict) and p["product_data"].get("name"):
        data = p["product_data"]
        product = st.put(
            ob.product(
                id=st.new_id("prod", 14),
                created=st.now(),
                name=str(data["name"]),
                metadata=dict(data.get("metadata") or {}),
                default_price=None,
            )
        )
    else:
        raise invalid("You must specify either `product` or `product_data` when creating a price.")
    recurring = p.get("recurring")
    interval = recurring.get("interval") if isinstance(recurring, dict) else None
    if recurring is not None and interval not in ("day", "week", "month", "year"):
        raise invalid("Invalid recurring[interval]", "recurring[interval]")
    key = p.get("lookup_key") or None
    if key and any(o["lookup_key"] == key for o in st.all("price")):
        raise invalid(
            f"A price (`{key}`) already uses that lookup key. Use `transfer_lookup_key`.",
            "lookup_key",
        )
    price = ob.price(
        id=st.new_id("price", 14),
        created=st.now(),
        product=product["id"],
        unit_amount=amount,
        interval=interval or "month",
        lookup_key=key,
        currency=str(p["currency"]).lower(),
        nickname=p.get("nickname") or None,
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v != ""},
    )
    if isinstance(recurring, dict) and recurring.get("interval_count"):
        price["recurring"]["interval_count"] = as_int(
            recurring["interval_count"], "recurring[interval_count]"
        )
    if recurring is None:
        price.update(type="one_time", recurring=None)
    if p.get("active") is not None:
        price["active"] = as_bool(p["active"], "active")
    return st.render(st.put(price))


def price_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("price", ctx.path["id"]))


# ---------------------------------------------------------------------------- subscriptions
SUB_STATUSES = {
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "paused",
    "all",
    "ended",
}


def subscriptions_list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    objs = ctx.state.all("subscription")
    if p.get("customer"):
        objs = [o for o in objs if o["customer"] == p["customer"]]
    if p.get("price"):
        objs = [o for o in objs if any(i["price"] == p["price"] for i in o["items"]["data"])]
    status = p.get("status")
    if status and status not in SUB_STATUSES:
        raise invalid(f"Invalid status: must be one of {', '.join(sorted(SUB_STATUSES))}", "status")
    if status == "all":
        pass
    elif status == "ended":
        objs = [o for o in objs if o["status"] in ("canceled", "incomplete_expired")]
    elif status:
        objs = [o for o in objs if o["status"] == status]
    else:
        objs = [o for o in objs if o["status"] not in ("canceled", "incomplete_expired")]
    return paginate(ctx, objs, "/v1/subscriptions", kind="subscription")


def subscription_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("subscription", ctx.path["id"]))


SUB_UPDATE_PARAMS = {
    "items",
    "proration_date",
    "proration_behavior",
    "default_payment_method",
    "cancel_at_period_end",
    "billing_cycle_anchor",
    "metadata",
    "payment_behavior",
    "off_session",
    "description",
    "pause_collection",
    "discounts",
    "cancel_at",
    "cancellation_details",
}
# What a canceled subscription still lets you change.
CANCELED_UPDATE_PARAMS = {"cancellation_details", "metadata"}


PAYMENT_BEHAVIORS = (
    "allow_incomplete",
    "default_incomplete",
    "error_if_incomplete",
    "pending_if_incomplete",
)
# What a pending update may carry (https://docs.stripe.com/billing/subscriptions/pending-updates-reference,
# as far as the sandbox supports them).
PENDING_UPDATE_PARAMS = {
    "items",
    "proration_date",
    "proration_behavior",
    "billing_cycle_anchor",
    "payment_behavior",
    "expand",
}


def _payment_behavior(ctx: Ctx, sub: dict[str, Any]) -> str:
    value = ctx.params.get("payment_behavior") or "allow_incomplete"
    if value not in PAYMENT_BEHAVIORS:
        raise invalid(
            "Invalid payment_behavior: must be one of " + ", ".join(PAYMENT_BEHAVIORS),
            "payment_behavior",
        )
    if value != "pending_if_incomplete":
        return value
    extra = sorted(k for k in ctx.params if k not in PENDING_UPDATE_PARAMS)
    if extra:
        # Chosen wording: Stripe accepts only the pending-update attributes with this behavior.
        raise invalid(
            "When `payment_behavior` is `pending_if_incomplete`, you can only pass the "
            f"parameters supported by pending updates; received {extra[0]}.",
            extra[0],
        )
    st = ctx.state
    cus = st.get("customer", sub["customer"])
    for pm_id in (sub["default_payment_method"], cus["invoice_settings"]["default_payment_method"]):
        pm = st.find(pm_id, "payment_method") if pm_id else None
        if pm is not None:
            if pm["type"] == "sepa_debit":
                # Chosen wording: pending updates aren't supported with bank debits.
                raise invalid(
                    "Pending updates are not supported for subscriptions paid by bank debit "
                    "(sepa_debit).",
                    "payment_behavior",
                )
            break
    return value


def _behavior(value: Any, param: str) -> str:
    b = value or "create_prorations"
    if b not in ("create_prorations", "always_invoice", "none"):
        raise invalid(
            f"Invalid {param}: must be one of always_invoice, create_prorations, or none", param
        )
    return b


def _anchor(value: Any, param: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in ("now", "unchanged", "timestamp"):
        raise invalid(
            f"Invalid {param}: expected an object with `type` of now, unchanged or timestamp", param
        )
    if value["type"] == "timestamp":
        raise invalid(
            "billing_cycle_anchor type `timestamp` is not supported by the sandbox", param
        )
    return value["type"]


def subscription_update(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, SUB_UPDATE_PARAMS)
    st, p = ctx.state, ctx.params
    sub = st.get("subscription", ctx.path["id"])
    if sub["status"] == "canceled" and set(p) - CANCELED_UPDATE_PARAMS - {"expand"}:
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata.", None
        )
    before = st.render(sub)
    behavior = _behavior(p.get("proration_behavior"), "proration_behavior")
    payment_behavior = _payment_behavior(ctx, sub)
    pdate = as_int(p["proration_date"], "proration_date") if p.get("proration_date") else None
    anchor = _anchor(p.get("billing_cycle_anchor"), "billing_cycle_anchor")
    wanted_discounts = (
        dc.discounts_param(st, p["discounts"], "discounts", currency=sub["currency"])
        if "discounts" in p
        else None
    )
    if "default_payment_method" in p:
        if p["default_payment_method"]:
            st.require_customer_pm(
                sub["customer"], p["default_payment_method"], "default_payment_method"
            )
        sub["default_payment_method"] = p["default_payment_method"] or None
    lifecycle.apply_cancel_flags(st, sub, p)
    if "pause_collection" in p:
        lifecycle.apply_pause(st, sub, p["pause_collection"])
    if wanted_discounts is not None:
        dc.set_subscription_discounts(st, sub, wanted_discounts)
    if "metadata" in p:
        metadata_update(sub["metadata"], p["metadata"])
    if "description" in p:
        sub["description"] = p["description"] or None
    items = as_list(p.get("items"))
    if items or anchor == "now":
        plan = billing.plan_change(
            st, sub, items, proration_date=pdate, behavior=behavior, anchor=anchor, prefix="items"
        )
        billing.apply_change(st, sub, plan, behavior, payment_behavior)
    prev = st.previous_attributes(before, st.render(sub))
    if prev:
        st.emit("customer.subscription.updated", sub, prev)
    return st.render(sub)


def subscription_cancel(ctx: Ctx) -> dict[str, Any]:
    """``DELETE /v1/subscriptions/{id}``: cancel now (see ``lifecycle.cancel_now``)."""
    check_params(ctx, {"invoice_now", "prorate", "cancellation_details"})
    st, p = ctx.state, ctx.params
    sub = st.get("subscription", ctx.path["id"])
    if sub["status"] == "canceled":
        raise invalid(f"No such subscription: '{sub['id']}'", "id", code="resource_missing")
    prorate = as_bool(p["prorate"], "prorate") if p.get("prorate") not in (None, "") else False
    invoice_now = (
        as_bool(p["invoice_now"], "invoice_now")
        if p.get("invoice_now") not in (None, "")
        else False
    )
    if "cancellation_details" in p:
        lifecycle.apply_cancellation_details(sub, p["cancellation_details"])
    lifecycle.cancel_now(st, sub, prorate=prorate, invoice_now=invoice_now)
    return st.render(sub)


# --------------------------------------------------------------------------- payment methods
def pm_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("payment_method", ctx.path["id"]))


def pm_attach(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, {"customer"})
    if not ctx.params.get("customer"):
        raise missing_param("customer")
    pm = ctx.state.get("payment_method", ctx.path["id"])
    return ctx.state.render(pms.attach(ctx.state, pm, ctx.params["customer"]))


def pm_detach(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, set())
    pm = ctx.state.get("payment_method", ctx.path["id"])
    return ctx.state.render(pms.detach(ctx.state, pm))


# ------------------------------------------------------------------------ charges & intents
def charges_list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    objs = ctx.state.all("charge")
    if p.get("customer"):
        objs = [o for o in objs if o["customer"] == p["customer"]]
    if p.get("payment_intent"):
        objs = [o for o in objs if o["payment_intent"] == p["payment_intent"]]
    return paginate(ctx, created_filter(ctx, objs), "/v1/charges", kind="charge")


def charge_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("charge", ctx.path["id"]))


def payment_intents_list(ctx: Ctx) -> dict[str, Any]:
    objs = ctx.state.all("payment_intent")
    if ctx.params.get("customer"):
        objs = [o for o in objs if o["customer"] == ctx.params["customer"]]
    return paginate(ctx, created_filter(ctx, objs), "/v1/payment_intents", kind="payment_intent")


def payment_intent_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("payment_intent", ctx.path["id"]))


def setup_intent_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("setup_intent", ctx.path["id"]))


# ----------------------------------------------------------------------------------- invoices
INVOICE_STATUSES = {"draft", "open", "paid", "uncollectible", "void"}


def invoices_list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    objs = ctx.state.all("invoice")
    if p.get("customer"):
        objs = [o for o in objs if o["customer"] == p["customer"]]
    if p.get("status"):
        if p["status"] not in INVOICE_STATUSES:
            raise invalid(
                "Invalid status: must be one of draft, open, paid, uncollectible, or void", "status"
            )
        objs = [o for o in objs if o["status"] == p["status"]]
    if p.get("subscription"):
        objs = [
            o
            for o in objs
            if (o.get("parent") or {}).get("subscription_details", {}).get("subscription")
            == p["subscription"]
        ]
    return paginate(ctx, created_filter(ctx, objs), "/v1/invoices", kind="invoice")


def invoice_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("invoice", ctx.path["id"]))


def invoice_lines(ctx: Ctx) -> dict[str, Any]:
    inv = ctx.state.get("invoice", ctx.path["id"])
    lines = inv["lines"]["data"]
    return paginate(
        ctx, lines, f"/v1/invoices/{inv['id']}/lines", kind="line_item", render=lambda x: dict(x)
    )


def invoice_pay(ctx: Ctx) -> dict[str, Any]:
    check_params(
        ctx, {"payment_method", "off_session", "forgive", "mandate", "paid_out_of_band", "source"}
    )
    st, p = ctx.state, ctx.params
    inv = st.get("invoice", ctx.path["id"])
    if p.get("off_session") is not None:
        as_bool(p["off_session"], "off_session")
    if p.get("paid_out_of_band") and as_bool(p["paid_out_of_band"], "paid_out_of_band"):
        if inv["status"] != "open":
            raise ApiError(
                400, "Invoice is already paid" if inv["status"] == "paid" else "Invoice is not open"
            )
        billing.mark_invoice_paid(st, inv)
        return st.render(inv)
    billing.pay_invoice(st, inv, p.get("payment_method") or None)
    return st.render(inv)


PREVIEW_PARAMS = {
    "customer",
    "subscription",
    "subscription_details",
    "preview_mode",
    "currency",
    "automatic_tax",
    "customer_details",
    "discounts",
    "invoice_items",
    "issuer",
    "on_behalf_of",
    "schedule",
    "schedule_details",
    "customer_account",
}
PREVIEW_DETAILS = {
    "items",
    "proration_date",
    "proration_behavior",
    "billing_cycle_anchor",
    "cancel_at_period_end",
    "metadata",
    "trial_end",
    "cancel_now",
    "cancel_at",
    "default_tax_rates",
    "resume_at",
    "start_date",
    "billing_mode",
}


def invoice_create_preview(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, PREVIEW_PARAMS)
    st, p = ctx.state, ctx.params
    for k in (
        "automatic_tax",
        "customer_details",
        "invoice_items",
        "issuer",
        "on_behalf_of",
        "schedule",
        "schedule_details",
        "customer_account",
    ):
        if k in p:
            raise invalid(f"The sandbox does not support `{k}` on create_preview.", k)
    details = p.get("subscription_details") or {}
    if not isinstance(details, dict):
        raise invalid("Invalid object", "subscription_details")
    for k in details:
        if k not in PREVIEW_DETAILS:
            raise unknown_param(f"subscription_details[{k}]")
    if not p.get("subscription"):
        if not p.get("customer"):
            raise invalid(
                "You must specify one of `subscription`, `subscription_details.items`, "
                "`schedule`, `schedule_details.phases` or `invoice_items` with `customer`.",
                None,
                code="parameter_missing",
            )
        raise invalid(
            "The sandbox can only preview invoices of an existing `subscription`.", "subscription"
        )
    sub = st.get("subscription", p["subscription"], "subscription")
    cus = st.get("customer", p.get("customer") or sub["customer"], "customer")
    if sub["customer"] != cus["id"]:
        raise invalid(
            f"The subscription {sub['id']} does not belong to customer {cus['id']}.", "subscription"
        )
    if sub["status"] == "canceled":
        raise ApiError(
            400, "No upcoming invoices for customer: " + cus["id"], code="invoice_upcoming_none"
        )
    behavior = _behavior(
        details.get("proration_behavior"), "subscription_details[proration_behavior]"
    )
    pdate = None
    if details.get("proration_date"):
        pdate = as_int(details["proration_date"], "subscription_details[proration_date]")
        if behavior == "none":
            raise invalid(
                "`subscription_details.proration_behavior` cannot be `none` when "
                "`proration_date` is set.",
                "subscription_details[proration_behavior]",
            )
    anchor = _anchor(
        details.get("billing_cycle_anchor"), "subscription_details[billing_cycle_anchor]"
    )
    items = as_list(details.get("items"))
    plan = None
    if items or anchor == "now":
        plan = billing.plan_change(
            st,
            sub,
            items,
            proration_date=pdate,
            behavior=behavior,
            anchor=anchor,
            prefix="subscription_details[items]",
        )
    discounts = None
    if "discounts" in p:
        wanted = dc.discounts_param(st, p["discounts"], "discounts", currency=sub["currency"])
        discounts = []
        for coupon, existing in wanted:
            if existing is not None:
                discounts.append(existing)
            elif coupon is not None:  # redeemed for this preview only
                discounts.append(dc.new_discount(st, coupon, cus["id"], sub["id"], store=False))
    return billing.preview_invoice(st, cus, sub, plan, behavior, discounts)


def invoice_payments_list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    objs = ctx.state.all("invoice_payment")
    if p.get("invoice"):
        objs = [o for o in objs if o["invoice"] == p["invoice"]]
    pay = p.get("payment")
    if isinstance(pay, dict) and pay.get("payment_intent"):
        objs = [o for o in objs if o["payment"].get("payment_intent") == pay["payment_intent"]]
    if p.get("status"):
        objs = [o for o in objs if o["status"] == p["status"]]
    return paginate(ctx, objs, "/v1/invoice_payments", kind="invoice_payment")


def invoice_payment_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("invoice_payment", ctx.path["id"]))


# ------------------------------------------------------------------------------------ refunds
def refund_create(ctx: Ctx) -> dict[str, Any]:
    check_params(
        ctx,
        {
            "charge",
            "payment_intent",
            "amount",
            "reason",
            "metadata",
            "instructions_email",
            "refund_application_fee",
            "reverse_transfer",
        },
    )
    return ctx.state.render(billing.create_refund(ctx.state, ctx.params))


def refunds_list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    objs = ctx.state.all("refund")
    if p.get("charge"):
        objs = [o for o in objs if o["charge"] == p["charge"]]
    if p.get("payment_intent"):
        objs = [o for o in objs if o["payment_intent"] == p["payment_intent"]]
    return paginate(ctx, created_filter(ctx, objs), "/v1/refunds", kind="refund")


def refund_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("refund", ctx.path["id"]))


# ----------------------------------------------------------------------- checkout & portal
CHECKOUT_PARAMS = {
    "mode",
    "customer",
    "currency",
    "allowed_payment_method_types",
    "success_url",
    "cancel_url",
    "metadata",
    "setup_intent_data",
    "client_reference_id",
    "customer_email",
    "locale",
    "ui_mode",
    "excluded_payment_method_types",
}


def checkout_create(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, CHECKOUT_PARAMS)
    st, p = ctx.state, ctx.params
    mode = p.get("mode")
    if not mode:
        raise missing_param("mode")
    if mode != "setup":
        raise invalid("The sandbox supports Checkout in `setup` mode only.", "mode")
    cus = None
    if p.get("customer"):
        cus = st.get("customer", p["customer"], "customer")
    types = as_list(p.get("allowed_payment_method_types"))
    currency = p.get("currency")
    if not types and not currency:
        raise invalid(
            "You must provide `currency` in `setup` mode when "
            "`allowed_payment_method_types` is not set.",
            "currency",
            code="parameter_missing",
        )
    if not p.get("success_url") and p.get("ui_mode", "hosted") == "hosted":
        raise missing_param("success_url")
    types = types or ["card"]
    sid = "cs_test_" + st.new_id("x", 58)[2:]
    session = ob.checkout_session(
        id=sid,
        created=st.now(),
        mode=mode,
        customer=cus["id"] if cus else None,
        currency=currency,
        success_url=p.get("success_url"),
        cancel_url=p.get("cancel_url"),
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v != ""},
        url=f"{ctx.base}/checkout/{sid}",
        pm_types=types,
        customer_email=p.get("customer_email"),
        client_reference_id=p.get("client_reference_id"),
    )
    sid_meta = (p.get("setup_intent_data") or {}).get("metadata") or {}
    st.put(session, {"setup_intent_metadata": dict(sid_meta)})
    return st.render(session)


def checkout_get(ctx: Ctx) -> dict[str, Any]:
    session = ctx.state.get("checkout.session", ctx.path["id"])
    if session["status"] == "open" and ctx.state.now() >= session["expires_at"]:
        _expire_checkout(session)  # Stripe expires an open session at `expires_at`
    return ctx.state.render(session)


def checkout_expire(ctx: Ctx) -> dict[str, Any]:
    """`POST /v1/checkout/sessions/{id}/expire`: only an open session can be expired."""
    check_params(ctx, set())
    session = ctx.state.get("checkout.session", ctx.path["id"])
    if session["status"] != "open":
        raise invalid(
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f"Session has a status of {session['status']}."
        )
    _expire_checkout(session)
    ctx.state.emit("checkout.session.expired", session)
    return ctx.state.render(session)


def _expire_checkout(session: dict[str, Any]) -> None:
    # The URL is only present while the session is open.
    session.update(status="expired", url=None)


# ------------------------------------------------------------------------------------ meters
def meters_list(ctx: Ctx) -> dict[str, Any]:
    objs = ctx.state.all("billing.meter")
    if ctx.params.get("status"):
        objs = [o for o in objs if o["status"] == ctx.params["status"]]
    return paginate(ctx, objs, "/v1/billing/meters", kind="billing.meter")


def meter_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("billing.meter", ctx.path["id"]))


def meter_event_summaries(ctx: Ctx) -> dict[str, Any]:
    check_params(
        ctx,
        {
            "customer",
            "start_time",
            "end_time",
            "value_grouping_window",
            "limit",
            "starting_after",
            "ending_before",
        },
    )
    st, p = ctx.state, ctx.params
    m = st.get("billing.meter", ctx.path["id"])
    for k in ("customer", "start_time", "end_time"):
        if not p.get(k):
            raise missing_param(k)
    st.get("customer", p["customer"], "customer")
    start, end = as_int(p["start_time"], "start_time"), as_int(p["end_time"], "end_time")
    window = p.get("value_grouping_window")
    step = {"hour": 3600, "day": 86400, None: 60}.get(window)
    if step is None:
        raise invalid(
            "Invalid value_grouping_window: must be one of day or hour", "value_grouping_window"
        )
    for k, v in (("start_time", start), ("end_time", end)):
        if v % step:
            unit = {60: "minute", 3600: "hour", 86400: "day"}[step]
            raise invalid(
                f"{k} must be aligned to {unit} boundaries, i.e. a multiple of {step} seconds.", k
            )
    if end <= start:
        raise invalid("end_time must be after start_time.", "end_time")
    windows = (
        [(start, end)]
        if window is None
        else [(t, min(t + step, end)) for t in range(start, end, step)]
    )
    summaries = []
    for a, b in reversed(windows):  # newest first, like other lists
        val = st.usage(m["id"], p["customer"], a, b)
        sid = f"mtrusg_{m['id'][4:]}_{p['customer'][4:]}_{a}_{b}"
        summaries.append(
            ob.meter_event_summary(id=sid, meter=m["id"], start=a, end=b, value=float(val))
        )
    objs = {s["id"]: s for s in summaries}
    ids = [s["id"] for s in summaries]
    limit = as_int(p.get("limit") or 10, "limit")
    sa, eb = p.get("starting_after"), p.get("ending_before")
    idx = ids.index(sa) + 1 if sa in objs else 0
    if eb in objs:
        j = ids.index(eb)
        page_ids = ids[max(0, j - limit) : j]
        more = j - limit > 0
    else:
        page_ids = ids[idx : idx + limit]
        more = idx + limit < len(ids)
    return ob.list_object(
        [objs[i] for i in page_ids], f"/v1/billing/meters/{m['id']}/event_summaries", more
    )


def meter_event_create(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, {"event_name", "payload", "identifier", "timestamp"})
    st, p = ctx.state, ctx.params
    if not p.get("event_name"):
        raise missing_param("event_name")
    payload = p.get("payload")
    if not isinstance(payload, dict):
        raise missing_param("payload")
    cus = payload.get("stripe_customer_id")
    if not cus:
        raise missing_param("payload[stripe_customer_id]")
    try:
        value = Decimal(payload.get("value", "1"))
    except InvalidOperation:
        raise invalid("payload[value] must be a number.", "payload[value]") from None
    now = st.now()
    ts = as_int(p["timestamp"], "timestamp") if p.get("timestamp") else now
    if ts < now - 35 * 86400 or ts > now + 300:
        raise invalid(
            "timestamp must be within the past 35 days and not more than 5 minutes in the future.",
            "timestamp",
        )
    ident = p.get("identifier") or st.new_id("mev", 20)
    st.record_meter_event(p["event_name"], cus, value, ts, ident)
    return ob.meter_event(
        created=now,
        event_name=p["event_name"],
        identifier=ident,
        payload={k: str(v) for k, v in payload.items()},
        timestamp=ts,
    )


# ------------------------------------------------------------------------------------- events
def events_list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    objs = ctx.state.all("event")
    if p.get("type"):
        t = p["type"]
        if t.endswith("*"):
            objs = [o for o in objs if o["type"].startswith(t[:-1])]
        else:
            objs = [o for o in objs if o["type"] == t]
    if p.get("types"):
        types = set(as_list(p["types"]))
        objs = [o for o in objs if o["type"] in types]
    return paginate(ctx, created_filter(ctx, objs), "/v1/events", kind="event")


def event_get(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.render(ctx.state.get("event", ctx.path["id"]))


# ------------------------------------------------------------------------------------- routes
_ID = r"(?P<id>[A-Za-z0-9_-]+)"  # coupon ids may hold `-`
_TXI = r"(?P<txi>[A-Za-z0-9_]+)"
_TABLE: list[tuple[str, str, Callable[[Ctx], Any]]] = [
    ("GET", "/v1/customers", customers_list),
    ("POST", "/v1/customers", customer_create),
    ("GET", "/v1/customers/search", customers_search),
    ("GET", f"/v1/customers/{_ID}", customer_get),
    ("POST", f"/v1/customers/{_ID}", customer_update),
    ("GET", f"/v1/customers/{_ID}/payment_methods", customer_payment_methods),
    ("POST", f"/v1/customers/{_ID}/tax_ids", tax_ids.tax_id_create),
    ("GET", f"/v1/customers/{_ID}/tax_ids", tax_ids.tax_ids_list),
    ("GET", f"/v1/customers/{_ID}/tax_ids/{_TXI}", tax_ids.tax_id_get),
    ("DELETE", f"/v1/customers/{_ID}/tax_ids/{_TXI}", tax_ids.tax_id_delete),
    ("POST", "/v1/coupons", dc.coupon_create),
    ("GET", "/v1/coupons", dc.coupons_list),
    ("GET", f"/v1/coupons/{_ID}", dc.coupon_get),
    ("POST", f"/v1/coupons/{_ID}", dc.coupon_update),
    ("DELETE", f"/v1/coupons/{_ID}", dc.coupon_delete),
    ("GET", "/v1/products", products_list),
    ("GET", f"/v1/products/{_ID}", product_get),
    ("GET", "/v1/prices", prices_list),
    ("POST", "/v1/prices", price_create),
    ("GET", f"/v1/prices/{_ID}", price_get),
    ("GET", "/v1/subscriptions", subscriptions_list),
    ("GET", f"/v1/subscriptions/{_ID}", subscription_get),
    ("POST", f"/v1/subscriptions/{_ID}", subscription_update),
    ("DELETE", f"/v1/subscriptions/{_ID}", subscription_cancel),
    ("GET", f"/v1/payment_methods/{_ID}", pm_get),
    ("POST", f"/v1/payment_methods/{_ID}/attach", pm_attach),
    ("POST", f"/v1/payment_methods/{_ID}/detach", pm_detach),
    ("GET", "/v1/charges", charges_list),
    ("GET", f"/v1/charges/{_ID}", charge_get),
    ("GET", "/v1/payment_intents", payment_intents_list),
    ("GET", f"/v1/payment_intents/{_ID}", payment_intent_get),
    ("GET", f"/v1/setup_intents/{_ID}", setup_intent_get),
    ("GET", "/v1/invoices", invoices_list),
    ("POST", "/v1/invoices/create_preview", invoice_create_preview),
    ("GET", f"/v1/invoices/{_ID}", invoice_get),
    ("GET", f"/v1/invoices/{_ID}/lines", invoice_lines),
    ("POST", f"/v1/invoices/{_ID}/pay", invoice_pay),
    ("GET", "/v1/invoice_payments", invoice_payments_list),
    ("GET", f"/v1/invoice_payments/{_ID}", invoice_payment_get),
    ("POST", "/v1/refunds", refund_create),
    ("GET", "/v1/refunds", refunds_list),
    ("GET", f"/v1/refunds/{_ID}", refund_get),
    ("POST", "/v1/checkout/sessions", checkout_create),
    ("GET", f"/v1/checkout/sessions/{_ID}", checkout_get),
    ("POST", f"/v1/checkout/sessions/{_ID}/expire", checkout_expire),
    ("POST", "/v1/billing_portal/sessions", portal.session_create),
    ("POST", "/v1/billing_portal/configurations", portal.configuration_create),
    ("GET", "/v1/billing_portal/configurations", portal.configurations_list),
    ("GET", f"/v1/billing_portal/configurations/{_ID}", portal.configuration_get),
    ("POST", f"/v1/billing_portal/configurations/{_ID}", portal.configuration_update),
    ("GET", "/v1/billing/meters", meters_list),
    ("GET", f"/v1/billing/meters/{_ID}", meter_get),
    ("GET", f"/v1/billing/meters/{_ID}/event_summaries", meter_event_summaries),
    ("POST", "/v1/billing/meter_events", meter_event_create),
    ("GET", "/v1/events", events_list),
    ("GET", f"/v1/events/{_ID}", event_get),
]
ROUTES: list[tuple[str, re.Pattern[str], Callable[[Ctx], Any]]] = [
    (m, re.compile(pat), h) for m, pat, h in _TABLE
]
