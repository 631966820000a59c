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
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from jinja2 import PackageLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from billing import recovery
from billing.errors import BillingError, NotFound, StripeUnavailable
from billing.recovery import CardSwitchResult
from canvas_kit.labels import plain_reason
from kernel.http import ClientError, read_body
from kernel.i18n import language, pick_locale, t, template_environment
from kernel.services import Services
from kernel.settings import Settings
from messenger.page_words import PAGE_WORDS
from storage.customer_actions import Actor
from storage.link_sessions import LinkSessions

log = logging.getLogger(__name__)

SALT = "payment-link"
# Stripe refused what the link asks for: the page says so. 424 Failed Dependency (RFC 4918), not
# a 5xx: nothing failed on our side, and trying the same link again won't change Stripe's mind.
FAILED_STATUS = 424
LinkKind = Literal["recover", "trial"]

_pages = PackageLoader("messenger", "templates")


@dataclass(frozen=True, slots=True)
class PaymentLink:
    customer: str
    invoice: str | None
    kind: LinkKind
    locale: str
    contact: str | None = None  # the Intercom contact it was made for (audit only)
    payment_method: str | None = None  # the customer's default payment method when made
    # When the token was signed (itsdangerous' signed timestamp; not part of the payload).
    issued_at: datetime | None = field(default=None, compare=False)


class LinkRejected(Exception):
    """The token is not one we signed (status 400) or has expired (410)."""

    def __init__(self, status: int, locale: str | None) -> None:
        super().__init__(status)
        self.status = status
        self.locale = locale


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=SALT)


def payment_link_url(settings: Settings, link: PaymentLink) -> str:
    payload = asdict(link)
    del payload["issued_at"]
    token = _serializer(settings).dumps(payload)
    return f"{settings.public_url}/l/{token}"


def read_link(settings: Settings, token: str) -> PaymentLink:
    serializer = _serializer(settings)
    try:
        data, issued_at = serializer.loads(
            token, max_age=settings.link_max_age_hours * 3600, return_timestamp=True
        )
    except SignatureExpired as exc:
        # The signature was ours, only too old: its language is still worth honouring.
        payload = serializer.load_payload(exc.payload) if exc.payload is not None else None
        locale = payload.get("locale") if isinstance(payload, dict) else None
        raise LinkRejected(410, locale if isinstance(locale, str) else None) from None
    except BadSignature:
        raise LinkRejected(400, None) from None
    if not _well_formed(data):
        # Signed with our key, but not a link we make (another version, or a bug): refuse.
        raise LinkRejected(400, None)
    return PaymentLink(
        customer=data["customer"],
        invoice=data.get("invoice") or None,
        kind=data["kind"],
        locale=pick_locale(data.get("locale"), "en", german_address=settings.german_address),
        contact=data.get("contact"),
        payment_method=data.get("payment_method") or None,
        issued_at=issued_at,
    )


def _well_formed(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("kind") not in ("recover", "trial"):
        return False
    customer = data.get("customer")
    if not isinstance(customer, str) or not customer:
        return False
    optional = ("invoice", "contact", "payment_method")
    return all(isinstance(data.get(key), str | None) for key in optional)


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
    flow = settings.payment_method_flow
    link_id = hashlib.sha256(token.encode()).hexdigest()
    sessions = LinkSessions(services.db)
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
        # The page this link opened before, while the customer can still use it.
        earlier = await sessions.get(link_id)
        if earlier is not None and earlier.flow == flow:
            reused = await recovery.open_collection_page(
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
        page = await recovery.start_card_collection(
            services.stripe,
            flow=flow,
            customer_id=link.customer,
            currency=currency,
            card_only=link.kind == "recover",
            done_url=f"{base}/done",
            cancel_url=f"{base}/cancel",
            locale=language(link.locale),
            metadata=recovery.collection_metadata(link.kind, link.invoice),
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
    base = f"{settings.public_url}/l/{token}"
    session_id = request.query_params.get("session_id") or None
    if session_id is None and settings.payment_method_flow == "checkout":
        # No Checkout session, no proof of a new card: nothing is read, saved or charged.
        return _page(link.locale, "incomplete", status=400, retry_url=base)
    try:
        if session_id is not None:
            pm_id = await recovery.collected_payment_method(
                services.stripe,
                customer_id=link.customer,
                session_id=session_id,
                kind=link.kind,
                invoice_id=link.invoice,
            )
            attempt_key = session_id
        else:
            answer = await _portal_card(request, services, link, base)
            if isinstance(answer, Response):
                return answer
            pm_id, attempt_key = answer, f"portal-{answer}"
        if pm_id is None:
            return _page(link.locale, "incomplete", retry_url=base)
        result = await recovery.switch_to_payment_method(
            services.stripe,
            services.db,
            customer_id=link.customer,
            payment_method_id=pm_id,
            invoice_id=link.invoice,
            attempt_key=attempt_key,
            actor=Actor("customer", link.contact),
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
    log.info("payment link %s for %s: %s", link.kind, link.customer, result.kind)
    return _result_page(link, result, retry_url=base, reload_url=str(request.url))


async def _portal_card(
    request: Request, services: Services, link: PaymentLink, base: str
) -> str | None | Response:
    """Billing Portal: the new card's id once the customer confirmed paying with it (a POST of
    the confirmation form), the confirmation page for a GET, or None (no new card)."""
    invoice = await recovery.load_invoice(services.stripe, link.invoice) if link.invoice else None
    if invoice is not None and invoice.customer_id != link.customer:
        raise NotFound("No such invoice for this customer.")
    if invoice is not None and invoice.state in ("paid", "closed"):
        return _page(link.locale, "already_paid", tone="good")
    if link.issued_at is None:
        return None
    card = await recovery.portal_payment_method(
        services.stripe,
        customer_id=link.customer,
        issued_at=link.issued_at,
        excluded=(link.payment_method, invoice.payment_method_id if invoice else None),
    )
    if card is None or invoice is None:
        return card.id if card is not None else None  # a trial link saves the card, no payment
    if request.method != "POST":
        method = _method_label(card)
        amount = invoice.amount.format(link.locale)
        return _page(
            link.locale,
            "confirm",
            amount=amount,
            number=invoice.number or invoice.invoice_id,
            method=method,
            form_url=f"{base}/done",
            form_label=t(
                "Pay %(amount)s with %(method)s", link.locale, amount=amount, method=method
            ),
            form_fields={"payment_method": card.id},
        )
    try:
        form = dict(parse_qsl((await read_body(request, limit=4096)).decode("utf-8", "replace")))
    except ClientError:
        form = {}
    if form.get("payment_method") != card.id:
        return None  # confirmed another card than the current new default: start over
    return card.id


def _method_label(card: recovery.NewPaymentMethod) -> str:
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
