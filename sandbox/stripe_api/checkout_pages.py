"""Hosted Checkout page (setup mode): save a test card for the customer.

Small inline HTML so a person (or Playwright, or an httpx POST in tests) can complete the flow
the product links to. The Billing Portal lives in ``portal_pages``, invoices in
``invoice_pages``.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .errors import ApiError
from .pages import card_args, card_form, page, read_form
from .payment_methods import complete_checkout
from .state import StripeState


def routes(state: StripeState) -> list[Route]:
    """Hosted-page routes bound to ``state``."""

    async def checkout(request: Request) -> Response:
        sid = request.path_params["id"]
        session = state.find(sid, "checkout.session")
        if session is None:
            return page("Not found", "<h1>This Checkout Session does not exist.</h1>", 404)
        cus = state.find(session["customer"], "customer")
        who = escape(cus["name"] or cus["email"] or cus["id"]) if cus else "you"
        if request.method == "POST":
            try:
                number, m, y = card_args(await read_form(request))
                complete_checkout(state, session, number, m, y)
            except ApiError as e:
                return page(
                    "Checkout",
                    f"<h1>Save a card</h1>{card_form(str(request.url.path), 'Save card', e.message)}",
                    400,
                )
            target = (session["success_url"] or "/").replace("{CHECKOUT_SESSION_ID}", sid)
            return RedirectResponse(target, status_code=303)
        if session["status"] != "open":
            return page("Checkout", "<h1>This Checkout Session is complete.</h1>")
        cancel = (
            f"<p><a href='{escape(session['cancel_url'])}'>Cancel and go back</a></p>"
            if session["cancel_url"]
            else ""
        )
        body = (
            f"<h1>Save a card for {who}</h1><p class='muted'>Your card will be saved for future "
            f"payments.</p>{card_form(str(request.url.path), 'Save card')}{cancel}"
        )
        return page("Checkout", body)

    return [Route("/checkout/{id}", checkout, methods=["GET", "POST"])]
