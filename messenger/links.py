"""Signed payment links, `GET /l/<token>`: where a customer's browser lands from the Messenger's
"Pay by card instead" and "Add a payment method" buttons.

The token (itsdangerous, salt "payment-link") binds the customer, the invoice (none for a
trial), the kind of link, the reader's language and the customer's default payment method when
it was made, and expires after `LINK_MAX_AGE_HOURS`. A tampered or expired token gets a friendly
page and never reaches Stripe. A valid one goes to a Stripe-hosted page (Checkout in setup mode,
or the Billing Portal's payment-method flow); on the way back (`/l/<token>/done`) the new card
becomes the default and pays the open invoice, once, however often the page is reloaded.

Hitting the link again reuses the hosted page it opened while that page is open (a Checkout
Session Stripe reports `open`; a Billing Portal session for a few minutes), instead of opening a
new Stripe session per hit; a link opens at most `LINK_MAX_SESSIONS` sessions in its life.

Nothing is charged without proof that the customer just added the card through this link:
- Checkout: `/done` needs the `session_id` of a complete session of this customer, started for
  this link (kind and invoice in its metadata). Without one: a friendly page, no Stripe call.
- Billing Portal (no session comes back): only a default payment method other than the one
  bound into the token (and the one that failed), created since the token was signed, counts;
  and even then `GET /done` only asks ("Pay €29.00 with Visa •••• 4242"): the payment is a POST
  of that form. A GET never moves money in this mode.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any
from urllib.parse import parse_qsl

from jinja2 import PackageLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from billing.collection_pages import (
    NewPaymentMethod,
    collection_metadata,
    open_collection_page,
    start_card_collection,
)
from billing.errors import BillingError, NotFound, StripeUnavailable
from billing.failed_invoices import load_invoice
from billing.payment_method import (
    CardSwitchResult,
    PortalOffer,
    pay_with_checkout_card,
    pay_with_portal_card,
)
from canvas_kit.labels import plain_reason
from kernel.http import ClientError, read_body
from kernel.i18n import language, pick_locale, t, template_environment
from kernel.link_tokens import LinkRejected, PaymentLink, read_link
from kernel.services import Services
from kernel.settings import Settings
from messenger.page_words import PAGE_WORDS
from storage.actions import ActionStore, Actor
from storage.link_sessions import LinkSessions

log = logging.getLogger(__name__)

# Stripe refused what the link asks for: the page says so. 424 Failed Dependency (RFC 4918), not
# a 5xx: nothing failed on our side, and trying the same link again won't change Stripe's mind.
FAILED_STATUS = 424

_pages = PackageLoader("messenger", "templates")


# --- the pages ---
async def start(request: Request) -> Response:
    """Check the link, then send the browser to Stripe's hosted page."""
    services: Services = request.app.state.services
    settings = services.settings
    token = request.path_params["token"]
    link = _link_or_page(request, settings, token)
    if isinstance(link, Response):
        return link
    base = f"{settings.public_url}/l/{token}"
    # A billing-details link always opens the Billing Portal (its customer-update flow).
    flow = "portal" if link.kind == "details" else settings.payment_method_flow
    link_id = hashlib.sha256(token.encode()).hexdigest()
    sessions = LinkSessions(services.db)
    try:
        currency = "eur"  # a billing-details link pays nothing
        if link.invoice:
            invoice = await load_invoice(services.stripe, link.invoice)
            if invoice.customer_id != link.customer:
                return _page(link.locale, "invalid", status=404)
            if invoice.state in ("paid", "closed"):
                return _page(link.locale, "already_paid", tone="good")
            currency = invoice.amount.currency
        elif link.kind == "trial":
            customer = await services.stripe.retrieve_customer(link.customer)
            currency = getattr(customer, "currency", None) or "eur"
        # The page this link opened before, while the customer can still use it.
        earlier = await sessions.get(link_id)
        if earlier is not None and earlier.flow == flow:
            reused = await open_collection_page(
                services.stripe,
                flow=flow,
                session_id=earlier.session_id,
                url=earlier.url,
                reusable_until=earlier.expires_at,
            )
            if reused is not None:
                return RedirectResponse(reused, status_code=303, headers=_PRIVATE)
        if not await sessions.reserve(link_id, limit=settings.link_max_sessions):
            log.warning("payment link %s for %s: session limit reached", link.kind, link.customer)
            return _page(link.locale, "too_many", status=429)
        if link.kind == "details":
            page = await services.billing_portal.open(
                link.customer, return_url=f"{base}/done", locale=language(link.locale)
            )
        else:
            page = await start_card_collection(
                services.stripe,
                flow=settings.payment_method_flow,
                customer_id=link.customer,
                currency=currency,
                card_only=link.kind == "recover",
                done_url=f"{base}/done",
                cancel_url=f"{base}/cancel",
                locale=language(link.locale),
                metadata=collection_metadata(link.kind, link.invoice),
            )
        await sessions.remember(
            link_id,
            flow=flow,
            session_id=page.session_id,
            url=page.url,
            expires_at=page.reusable_until,
        )
        url = page.url
    except NotFound:
        return _page(link.locale, "invalid", status=404)
    except StripeUnavailable:
        return _page(link.locale, "unavailable", status=503, retry_url=base)
    except BillingError as exc:
        log.error("payment link %s for %s: Stripe refused (%s)", link.kind, link.customer, exc.code)
        return _page(link.locale, "failed", status=FAILED_STATUS)
    return RedirectResponse(url, status_code=303, headers=_PRIVATE)


async def done(request: Request) -> Response:
    """Back from Stripe: make the new card the default and pay the open invoice with it, once
    the customer has shown they just added it (see the module docstring)."""
    services: Services = request.app.state.services
    settings = services.settings
    token = request.path_params["token"]
    link = _link_or_page(request, settings, token)
    if isinstance(link, Response):
        return link
    if link.kind == "details":
        # Back from the Billing Portal: whatever was saved there is saved; nothing to do here.
        services.billing.invalidate(link.customer)
        return _page(link.locale, "details_done", tone="good")
    base = f"{settings.public_url}/l/{token}"
    session_id = request.query_params.get("session_id") or None
    if session_id is None and settings.payment_method_flow == "checkout":
        # No Checkout session, no proof of a new card: nothing is read, saved or charged.
        return _page(link.locale, "incomplete", status=400, retry_url=base)
    store, actor = ActionStore(services.db), Actor("customer", link.contact)
    try:
        if session_id is not None:
            result: CardSwitchResult | PortalOffer | None = await pay_with_checkout_card(
                services.stripe,
                store,
                customer_id=link.customer,
                session_id=session_id,
                kind=link.kind,
                invoice_id=link.invoice,
                actor=actor,
            )
        else:
            result = await pay_with_portal_card(
                services.stripe,
                store,
                customer_id=link.customer,
                invoice_id=link.invoice,
                issued_at=link.issued_at,
                default_when_issued=link.payment_method,
                confirmed=await _confirmed_card(request),
                actor=actor,
            )
    except NotFound:
        return _page(link.locale, "invalid", status=404)
    except StripeUnavailable:
        return _page(link.locale, "unavailable", status=503, retry_url=str(request.url))
    except BillingError as exc:
        log.error("payment link %s for %s: Stripe refused (%s)", link.kind, link.customer, exc.code)
        return _page(link.locale, "failed", status=FAILED_STATUS)
    finally:
        services.billing.invalidate(link.customer)
    if result is None:
        return _page(link.locale, "incomplete", retry_url=base)
    if isinstance(result, PortalOffer):
        return _confirm_page(link, result, form_url=f"{base}/done")
    log.info("payment link %s for %s: %s", link.kind, link.customer, result.kind)
    return _result_page(link, result, retry_url=base, reload_url=str(request.url))


async def _confirmed_card(request: Request) -> str | None:
    """Billing Portal: the payment method a POST of the confirmation form names ("" when it
    names none); None for a GET, which never moves money in this mode."""
    if request.method != "POST":
        return None
    try:
        form = dict(parse_qsl((await read_body(request, limit=4096)).decode("utf-8", "replace")))
    except ClientError:
        form = {}
    return form.get("payment_method") or ""


def _confirm_page(link: PaymentLink, offer: PortalOffer, *, form_url: str) -> Response:
    """ "Pay €29.00 with Visa •••• 4242": the form whose POST pays."""
    method = _method_label(offer.card)
    amount = offer.invoice.amount.format(link.locale)
    return _page(
        link.locale,
        "confirm",
        amount=amount,
        number=offer.invoice.number or offer.invoice.invoice_id,
        method=method,
        form_url=form_url,
        form_label=t("Pay %(amount)s with %(method)s", link.locale, amount=amount, method=method),
        form_fields={"payment_method": offer.card.id},
    )


def _method_label(card: NewPaymentMethod) -> str:
    """ "Visa •••• 4242" (the brand as people write it)."""
    if card.last4 is None:
        return card.type.replace("_", " ")
    return f"{(card.brand or card.type).title()} •••• {card.last4}"


async def cancel(request: Request) -> Response:
    services: Services = request.app.state.services
    token = request.path_params["token"]
    link = _link_or_page(request, services.settings, token)
    if isinstance(link, Response):
        return link
    return _page(link.locale, "cancelled", retry_url=f"{services.settings.public_url}/l/{token}")


def _result_page(
    link: PaymentLink, result: CardSwitchResult, *, retry_url: str, reload_url: str
) -> Response:
    locale = link.locale
    invoice = result.invoice
    last4 = result.last4 or "····"
    if result.kind == "paid" and invoice is not None:
        return _page(
            locale,
            "paid",
            tone="good",
            amount=invoice.amount.format(locale),
            last4=last4,
            number=invoice.number or invoice.invoice_id,
        )
    if result.kind == "declined" and invoice is not None:
        reason = plain_reason(invoice.failure_code, invoice.failure_message, locale)
        return _page(
            locale,
            "declined",
            tone="bad",
            retry_url=retry_url,
            retry_label=t("Use another card", locale),
            reason=reason,
        )
    if result.kind == "unavailable":
        return _page(locale, "unavailable", status=503, retry_url=reload_url)
    if result.kind == "in_progress":
        return _page(locale, "in_progress", retry_url=reload_url)
    if result.kind == "saved":
        return _page(locale, "saved", tone="good", last4=last4)
    if result.kind == "processing":
        return _page(locale, "processing", tone="good")
    return _page(locale, "already_paid", tone="good")


# A page per person and moment: never cached, never indexed, and the token not sent onwards.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _link_or_page(request: Request, settings: Settings, token: str) -> PaymentLink | Response:
    try:
        return read_link(settings, token)
    except LinkRejected as exc:
        asked = exc.locale or request.headers.get("accept-language")
        locale = pick_locale(
            asked, settings.customer_locale, german_address=settings.german_address
        )
        if exc.status == 410:
            return _page(locale, "expired", status=410, hours=settings.link_max_age_hours)
        return _page(locale, "invalid", status=400)


def _page(
    locale: str,
    outcome: str,
    *,
    status: int = 200,
    tone: str = "neutral",
    retry_url: str | None = None,
    retry_label: str | None = None,
    form_url: str | None = None,
    form_label: str | None = None,
    form_fields: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    pages = template_environment(
        _pages, locale, autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    title, body = PAGE_WORDS[outcome]
    html = pages.get_template("payment_link.html").render(
        lang=language(locale),
        tone=tone,
        title=t(title, locale),
        paragraphs=[t(body, locale, **values)],
        action_url=retry_url,
        action_label=retry_label or t("Try again", locale),
        form_url=form_url,
        form_label=form_label,
        form_fields=form_fields or {},
    )
    return HTMLResponse(html, status_code=status, headers=_PRIVATE)


routes = [
    Route("/l/{token}", start, methods=["GET"]),
    Route("/l/{token}/done", done, methods=["GET", "POST"]),
    Route("/l/{token}/cancel", cancel, methods=["GET"]),
]
