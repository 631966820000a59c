"""Signed payment links, `GET /l/<token>`: where a customer's browser lands from the Messenger's
"Pay by card instead" and "Add a payment method" buttons.

The token (itsdangerous, salt "payment-link") binds the customer, the invoice (none for a
trial), the kind of link and the reader's language, and expires after `LINK_MAX_AGE_HOURS`. A
tampered or expired token gets a friendly page and never reaches Stripe. A valid one goes to a
Stripe-hosted page (Checkout in setup mode, or the Billing Portal's payment-method flow); on the
way back (`/l/<token>/done`) the new card becomes the default and pays the open invoice, once,
however often the page is reloaded.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from billing import recovery
from billing.errors import BillingError, NotFound, StripeUnavailable
from billing.recovery import CardSwitchResult
from canvas_app.cards.messenger import plain_reason
from canvas_app.copy import t
from canvas_app.services import Services
from canvas_app.settings import Settings
from storage.customer_actions import Actor

log = logging.getLogger(__name__)

SALT = "payment-link"
LinkKind = Literal["recover", "trial"]

_pages = Environment(
    loader=PackageLoader("canvas_app", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class PaymentLink:
    customer: str
    invoice: str | None
    kind: LinkKind
    locale: str
    contact: str | None = None  # the Intercom contact it was made for (audit only)


class LinkRejected(Exception):
    """The token is not one we signed (status 400) or has expired (410)."""

    def __init__(self, status: int, locale: str | None) -> None:
        super().__init__(status)
        self.status = status
        self.locale = locale


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=SALT)


def payment_link_url(settings: Settings, link: PaymentLink) -> str:
    token = _serializer(settings).dumps(asdict(link))
    return f"{settings.public_url}/l/{token}"


def read_link(settings: Settings, token: str) -> PaymentLink:
    serializer = _serializer(settings)
    try:
        data = serializer.loads(token, max_age=settings.link_max_age_hours * 3600)
    except SignatureExpired as exc:
        # The signature was ours, only too old: its language is still worth honouring.
        payload = serializer.load_payload(exc.payload) if exc.payload is not None else None
        locale = payload.get("locale") if isinstance(payload, dict) else None
        raise LinkRejected(410, locale if isinstance(locale, str) else None) from None
    except BadSignature:
        raise LinkRejected(400, None) from None
    if not isinstance(data, dict) or data.get("kind") not in ("recover", "trial"):
        raise LinkRejected(400, None)
    return PaymentLink(
        customer=str(data["customer"]),
        invoice=data.get("invoice") or None,
        kind=data["kind"],
        locale=data.get("locale") if data.get("locale") in ("en", "de") else "en",
        contact=data.get("contact"),
    )


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
    try:
        if link.invoice:
            invoice = await recovery.load_invoice(services.stripe, link.invoice)
            if invoice.customer_id != link.customer:
                return _page(link.locale, "invalid", status=404)
            if invoice.state in ("paid", "closed"):
                return _page(link.locale, "already_paid", tone="good")
            currency = invoice.amount.currency
        else:
            customer = await services.stripe.retrieve_customer(link.customer)
            currency = getattr(customer, "currency", None) or "eur"
        url = await recovery.start_card_collection(
            services.stripe,
            flow=settings.payment_method_flow,
            customer_id=link.customer,
            currency=currency,
            card_only=link.kind == "recover",
            done_url=f"{base}/done",
            cancel_url=f"{base}/cancel",
            locale=link.locale,
            metadata={"kind": link.kind, **({"invoice": link.invoice} if link.invoice else {})},
        )
    except NotFound:
        return _page(link.locale, "invalid", status=404)
    except StripeUnavailable:
        return _page(link.locale, "unavailable", status=503, retry_url=base)
    except BillingError as exc:
        log.error("payment link %s for %s: Stripe refused (%s)", link.kind, link.customer, exc.code)
        return _page(link.locale, "failed", status=502)
    return RedirectResponse(url, status_code=303, headers=_PRIVATE)


async def done(request: Request) -> Response:
    """Back from Stripe: make the new card the default and pay the open invoice with it."""
    services: Services = request.app.state.services
    settings = services.settings
    token = request.path_params["token"]
    link = _link_or_page(request, settings, token)
    if isinstance(link, Response):
        return link
    base = f"{settings.public_url}/l/{token}"
    session_id = request.query_params.get("session_id") or None
    try:
        previous = None
        if link.invoice and session_id is None:
            # Billing Portal: the new card is the customer's new default, not the one that failed.
            previous = (
                await recovery.load_invoice(services.stripe, link.invoice)
            ).payment_method_id
        pm_id = await recovery.collected_payment_method(
            services.stripe,
            customer_id=link.customer,
            session_id=session_id,
            previous_payment_method=previous,
        )
        if pm_id is None:
            return _page(link.locale, "incomplete", retry_url=base)
        result = await recovery.switch_to_payment_method(
            services.stripe,
            services.db,
            customer_id=link.customer,
            payment_method_id=pm_id,
            invoice_id=link.invoice,
            attempt_key=session_id or f"portal-{pm_id}",
            actor=Actor("customer", link.contact),
        )
    except NotFound:
        return _page(link.locale, "invalid", status=404)
    except StripeUnavailable:
        return _page(link.locale, "unavailable", status=503, retry_url=str(request.url))
    except BillingError as exc:
        log.error("payment link %s for %s: Stripe refused (%s)", link.kind, link.customer, exc.code)
        return _page(link.locale, "failed", status=502)
    finally:
        services.billing.invalidate(link.customer)
    log.info("payment link %s for %s: %s", link.kind, link.customer, result.kind)
    return _result_page(link, result, retry_url=base, reload_url=str(request.url))


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
            retry_label=t("page.use_card", locale),
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
        locale = exc.locale or _browser_locale(request, settings.customer_locale)
        if exc.status == 410:
            return _page(locale, "expired", status=410, hours=settings.link_max_age_hours)
        return _page(locale, "invalid", status=400)


def _browser_locale(request: Request, default: str) -> str:
    for part in request.headers.get("accept-language", "").split(","):
        language = part.split(";")[0].strip()[:2].lower()
        if language in ("de", "en"):
            return language
    return default


def _page(
    locale: str,
    outcome: str,
    *,
    status: int = 200,
    tone: str = "neutral",
    retry_url: str | None = None,
    retry_label: str | None = None,
    **values: Any,
) -> HTMLResponse:
    html = _pages.get_template("payment_link.html").render(
        lang=locale,
        tone=tone,
        t=lambda key, **kw: t(key, locale, **kw),
        title=t(f"page.{outcome}.title", locale),
        paragraphs=[t(f"page.{outcome}.body", locale, **values)],
        action_url=retry_url,
        action_label=retry_label or t("page.try_again", locale),
    )
    return HTMLResponse(html, status_code=status, headers=_PRIVATE)


routes = [
    Route("/l/{token}", start, methods=["GET"]),
    Route("/l/{token}/done", done, methods=["GET"]),
    Route("/l/{token}/cancel", cancel, methods=["GET"]),
]
