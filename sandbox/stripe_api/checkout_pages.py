"""Hosted pages: Checkout (setup mode), Billing Portal (add a card), hosted invoice.

Small inline HTML so a person (or Playwright, or an httpx POST in tests) can complete the flows
the product links to.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .errors import ApiError
from .payment_methods import TEST_CARDS, complete_checkout, complete_portal_card
from .state import StripeState, money

_STYLE = """
body{font-family:system-ui,-apple-system,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;border-radius:8px;padding:32px;
box-shadow:0 2px 8px rgba(0,0,0,.08)}h1{font-size:20px;margin-top:0}label{display:block;
margin:14px 0 4px;font-size:14px}select,input{width:100%;padding:8px;font-size:15px;
box-sizing:border-box}button{margin-top:20px;width:100%;padding:10px;background:#635bff;
color:#fff;border:0;border-radius:6px;font-size:16px;cursor:pointer}.muted{color:#697386;
font-size:13px}.row{display:flex;gap:8px}.badge{display:inline-block;padding:2px 8px;
border-radius:10px;background:#eef;font-size:12px}table{width:100%;border-collapse:collapse}
td{padding:6px 0;border-bottom:1px solid #eee}.err{color:#c0123c}
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}<p class='muted'>Sandbox Stripe: test mode, no real money.</p>"
        f"</main></body></html>"
    )
    return HTMLResponse(html, status_code=status)


def _card_form(action: str, button: str, error: str | None = None) -> str:
    year = time.gmtime().tm_year + 3
    opts = "".join(
        f"<option value='{n}'>{escape(label)}</option>" for n, (_, _, label) in TEST_CARDS.items()
    )
    err = f"<p class='err' role='alert'>{escape(error)}</p>" if error else ""
    return (
        f"{err}<form method='post' action='{escape(action)}'>"
        f"<label for='card'>Test card</label><select id='card' name='card'>{opts}</select>"
        f"<div class='row'><div><label for='exp_month'>Expiry month</label>"
        f"<input id='exp_month' name='exp_month' value='12' inputmode='numeric'></div>"
        f"<div><label for='exp_year'>Expiry year</label>"
        f"<input id='exp_year' name='exp_year' value='{year}' inputmode='numeric'></div></div>"
        f"<button type='submit'>{escape(button)}</button></form>"
    )


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))


def _card_args(form: dict[str, str]) -> tuple[str, int, int]:
    try:
        return (
            form.get("card", ""),
            int(form.get("exp_month", "12")),
            int(form.get("exp_year", "2030")),
        )
    except ValueError:
        raise ApiError(400, "Your card's expiration date is invalid.") from None


def routes(state: StripeState) -> list[Route]:
    """Hosted-page routes bound to ``state``."""

    async def checkout(request: Request) -> Response:
        sid = request.path_params["id"]
        session = state.find(sid, "checkout.session")
        if session is None:
            return _page("Not found", "<h1>This Checkout Session does not exist.</h1>", 404)
        cus = state.find(session["customer"], "customer")
        who = escape(cus["name"] or cus["email"] or cus["id"]) if cus else "you"
        if request.method == "POST":
            try:
                number, m, y = _card_args(await _form(request))
                complete_checkout(state, session, number, m, y)
            except ApiError as e:
                return _page(
                    "Checkout",
                    f"<h1>Save a card</h1>{_card_form(str(request.url.path), 'Save card', e.message)}",
                    400,
                )
            target = (session["success_url"] or "/").replace("{CHECKOUT_SESSION_ID}", sid)
            return RedirectResponse(target, status_code=303)
        if session["status"] != "open":
            return _page("Checkout", "<h1>This Checkout Session is complete.</h1>")
        cancel = (
            f"<p><a href='{escape(session['cancel_url'])}'>Cancel and go back</a></p>"
            if session["cancel_url"]
            else ""
        )
        body = (
            f"<h1>Save a card for {who}</h1><p class='muted'>Your card will be saved for future "
            f"payments.</p>{_card_form(str(request.url.path), 'Save card')}{cancel}"
        )
        return _page("Checkout", body)

    async def portal(request: Request) -> Response:
        bid = request.path_params["id"]
        session = state.find(bid, "billing_portal.session")
        if session is None:
            return _page("Not found", "<h1>This portal session does not exist.</h1>", 404)
        cus = state.get("customer", session["customer"])
        flow = session.get("flow") or {}
        if request.method == "POST":
            try:
                number, m, y = _card_args(await _form(request))
                complete_portal_card(state, session, number, m, y)
            except ApiError as e:
                return _page(
                    "Billing",
                    f"<h1>Add a payment method</h1>{_card_form(str(request.url.path), 'Add card', e.message)}",
                    400,
                )
            ac = flow.get("after_completion") or {}
            target = (
                (ac.get("redirect") or {}).get("return_url")
                if ac.get("type") == "redirect"
                else None
            ) or session["return_url"]
            if target:
                return RedirectResponse(target, status_code=303)
            return _page("Billing", "<h1>Your payment method was updated.</h1>")
        pm_rows = "".join(
            f"<tr><td>{escape(_pm_label(pm))}</td><td>"
            f"{'<span class=badge>Default</span>' if cus['invoice_settings']['default_payment_method'] == pm['id'] else ''}</td></tr>"
            for pm in state.all("payment_method")
            if pm["customer"] == cus["id"]
        )
        back = (
            f"<p><a href='{escape(session['return_url'])}'>Return</a></p>"
            if session["return_url"]
            else ""
        )
        body = (
            f"<h1>{escape(cus['name'] or cus['email'] or cus['id'])}</h1>"
            f"<h2>Payment methods</h2><table>{pm_rows or '<tr><td>None yet</td></tr>'}</table>"
            f"<h2>Add a payment method</h2>{_card_form(str(request.url.path), 'Add card')}{back}"
        )
        return _page("Billing", body)

    async def hosted_invoice(request: Request) -> Response:
        inv = state.find(request.path_params["id"], "invoice")
        if inv is None:
            return _page("Not found", "<h1>Invoice not found.</h1>", 404)
        rows = "".join(
            f"<tr><td>{escape(li['description'])}</td><td>{money(li['amount'])}</td></tr>"
            for li in inv["lines"]["data"]
        )
        body = (
            f"<h1>Invoice {escape(inv['number'] or inv['id'])}</h1>"
            f"<p><span class='badge'>{escape(inv['status'])}</span></p><table>{rows}</table>"
            f"<p>Amount due: <strong>{money(inv['amount_due'])}</strong> · "
            f"paid: {money(inv['amount_paid'])}</p>"
        )
        return _page("Invoice", body)

    return [
        Route("/checkout/{id}", checkout, methods=["GET", "POST"]),
        Route("/portal/{id}", portal, methods=["GET", "POST"]),
        Route("/invoices/{id}", hosted_invoice, methods=["GET"]),
        Route("/invoices/{id}/pdf", hosted_invoice, methods=["GET"]),
    ]


def _pm_label(pm: dict[str, Any]) -> str:
    if pm["type"] == "card":
        c = pm["card"]
        return f"{c['brand'].title()} •••• {c['last4']} (exp {c['exp_month']:02d}/{c['exp_year']})"
    return f"SEPA Direct Debit •••• {pm['sepa_debit']['last4']}"
