"""Billing Portal API: configurations (``/v1/billing_portal/configurations``) and sessions.

A session uses the configuration it names, else the account's default one (``is_default``:
payment methods, billing details, invoice history and cancel at period end enabled, as a
portal set up in the Dashboard would have). Flows (``flow_data.type``) deep-link into one
feature, which the configuration must enable; ``customer_update`` is a flow type since API
2026-08-26.dahlia. The hosted page is served by ``portal_pages``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import objects as ob
from .errors import invalid, missing_param, unknown_param
from .forms import as_bool, as_list
from .params import check_params, metadata_update, paginate
from .state import StripeState

if TYPE_CHECKING:
    from .server import Ctx

DEFAULT_CONFIGURATION = "bpc_SandboxDefault"
ALLOWED_UPDATES = ("address", "email", "name", "phone", "shipping", "tax_id")
FLOW_TYPES = (
    "customer_update",
    "payment_method_update",
    "subscription_cancel",
    "subscription_pause",
    "subscription_update",
    "subscription_update_confirm",
)
# The configuration feature each flow needs.
FLOW_FEATURE = {
    "customer_update": "customer_update",
    "payment_method_update": "payment_method_update",
    "subscription_cancel": "subscription_cancel",
    "subscription_update": "subscription_update",
    "subscription_update_confirm": "subscription_update",
}
CONFIG_PARAMS = {
    "features",
    "business_profile",
    "default_return_url",
    "login_page",
    "metadata",
    "name",
    "active",
}


def default_configuration(state: StripeState) -> dict[str, Any]:
    """The account's default configuration (made on first use)."""
    found = state.find(DEFAULT_CONFIGURATION, "billing_portal.configuration")
    if found is not None:
        return found
    config = ob.portal_configuration(id=DEFAULT_CONFIGURATION, created=state.now(), is_default=True)
    features = config["features"]
    features["customer_update"] = {
        "allowed_updates": ["email", "address", "shipping", "phone", "tax_id"],
        "enabled": True,
    }
    features["invoice_history"]["enabled"] = True
    features["payment_method_update"]["enabled"] = True
    features["subscription_cancel"]["enabled"] = True
    return state.put(config)


def enabled(config: dict[str, Any], feature: str) -> bool:
    return bool(config["features"][feature]["enabled"])


def may_update(config: dict[str, Any], field: str) -> bool:
    """Whether the customer may change ``field`` (address, tax_id, ...) in this portal."""
    cu = config["features"]["customer_update"]
    return bool(cu["enabled"]) and field in cu["allowed_updates"]


# ------------------------------------------------------------------------ configurations
def _features(config: dict[str, Any], value: Any, *, creating: bool) -> None:
    if not isinstance(value, dict):
        raise invalid("Invalid object", "features")
    features = config["features"]
    for name, spec in value.items():
        where = f"features[{name}]"
        if name not in features:
            raise unknown_param(where)
        if not isinstance(spec, dict):
            raise invalid("Invalid object", where)
        target = features[name]
        for key, v in spec.items():
            if key not in target and key != "products":
                raise unknown_param(f"{where}[{key}]")
            if key == "enabled":
                target["enabled"] = as_bool(v, f"{where}[enabled]")
            elif key == "allowed_updates":
                updates = [] if v == "" else as_list(v)
                for u in updates:
                    if u not in ALLOWED_UPDATES:
                        raise invalid(
                            f"Invalid {where}[allowed_updates][]: must be one of "
                            + ", ".join(ALLOWED_UPDATES),
                            f"{where}[allowed_updates]",
                        )
                target["allowed_updates"] = updates
            elif key == "mode":
                if v not in ("at_period_end", "immediately"):
                    raise invalid(
                        f"Invalid {where}[mode]: must be one of at_period_end or immediately",
                        f"{where}[mode]",
                    )
                target["mode"] = v
            elif key == "proration_behavior":
                if v not in ("always_invoice", "create_prorations", "none"):
                    raise invalid(
                        f"Invalid {where}[proration_behavior]: must be one of always_invoice, "
                        "create_prorations, or none",
                        f"{where}[proration_behavior]",
                    )
                target["proration_behavior"] = v
            elif key == "cancellation_reason":
                if not isinstance(v, dict):
                    raise invalid("Invalid object", f"{where}[cancellation_reason]")
                reason = target["cancellation_reason"]
                if "enabled" in v:
                    reason["enabled"] = as_bool(v["enabled"], f"{where}[cancellation_reason]")
                if "options" in v:
                    reason["options"] = as_list(v["options"]) if v["options"] != "" else []
            elif key in ("default_allowed_updates",):
                target[key] = [] if v == "" else as_list(v)
            else:
                target[key] = v
        if creating and "enabled" not in spec:
            raise missing_param(f"{where}[enabled]")


def _apply_config(config: dict[str, Any], p: dict[str, Any], *, creating: bool) -> None:
    if "features" in p:
        _features(config, p["features"], creating=creating)
    bp = p.get("business_profile")
    if bp is not None:
        if not isinstance(bp, dict):
            raise invalid("Invalid object", "business_profile")
        for k, v in bp.items():
            if k not in config["business_profile"]:
                raise unknown_param(f"business_profile[{k}]")
            config["business_profile"][k] = v or None
    if "default_return_url" in p:
        config["default_return_url"] = p["default_return_url"] or None
    if "name" in p:
        config["name"] = p["name"] or None
    if "metadata" in p:
        metadata_update(config["metadata"], p["metadata"])
    if "active" in p:
        config["active"] = as_bool(p["active"], "active")
    lp = p.get("login_page")
    if isinstance(lp, dict) and "enabled" in lp:
        config["login_page"]["enabled"] = as_bool(lp["enabled"], "login_page[enabled]")


def configuration_create(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, CONFIG_PARAMS - {"active"})
    st, p = ctx.state, ctx.params
    if not p.get("features"):
        raise missing_param("features")
    default_configuration(st)
    config = ob.portal_configuration(id=st.new_id("bpc"), created=st.now())
    _apply_config(config, p, creating=True)
    st.put(config)
    st.emit("billing_portal.configuration.created", config)
    return st.render(config)


def configuration_update(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, CONFIG_PARAMS)
    st = ctx.state
    default_configuration(st)
    config = st.get("billing_portal.configuration", ctx.path["id"])
    _apply_config(config, ctx.params, creating=False)
    config["updated"] = st.now()
    st.emit("billing_portal.configuration.updated", config)
    return st.render(config)


def configuration_get(ctx: Ctx) -> dict[str, Any]:
    default_configuration(ctx.state)
    return ctx.state.render(ctx.state.get("billing_portal.configuration", ctx.path["id"]))


def configurations_list(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, {"active", "is_default", "limit", "starting_after", "ending_before"})
    default_configuration(ctx.state)
    objs = ctx.state.all("billing_portal.configuration")
    for key in ("active", "is_default"):
        if ctx.params.get(key) not in (None, ""):
            want = as_bool(ctx.params[key], key)
            objs = [o for o in objs if o[key] == want]
    return paginate(
        ctx, objs, "/v1/billing_portal/configurations", kind="billing_portal.configuration"
    )


# ------------------------------------------------------------------------------- sessions
def session_create(ctx: Ctx) -> dict[str, Any]:
    check_params(
        ctx, {"customer", "return_url", "flow_data", "configuration", "locale", "on_behalf_of"}
    )
    st, p = ctx.state, ctx.params
    if not p.get("customer"):
        raise missing_param("customer")
    cus = st.get("customer", p["customer"], "customer")
    if p.get("configuration"):
        config = st.get("billing_portal.configuration", p["configuration"], "configuration")
        if not config["active"]:
            raise invalid(
                f"The configuration {config['id']} is not active. Activate it or use an "
                "active configuration.",
                "configuration",
            )
    else:
        config = default_configuration(st)
    flow = _flow(st, cus, config, p.get("flow_data"))
    return_url = p.get("return_url") or config["default_return_url"]
    if not return_url:
        raise missing_param("return_url")
    bid = st.new_id("bps")
    session = ob.portal_session(
        id=bid,
        created=st.now(),
        customer=cus["id"],
        return_url=return_url,
        url=f"{ctx.base}/portal/{bid}",
        flow=flow,
        configuration=config["id"],
        locale=p.get("locale") or None,
    )
    st.put(session)
    return st.render(session)


def _flow(
    state: StripeState, cus: dict[str, Any], config: dict[str, Any], fd: Any
) -> dict[str, Any] | None:
    if not fd:
        return None
    if not isinstance(fd, dict):
        raise invalid("Invalid object", "flow_data")
    ftype = fd.get("type")
    if ftype not in FLOW_TYPES:
        raise invalid(
            "Invalid flow_data[type]: must be one of " + ", ".join(FLOW_TYPES), "flow_data[type]"
        )
    feature = FLOW_FEATURE.get(ftype)
    if feature is not None and not enabled(config, feature):
        # Chosen wording: Stripe refuses a flow whose feature the configuration disables.
        raise invalid(
            f"You can't create a portal session with a `{ftype}` flow because the "
            f"`{feature}` feature is disabled in the configuration {config['id']}.",
            "flow_data[type]",
        )
    ac = fd.get("after_completion") or {}
    atype = ac.get("type") or "portal_homepage"
    flow: dict[str, Any] = {
        "after_completion": {
            "hosted_confirmation": {
                "custom_message": (ac.get("hosted_confirmation") or {}).get("custom_message")
            }
            if atype == "hosted_confirmation"
            else None,
            "redirect": {"return_url": (ac.get("redirect") or {}).get("return_url")}
            if atype == "redirect"
            else None,
            "type": atype,
        },
        "subscription_cancel": None,
        "subscription_pause": None,
        "subscription_update": None,
        "subscription_update_confirm": None,
        "type": ftype,
    }
    if atype == "redirect" and not flow["after_completion"]["redirect"]["return_url"]:
        raise missing_param("flow_data[after_completion][redirect][return_url]")
    if ftype in ("subscription_cancel", "subscription_pause", "subscription_update"):
        spec = fd.get(ftype) or {}
        sid = spec.get("subscription") if isinstance(spec, dict) else None
        if not sid:
            raise missing_param(f"flow_data[{ftype}][subscription]")
        sub = state.get("subscription", sid, f"flow_data[{ftype}][subscription]")
        if sub["customer"] != cus["id"] or sub["status"] == "canceled":
            raise invalid(
                f"The subscription {sid} is not an active subscription of {cus['id']}.",
                f"flow_data[{ftype}][subscription]",
            )
        flow[ftype] = {"subscription": sid}
        if ftype == "subscription_cancel":
            retention = spec.get("retention")
            flow[ftype]["retention"] = None
            if isinstance(retention, dict):
                coupon = (retention.get("coupon_offer") or {}).get("coupon")
                state.get("coupon", coupon or "", f"flow_data[{ftype}][retention][coupon_offer]")
                flow[ftype]["retention"] = {
                    "coupon_offer": {"coupon": coupon},
                    "type": "coupon_offer",
                }
    return flow


def session_config(state: StripeState, session: dict[str, Any]) -> dict[str, Any]:
    """The configuration a session was made with."""
    found = state.find(session["configuration"], "billing_portal.configuration")
    return found if found is not None else default_configuration(state)
