"""The hosted Billing Portal page of a session: what its configuration enables, nothing more.

- ``payment_method_update``: the customer's cards and a form to add one (it becomes the
  invoice default), ``POST /portal/{id}``;
- ``customer_update``: a form per allowed update: ``address`` and ``shipping``, ``email`` /
  ``name`` / ``phone``, and the tax ids (add one, remove one); each save updates the customer
  as the API would (``customer.updated`` with ``previous_attributes``,
  ``customer.tax_id.created|updated|deleted``) and comes back to the page;
- ``invoice_history``: the invoices with their hosted page and PDF;
- ``subscription_cancel``: a cancel button per live subscription (at period end or now, as
  the configuration says).

A session with a flow shows that flow's feature only. A post to a feature the configuration
does not enable is refused with a 403 page. Every page links back to ``return_url`` (for a flow
with ``after_completion.type=redirect``, its URL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import lifecycle, portal, tax_ids
from .errors import ApiError
from .forms import FormError
from .handlers import parse_address
from .pages import card_args, card_form, page, pm_label, read_form
from .payment_methods import complete_portal_card
from .state import StripeState, money

TAX_ID_CHOICES = [
    ("eu_vat", "EU VAT number"),
    ("gb_vat", "UK VAT number"),
    ("ch_vat", "Swiss VAT number"),
    ("no_vat", "Norwegian VAT number"),
    ("us_ein", "US EIN"),
]
CONTACT_FIELDS = ("email", "name", "phone")
ADDRESS_FIELDS = [
    ("line1", "Address line 1"),
    ("line2", "Address line 2"),
    ("postal_code", "Postal code"),
    ("city", "City"),
    ("state", "State or region"),
    ("country", "Country (two letters, e.g. DE)"),
]


@dataclass
class Form:
    """A portal form post: the session's configuration, its customer, the posted fields."""

    config: dict[str, Any]
    cus: dict[str, Any]
    data: dict[str, str]


def _refused(what: str) -> Response:
    return page(
        "Billing",
        f"<h1>Not available</h1><p>{escape(what)} is not available in this portal.</p>",
        403,
    )


def _input(name: str, label: str, value: str | None, *, prefix: str = "") -> str:
    field = f"{prefix}{name}"
    return (
        f"<label for='{field}'>{escape(label)}</label>"
        f"<input id='{field}' name='{field}' value='{escape(value or '')}'>"
    )


def _return_url(session: dict[str, Any]) -> str | None:
    flow = session.get("flow") or {}
    ac = flow.get("after_completion") or {}
    if ac.get("type") == "redirect":
        return (ac.get("redirect") or {}).get("return_url") or session["return_url"]
    return session["return_url"]


def routes(state: StripeState) -> list[Route]:
    """Portal routes bound to ``state``."""

    def context(request: Request) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
        session = state.find(request.path_params["id"], "billing_portal.session")
        if session is None:
            return None
        return (
            session,
            portal.session_config(state, session),
            state.get("customer", session["customer"]),
        )

    def shows(session: dict[str, Any], config: dict[str, Any], feature: str) -> bool:
        """A flow shows its own feature only; the homepage every enabled one."""
        flow = session.get("flow")
        if flow is not None and portal.FLOW_FEATURE.get(flow["type"]) != feature:
            return False
        return portal.enabled(config, feature)

    def update_customer(cus: dict[str, Any], changes: dict[str, Any]) -> None:
        before = state.render(cus)
        cus.update(changes)
        prev = state.previous_attributes(before, state.render(cus))
        if prev:
            state.emit("customer.updated", cus, prev)

    def render(request: Request, notice: str = "", error: str = "", status: int = 200) -> Response:
        found = context(request)
        if found is None:
            return page("Not found", "<h1>This portal session does not exist.</h1>", 404)
        session, config, cus = found
        base = f"/portal/{session['id']}"
        sections = []
        if shows(session, config, "payment_method_update"):
            sections.append(_payment_methods(state, cus, base))
        if shows(session, config, "customer_update"):
            sections.append(_billing_details(state, config, cus, base))
        if shows(session, config, "invoice_history"):
            sections.append(_invoice_history(state, cus))
        if shows(session, config, "subscription_cancel"):
            sections.append(_subscriptions(state, config, cus, base))
        if not sections:
            sections.append("<p>There is nothing to manage in this portal.</p>")
        back = _return_url(session)
        link = f"<p><a href='{escape(back)}'>Return</a></p>" if back else ""
        alert = f"<p class='err' role='alert'>{escape(error)}</p>" if error else ""
        note = f"<p role='status'>{escape(notice)}</p>" if notice else ""
        title = escape(cus["name"] or cus["email"] or cus["id"])
        return page("Billing", f"<h1>{title}</h1>{alert}{note}{''.join(sections)}{link}", status)

    def customer_form(
        fields: tuple[str, ...], what: str, apply: Callable[[Form], str]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A billing-details form post: refused unless the configuration allows one of
        ``fields``; errors are shown on the page."""

        async def endpoint(request: Request) -> Response:
            found = context(request)
            if found is None:
                return page("Not found", "<h1>This portal session does not exist.</h1>", 404)
            session, config, cus = found
            allowed = any(portal.may_update(config, f) for f in fields)
            if not allowed or not shows(session, config, "customer_update"):
                return _refused(what)
            try:
                notice = apply(Form(config, cus, await read_form(request)))
            except ApiError as e:
                return render(request, error=e.message, status=e.status)
            except FormError as e:
                return render(request, error=str(e), status=400)
            return RedirectResponse(f"/portal/{session['id']}?saved={notice}", status_code=303)

        return endpoint

    def save_address(f: Form) -> str:
        update_customer(f.cus, {"address": parse_address(_address_form(f.data, ""), "address")})
        return "address"

    def save_shipping(f: Form) -> str:
        address = parse_address(_address_form(f.data, "shipping_"), "shipping[address]")
        name = f.data.get("shipping_name", "").strip()
        if not name:
            raise ApiError(400, "Please enter the name to ship to.")
        phone = f.data.get("shipping_phone") or None
        update_customer(f.cus, {"shipping": {"address": address, "name": name, "phone": phone}})
        return "shipping"

    def save_contact(f: Form) -> str:
        changes: dict[str, Any] = {
            k: (f.data[k].strip() or None)
            for k in ("email", "name", "phone")
            if k in f.data and portal.may_update(f.config, k)
        }
        if changes.get("email") and "@" not in str(changes["email"]):
            raise ApiError(400, "Please enter a valid email address.")
        update_customer(f.cus, changes)
        return "contact"

    def add_tax_id(f: Form) -> str:
        if f.data.get("type") not in {t for t, _ in TAX_ID_CHOICES}:
            raise ApiError(400, "Please choose a tax ID type.")
        txi = tax_ids.create(state, f.cus, f.data["type"], f.data.get("value", ""))
        tax_ids.verify(state, txi)
        return "tax_id"

    async def remove_tax_id(request: Request) -> Response:
        found = context(request)
        if found is None:
            return page("Not found", "<h1>This portal session does not exist.</h1>", 404)
        session, config, cus = found
        if not portal.may_update(config, "tax_id") or not shows(session, config, "customer_update"):
            return _refused("Tax ID")
        try:
            txi = tax_ids.customer_tax_id(state, cus["id"], request.path_params["txi"])
        except ApiError:
            return page("Not found", "<h1>This tax ID does not exist.</h1>", 404)
        tax_ids.delete(state, txi)
        return RedirectResponse(f"/portal/{session['id']}?saved=tax_id", status_code=303)

    async def portal_page(request: Request) -> Response:
        if request.method == "GET":
            saved = request.query_params.get("saved")
            return render(request, notice="Your changes were saved." if saved else "")
        # The payment-method form posts to the page itself, like the flow the product uses.
        found = context(request)
        if found is None:
            return page("Not found", "<h1>This portal session does not exist.</h1>", 404)
        session, config, cus = found
        if not shows(session, config, "payment_method_update"):
            return _refused("Updating payment methods")
        try:
            number, m, y = card_args(await read_form(request))
            complete_portal_card(state, session, number, m, y)
        except ApiError as e:
            return render(request, error=e.message, status=400)
        target = _return_url(session)
        if target:
            return RedirectResponse(target, status_code=303)
        return page("Billing", "<h1>Your payment method was updated.</h1>")

    async def cancel_subscription(request: Request) -> Response:
        found = context(request)
        if found is None:
            return page("Not found", "<h1>This portal session does not exist.</h1>", 404)
        session, config, cus = found
        if not shows(session, config, "subscription_cancel"):
            return _refused("Canceling subscriptions")
        sub = state.find(request.path_params["sub"], "subscription")
        if sub is None or sub["customer"] != cus["id"] or sub["status"] == "canceled":
            return page("Not found", "<h1>This subscription does not exist.</h1>", 404)
        form = await read_form(request)
        feature = config["features"]["subscription_cancel"]
        before = state.render(sub)
        if form.get("feedback") in lifecycle.FEEDBACK:
            sub["cancellation_details"]["feedback"] = form["feedback"]
        if feature["mode"] == "immediately":
            lifecycle.cancel_now(
                state,
                sub,
                prorate=feature["proration_behavior"] != "none",
                invoice_now=feature["proration_behavior"] == "always_invoice",
            )
        else:
            lifecycle.apply_cancel_flags(state, sub, {"cancel_at_period_end": "true"})
            state.emit(
                "customer.subscription.updated",
                sub,
                state.previous_attributes(before, state.render(sub)),
            )
        return RedirectResponse(f"/portal/{session['id']}?saved=subscription", status_code=303)

    base = "/portal/{id}"
    return [
        Route(base, portal_page, methods=["GET", "POST"]),
        Route(
            f"{base}/address",
            customer_form(("address",), "Changing the address", save_address),
            methods=["POST"],
        ),
        Route(
            f"{base}/shipping",
            customer_form(("shipping",), "Changing the shipping address", save_shipping),
            methods=["POST"],
        ),
        Route(
            f"{base}/contact",
            customer_form(CONTACT_FIELDS, "Changing contact details", save_contact),
            methods=["POST"],
        ),
        Route(
            f"{base}/tax_ids",
            customer_form(("tax_id",), "Adding a tax ID", add_tax_id),
            methods=["POST"],
        ),
        Route(f"{base}/tax_ids/{{txi}}/delete", remove_tax_id, methods=["POST"]),
        Route(f"{base}/subscriptions/{{sub}}/cancel", cancel_subscription, methods=["POST"]),
    ]


def _address_form(form: dict[str, str], prefix: str) -> dict[str, str]:
    return {k: form.get(prefix + k, "") for k, _ in ADDRESS_FIELDS}


def _payment_methods(state: StripeState, cus: dict[str, Any], base: str) -> str:
    default = cus["invoice_settings"]["default_payment_method"]
    rows = "".join(
        f"<tr><td>{escape(pm_label(pm))}</td><td>"
        f"{'<span class=badge>Default</span>' if default == pm['id'] else ''}</td></tr>"
        for pm in state.all("payment_method")
        if pm["customer"] == cus["id"]
    )
    return (
        f"<h2>Payment methods</h2><table>{rows or '<tr><td>None yet</td></tr>'}</table>"
        f"<h2>Add a payment method</h2>{card_form(base, 'Add card')}"
    )


def _billing_details(
    state: StripeState, config: dict[str, Any], cus: dict[str, Any], base: str
) -> str:
    out = ["<h2>Billing information</h2>"]
    contact = [k for k in ("email", "name", "phone") if portal.may_update(config, k)]
    if contact:
        labels = {"email": "Email", "name": "Name", "phone": "Phone"}
        fields = "".join(_input(k, labels[k], cus[k]) for k in contact)
        out.append(
            f"<form method='post' action='{base}/contact'>{fields}"
            "<button type='submit'>Save contact details</button></form>"
        )
    if portal.may_update(config, "address"):
        addr = cus["address"] or {}
        fields = "".join(_input(k, label, addr.get(k)) for k, label in ADDRESS_FIELDS)
        out.append(
            f"<h3>Billing address</h3><form method='post' action='{base}/address'>{fields}"
            "<button type='submit'>Save address</button></form>"
        )
    if portal.may_update(config, "shipping"):
        ship = cus["shipping"] or {}
        saddr = ship.get("address") or {}
        fields = _input("name", "Name", ship.get("name"), prefix="shipping_") + "".join(
            _input(k, label, saddr.get(k), prefix="shipping_") for k, label in ADDRESS_FIELDS
        )
        out.append(
            f"<h3>Shipping address</h3><form method='post' action='{base}/shipping'>{fields}"
            "<button type='submit'>Save shipping address</button></form>"
        )
    if portal.may_update(config, "tax_id"):
        rows = "".join(
            f"<tr><td>{escape(t['value'])}</td><td>{escape(t['type'])}</td><td>"
            f"{escape((t['verification'] or {}).get('status') or '')}</td><td>"
            f"<form method='post' action='{base}/tax_ids/{escape(t['id'])}/delete'>"
            f"<button type='submit' aria-label='Remove {escape(t['value'])}'>Remove</button>"
            "</form></td></tr>"
            for t in reversed(state.all("tax_id"))
            if t["customer"] == cus["id"]
        )
        opts = "".join(
            f"<option value='{t}'>{escape(label)}</option>" for t, label in TAX_ID_CHOICES
        )
        out.append(
            f"<h3>Tax IDs</h3><table>{rows or '<tr><td>None yet</td></tr>'}</table>"
            f"<form method='post' action='{base}/tax_ids'>"
            f"<label for='type'>Type</label><select id='type' name='type'>{opts}</select>"
            "<label for='value'>Number</label><input id='value' name='value'>"
            "<button type='submit'>Add tax ID</button></form>"
        )
    return "".join(out)


def _invoice_history(state: StripeState, cus: dict[str, Any]) -> str:
    base = state.public_base_url or ""
    rows = "".join(
        f"<tr><td>{escape(inv['number'] or '')}</td>"
        f"<td>{money(inv['total'], inv['currency'])}</td><td>{escape(inv['status'])}</td>"
        f"<td><a href='{base}/invoices/{inv['id']}'>View</a> · "
        f"<a href='{base}/invoices/{inv['id']}/pdf'>PDF</a></td></tr>"
        for inv in state.all("invoice")[:200]
        if inv["customer"] == cus["id"] and inv["status"] != "draft"
    )
    return f"<h2>Invoice history</h2><table>{rows or '<tr><td>No invoices</td></tr>'}</table>"


def _subscriptions(
    state: StripeState, config: dict[str, Any], cus: dict[str, Any], base: str
) -> str:
    mode = config["features"]["subscription_cancel"]["mode"]
    rows = []
    for sub in state.all("subscription"):
        if sub["customer"] != cus["id"] or sub["status"] == "canceled":
            continue
        names = ", ".join(
            escape(state.objects[state.objects[i["price"]]["product"]]["name"])
            for i in sub["items"]["data"]
        )
        if sub["cancel_at_period_end"]:
            control = "<span class='badge'>Cancels at period end</span>"
        else:
            label = "Cancel now" if mode == "immediately" else "Cancel at period end"
            control = (
                f"<form method='post' action='{base}/subscriptions/{sub['id']}/cancel'>"
                f"<button type='submit'>{label}</button></form>"
            )
        rows.append(f"<tr><td>{names}</td><td>{escape(sub['status'])}</td><td>{control}</td></tr>")
    return f"<h2>Subscriptions</h2><table>{''.join(rows) or '<tr><td>None</td></tr>'}</table>"
