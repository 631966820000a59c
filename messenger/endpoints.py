"""The Messenger edge: Canvas Kit `configure`, `initialize`, the live-canvas `content` URL and
`submit` for the customer-facing billing cards (PRODUCT.md §2).

- configure: an admin picks the card; we answer with `results` {"card": ...}.
- initialize: a live canvas (`content_url`, plus `content` as the first paint, which the 2.11
  contract requires), so a card placed by a Workflow or an outbound message shows the viewing
  customer's own, current data every time it is opened.
- submit: the buttons (retry, show me, switch, confirm, refresh).

Only a contact with role `user` sees billing or moves money (`billing.trust`): for a lead or a
visitor every flow — initialize, the live canvas, every submit — answers with a friendly "sign in"
card before anything else happens (no Stripe call, no link, nothing in `stored_data` that names a
customer). The customer is always the signed request's contact (§1.3). `stored_data` carries only the card
type, the customer an agent picked (honoured only among the contact's own matches), while a
switch is being confirmed the quote, and on a recovery card the invoice and amount it shows —
the last two signed so that they cannot be edited on the way.

"Retry payment" pays only the invoice, and the amount, that its card showed. A live canvas is
repainted from `content_url` on every view, and that answer can't update `stored_data`, so the
recovery card also names what it shows in its header's component id; a press is matched against
the card as Intercom sends it back (`current_canvas`), else against `stored_data`. If neither
names the failed invoice as it is now, the press shows the current state and pays nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from billing import recovery, savings
from billing.errors import (
    AmbiguousCustomer,
    BillingError,
    CustomerNotFound,
    NotFound,
    StripeRejected,
    StripeUnavailable,
)
from billing.money import Money
from billing.quotes import (
    NoSubscription,
    NotAnUpgrade,
    PlanChangeQuote,
    PlanNotFound,
    quote_plan_change,
)
from billing.recovery import InvoiceRecovery
from billing.snapshot import BillingSnapshot
from billing.trust import messenger_may_see_billing
from canvas_kit.components import (
    Canvas,
    Component,
    Content,
    canvas,
    canvas_response,
    content_response,
    results_response,
)
from canvas_kit.request import CanvasRequest
from canvas_kit.signing import verified_json
from gateways.stripe import time_budget, wait_budget
from kernel.i18n import t
from kernel.logs import bind_customer
from kernel.services import Services
from messenger import cards
from messenger.links import PaymentLink, payment_link_url
from storage.customer_actions import Actor

log = logging.getLogger(__name__)

RENDER_BUDGET_SECONDS = 8.0  # Intercom gives up on slow apps; answer well within 10 s
# A money action answers "processing" after this long and goes on in the background.
MONEY_ANSWER_SECONDS = 7.5
QUOTE_SALT = "plan-quote"
SHOWN_SALT = "recovery-card"
SHOWN_PREFIX = "shown:"  # the recovery card's header id: "shown:<signed invoice and amount>"
CONTENT_PATH = "/canvas/messenger/content"


# --- who, and what ---
@dataclass
class MessengerContext:
    services: Services
    request: CanvasRequest
    locale: str
    card: str
    hint: str | None = None  # a customer id an agent picked when sending the card
    stored: dict[str, Any] = field(default_factory=dict)
    # The signed invoice and amount a recovery card shows: what the pressed card showed, then
    # what the card we answer with shows.
    shown: str | None = None
    # A verified contact (role `user`): only then is any customer looked up (billing.trust).
    trusted: bool = False

    @property
    def actor(self) -> Actor:
        return Actor("customer", self.request.identity.contact_id, self.request.conversation_id)

    @property
    def base_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"card": self.card}
        if self.hint:
            stored["customer_id"] = self.hint
        return stored

    @property
    def answer_stored(self) -> dict[str, Any]:
        """`stored_data` of a submit answer: the base, and the invoice the card shows."""
        stored = self.base_stored
        if self.shown:
            stored["shown"] = self.shown
        return stored


@dataclass(frozen=True, slots=True)
class Customer:
    stripe: Any  # stripe.Customer (expanded as resolution retrieves it)
    ambiguous: bool  # several Stripe customers match: look, but don't move money

    @property
    def id(self) -> str:
        return str(self.stripe.id)


async def _customer(ctx: MessengerContext, *, fresh: bool = False) -> Customer:
    resolution = await ctx.services.billing.resolve(ctx.request.identity, fresh=fresh)
    if not resolution.found:
        raise CustomerNotFound()
    chosen = resolution.by_id(ctx.hint) if ctx.hint else None
    chosen = chosen or resolution.preferred()
    if chosen is None:
        raise AmbiguousCustomer()
    bind_customer(chosen.id)
    return Customer(chosen, resolution.ambiguous)


def _pay_link(ctx: MessengerContext, customer: Customer, invoice_id: str | None) -> str | None:
    if customer.ambiguous:
        return None  # money never moves while the match is ambiguous
    settings = customer.stripe.invoice_settings
    default = settings.default_payment_method if settings else None
    link = PaymentLink(
        customer=customer.id,
        invoice=invoice_id,
        kind="recover" if invoice_id else "trial",
        locale=ctx.locale,
        contact=ctx.request.identity.contact_id,
        # Billing Portal returns prove nothing by themselves: only a default other than this
        # one, added after the link was made, may pay (messenger/links.py).
        payment_method=default if isinstance(default, str) or default is None else default.id,
    )
    return payment_link_url(ctx.services.settings, link)


# --- the cards' first screens ---
async def home(ctx: MessengerContext, *, fresh: bool = False) -> list[Component]:
    customer = await _customer(ctx, fresh=fresh)
    snapshot = await ctx.services.billing.snapshot(customer.stripe, fresh=fresh)
    now = datetime.now(UTC)
    if ctx.card == "savings":
        option = savings.best_for(snapshot, await ctx.services.savings_catalogue())
        return cards.savings_card(snapshot, option, locale=ctx.locale)
    if ctx.card == "payment_recovery":
        failed = snapshot.failed_invoice
        invoice = await recovery.load_invoice(ctx.services.stripe, failed.id) if failed else None
        return _recovery(ctx, customer, invoice)
    trial_link = _trial_link(ctx, customer, snapshot)
    if ctx.card == "trial":
        return cards.trial_card(
            snapshot,
            locale=ctx.locale,
            now=now,
            add_payment_method_url=trial_link,
            ambiguous=customer.ambiguous,
        )
    return cards.billing_status_card(
        snapshot,
        locale=ctx.locale,
        now=now,
        add_payment_method_url=trial_link,
        trial_warning_days=ctx.services.settings.trial_warning_days,
    )


def _recovery(
    ctx: MessengerContext,
    customer: Customer,
    invoice: InvoiceRecovery | None,
    result: recovery.RetryResult | None = None,
) -> list[Component]:
    link = (
        _pay_link(ctx, customer, invoice.invoice_id)
        if invoice is not None and invoice.state == "failed"
        else None
    )
    shows = invoice is not None and invoice.state in ("failed", "processing")
    ctx.shown = _seal_shown(ctx.services, customer.id, invoice) if shows and invoice else None
    return cards.recovery_card(
        invoice,
        locale=ctx.locale,
        pay_by_card_url=link,
        result=result,
        ambiguous=customer.ambiguous,
        shown_id=f"{SHOWN_PREFIX}{ctx.shown}" if ctx.shown else None,
    )


def _trial_link(ctx: MessengerContext, customer: Customer, snapshot: BillingSnapshot) -> str | None:
    sub = snapshot.subscription
    if sub is None or sub.status != "trialing" or snapshot.payment_method is not None:
        return None
    return _pay_link(ctx, customer, None)


# --- actions ---
async def retry_payment(ctx: MessengerContext) -> list[Component]:
    customer = await _customer(ctx, fresh=True)
    if customer.ambiguous:
        return cards.ambiguous_card(locale=ctx.locale)
    gateway = ctx.services.stripe
    invoice_id = await recovery.failed_invoice_id(gateway, customer.id)
    if invoice_id is None:
        ctx.shown = None
        return cards.recovery_card(None, locale=ctx.locale, pay_by_card_url=None)
    shown = _unseal_shown(ctx.services, ctx.shown)
    if shown is None or shown.customer != customer.id or shown.invoice != invoice_id:
        # The card showed another invoice (or nothing we signed): show this one, pay nothing.
        current = await recovery.load_invoice(gateway, invoice_id)
        log.info("messenger retry for %s: card showed another invoice", customer.id)
        return _recovery(ctx, customer, current, recovery.RetryResult("changed", current))
    try:
        result = await recovery.retry_invoice(
            gateway,
            ctx.services.db,
            invoice_id=invoice_id,
            customer_id=customer.id,
            actor=ctx.actor,
            cooldown=timedelta(minutes=ctx.services.settings.retry_cooldown_minutes),
            expected_amount=shown.amount,
        )
    finally:
        ctx.services.billing.invalidate(customer.id)
    log.info("messenger retry of %s for %s: %s", invoice_id, customer.id, result.kind)
    return _recovery(ctx, customer, result.invoice, result)


def _switchable(snapshot: BillingSnapshot) -> bool:
    """Plans change only on an active or trialing subscription (none that owes money)."""
    sub = snapshot.subscription
    return sub is not None and sub.status in recovery.SWITCHABLE_STATUSES


async def show_savings(ctx: MessengerContext) -> list[Component]:
    customer = await _customer(ctx)
    snapshot = await ctx.services.billing.snapshot(customer.stripe)
    option = savings.best_for(snapshot, await ctx.services.savings_catalogue())
    if option is None or not _switchable(snapshot):
        return cards.savings_card(snapshot, None, locale=ctx.locale)
    return cards.savings_breakdown_card(option, locale=ctx.locale)


async def switch_plan(ctx: MessengerContext, *, notice: str | None = None) -> list[Component]:
    customer = await _customer(ctx, fresh=True)
    if customer.ambiguous:
        return cards.ambiguous_card(locale=ctx.locale)
    snapshot = await ctx.services.billing.snapshot(customer.stripe, fresh=True)
    option = savings.best_for(snapshot, await ctx.services.savings_catalogue())
    if option is None or not _switchable(snapshot):
        return cards.savings_card(snapshot, None, locale=ctx.locale)
    try:
        quote = await quote_plan_change(
            ctx.services.stripe, customer.id, snapshot.subscription, option.target.as_target()
        )
    except (NoSubscription, NotAnUpgrade, PlanNotFound, StripeRejected) as exc:
        # Stripe or the catalogue disagree with our arithmetic: offer nothing rather than guess.
        log.info("no quote for %s: %s", customer.id, exc.code)
        return cards.savings_card(snapshot, None, locale=ctx.locale)
    ctx.stored["quote"] = _seal(ctx.services, quote)
    return cards.quote_card(quote, locale=ctx.locale, notice=notice)


async def confirm_switch(ctx: MessengerContext) -> list[Component]:
    sealed = ctx.stored.pop("quote", None)
    try:
        quote_id, quote = _unseal(ctx.services, sealed)
    except SignatureExpired:
        return await switch_plan(
            ctx, notice=t("That quote had expired, so here is a fresh one.", ctx.locale)
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        log.warning("messenger confirm with an invalid quote")
        return await home(ctx, fresh=True)
    customer = await _customer(ctx, fresh=True)
    if customer.ambiguous:
        return cards.ambiguous_card(locale=ctx.locale)
    if customer.id != quote.customer_id:
        # A quote made for someone else: never apply it for this contact.
        return await home(ctx, fresh=True)
    try:
        result = await recovery.confirm_plan_change(
            ctx.services.stripe, ctx.services.db, quote, quote_id=quote_id, actor=ctx.actor
        )
    finally:
        ctx.services.billing.invalidate(customer.id)
    log.info("messenger plan switch for %s: %s", customer.id, result.kind)
    if result.kind in ("unavailable", "in_progress"):
        ctx.stored["quote"] = sealed  # still valid: "Try again" confirms the same quote
    return cards.switch_result_card(result, locale=ctx.locale)


def _serializer(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services.settings.secret_key.get_secret_value(), salt=QUOTE_SALT)


def _seal(services: Services, quote: PlanChangeQuote) -> str:
    payload = {"id": uuid.uuid4().hex, "quote": recovery.quote_to_data(quote)}
    return _serializer(services).dumps(payload)


@dataclass(frozen=True, slots=True)
class ShownInvoice:
    """What a recovery card showed: whose invoice, which, and how much."""

    customer: str
    invoice: str
    amount: Money


def _seal_shown(services: Services, customer_id: str, invoice: InvoiceRecovery) -> str:
    serializer = URLSafeTimedSerializer(
        services.settings.secret_key.get_secret_value(), salt=SHOWN_SALT
    )
    return serializer.dumps(
        [customer_id, invoice.invoice_id, invoice.amount.amount, invoice.amount.currency]
    )


def _unseal_shown(services: Services, sealed: Any) -> ShownInvoice | None:
    """The signed (not expiring: it authorises nothing by itself) invoice a card showed."""
    if not isinstance(sealed, str):
        return None
    serializer = URLSafeTimedSerializer(
        services.settings.secret_key.get_secret_value(), salt=SHOWN_SALT
    )
    try:
        customer, invoice, amount, currency = serializer.loads(sealed)
        return ShownInvoice(str(customer), str(invoice), Money(int(amount), str(currency)))
    except (BadSignature, TypeError, ValueError):
        return None


def _shown_by_request(request: CanvasRequest) -> str | None:
    """The seal of the invoice the pressed card showed: from the card's own components as
    Intercom sends them back (a live canvas repaints those on every view), else `stored_data`."""
    for key in ("current_canvas", "canvas"):
        canvas = request.raw.get(key)
        canvas = canvas.get("current_canvas", canvas) if isinstance(canvas, dict) else None
        content = canvas.get("content") if isinstance(canvas, dict) else None
        components = content.get("components") if isinstance(content, dict) else None
        for component in components if isinstance(components, list) else []:
            component_id = component.get("id") if isinstance(component, dict) else None
            if isinstance(component_id, str) and component_id.startswith(SHOWN_PREFIX):
                return component_id.removeprefix(SHOWN_PREFIX)
    sealed = request.stored_data.get("shown")
    return sealed if isinstance(sealed, str) else None


def _unseal(services: Services, sealed: Any) -> tuple[str, PlanChangeQuote]:
    if not isinstance(sealed, str):
        raise BadSignature("no quote")
    payload = _serializer(services).loads(
        sealed, max_age=services.settings.confirmation_token_seconds
    )
    return str(payload["id"]), recovery.quote_from_data(payload["quote"])


# --- the endpoints ---
async def configure(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    body = await verified_json(request, services.settings.intercom_client_secret.get_secret_value())
    req = CanvasRequest.parse(body)
    card = req.component_id.removeprefix("card:")
    if req.component_id.startswith("card:") and card in cards.CARD_TYPES:
        return JSONResponse(results_response({"card": card}))
    # The configure screen is an admin's: their language, not the Messenger's.
    locale = services.settings.agent_locale
    return JSONResponse(canvas_response(canvas(*cards.configure_card(locale))))


async def initialize(request: Request) -> JSONResponse:
    ctx = await _context(request, request_options=True)
    components = await _render(ctx, home)
    # A card placed by a Workflow is initialized when it is created, long before it is seen:
    # its stored_data stays the creation options, and what a recovery card shows is named in
    # the (repainted) components instead.
    live = Canvas(
        content=Content(components=components),
        content_url=f"{ctx.services.settings.public_url}{CONTENT_PATH}",
        stored_data=ctx.base_stored,
    )
    return JSONResponse(canvas_response(live))


async def content(request: Request) -> JSONResponse:
    ctx = await _context(request)
    return JSONResponse(content_response(await _render(ctx, home)))


SUBMIT_ACTIONS: dict[str, Callable[[MessengerContext], Awaitable[list[Component]]]] = {
    "retry_payment": retry_payment,
    "show_savings": show_savings,
    "switch_plan": switch_plan,
    "confirm_switch": confirm_switch,
}
# Actions that move money run to the end even when slow: cutting them off could leave the
# customer told "nothing was charged" about a payment Stripe is still making.
MONEY_ACTIONS = {"retry_payment", "confirm_switch"}
QUOTE_ACTIONS = {"switch_plan", "confirm_switch"}  # the ones that show (or keep) a signed quote


async def submit(request: Request) -> JSONResponse:
    ctx = await _context(request)
    component = ctx.request.component_id
    if component.startswith("show:") and component.removeprefix("show:") in cards.CARD_TYPES:
        ctx.card = component.removeprefix("show:")
    action = SUBMIT_ACTIONS.get(component)
    if action is None:
        # refresh, back, show:<card>, or a button of an older card: the card's current state.
        components = await _render(ctx, lambda c: home(c, fresh=True))
        live = Canvas(
            content=Content(components=components),
            content_url=f"{ctx.services.settings.public_url}{CONTENT_PATH}",
            stored_data=ctx.answer_stored,
        )
        return JSONResponse(canvas_response(live))
    if component in MONEY_ACTIONS:
        finished = await _money_action(ctx, action)
        if finished is None:
            # Still running: say so now; the live canvas shows the outcome on the next view.
            live = Canvas(
                content=Content(components=cards.working_card(locale=ctx.locale)),
                content_url=f"{ctx.services.settings.public_url}{CONTENT_PATH}",
                stored_data=ctx.base_stored,
            )
            return JSONResponse(canvas_response(live))
        components = finished
    else:
        components = await _render(ctx, action)
    stored = ctx.answer_stored
    if component in QUOTE_ACTIONS and "quote" in ctx.stored:
        stored["quote"] = ctx.stored["quote"]  # the quote on screen, for Confirm / Try again
    return JSONResponse(canvas_response(canvas(*components, stored_data=stored)))


async def _money_action(
    ctx: MessengerContext, action: Callable[[MessengerContext], Awaitable[list[Component]]]
) -> list[Component] | None:
    """Run a money action to its end, whatever happens to this request (cutting it off could
    leave the customer told "nothing was charged" about a payment Stripe is still making), but
    answer within Intercom's patience: its card, or None while it is still running."""
    work = ctx.services.hold(_render(ctx, action, budget=False))
    try:
        return await asyncio.wait_for(asyncio.shield(work), MONEY_ANSWER_SECONDS)
    except TimeoutError:
        log.info(
            "messenger %s still running after %.0f s",
            ctx.request.component_id,
            MONEY_ANSWER_SECONDS,
        )
        return None


async def _render(
    ctx: MessengerContext,
    build: Callable[[MessengerContext], Awaitable[list[Component]]],
    *,
    budget: bool = True,
) -> list[Component]:
    """Build a card; who-is-it problems and Stripe being away become friendly cards. A contact
    that isn't a verified user gets the "sign in" card, and nothing is built or looked up."""
    if not ctx.trusted:
        return cards.sign_in_card(locale=ctx.locale)
    try:
        if budget:
            async with time_budget(RENDER_BUDGET_SECONDS):
                return await build(ctx)
        with wait_budget(RENDER_BUDGET_SECONDS):  # money moves uncancelled; 429 waits bounded
            return await build(ctx)
    except CustomerNotFound:
        return cards.no_match_card(locale=ctx.locale)
    except AmbiguousCustomer:
        return cards.ambiguous_card(locale=ctx.locale)
    except NotFound:
        return cards.no_match_card(locale=ctx.locale)
    except (StripeUnavailable, TimeoutError) as exc:
        log.warning("messenger %s without Stripe: %s", ctx.card, type(exc).__name__)
        retry_id = (
            ctx.request.component_id if ctx.request.component_id in MONEY_ACTIONS else "refresh"
        )
        return cards.unavailable_card(locale=ctx.locale, retry_id=retry_id)
    except BillingError as exc:
        log.warning("messenger %s: Stripe refused a read (%s)", ctx.card, exc.code)
        return cards.unavailable_card(locale=ctx.locale)


async def _context(request: Request, *, request_options: bool = False) -> MessengerContext:
    services: Services = request.app.state.services
    body = await verified_json(request, services.settings.intercom_client_secret.get_secret_value())
    req = CanvasRequest.parse(body)
    source = req.card_creation_options if request_options else req.stored_data
    card = source.get("card")
    hint = source.get("customer_id")
    ctx = MessengerContext(
        services=services,
        request=req,
        locale=req.locale(
            services.settings.customer_locale, german_address=services.settings.german_address
        ),
        card=card if card in cards.CARD_TYPES else "billing_status",
        hint=hint if isinstance(hint, str) and hint else None,
        stored=dict(req.stored_data),
        shown=_shown_by_request(req),
        trusted=messenger_may_see_billing(req.people),
    )
    if not ctx.trusted:
        # Keep only the card type: no customer id, quote or invoice seal goes back to a lead.
        ctx.hint, ctx.stored, ctx.shown = None, {}, None
        log.info(
            "messenger %s for an unverified contact %s (roles %s): sign-in card",
            ctx.card,
            req.identity.contact_id,
            ",".join(role or "none" for _id, role in req.people) or "none",
        )
    return ctx


routes = [
    Route("/canvas/messenger/configure", configure, methods=["POST"]),
    Route("/canvas/messenger/initialize", initialize, methods=["POST"]),
    Route(CONTENT_PATH, content, methods=["POST"]),
    Route("/canvas/messenger/submit", submit, methods=["POST"]),
]
