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
customer). The customer is always the signed request's contact (§1.3). `stored_data` carries
only the card type, the customer an agent picked (honoured only among the contact's own matches), while a
switch is being confirmed the quote, while a cancel-card choice is being confirmed its confirmation
token (`billing.cancellation_tokens`), on a recovery card the invoice and amount it shows —
the last two signed so that they cannot be edited on the way — and the subscription a customer
with several picked on a card that asked which (looked up only among their own)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from billing.errors import (
    AmbiguousCustomer,
    BillingError,
    CustomerNotFound,
    NotFound,
    StripeUnavailable,
)
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
from gateways.stripe_budget import time_budget, wait_budget
from kernel.services import Services
from messenger import cards
from messenger.cancel import TOKEN_KEY, choose_offer, confirm_cancel, pick_subscription
from messenger.context import MessengerContext
from messenger.home import home
from messenger.recovery import retry_payment, shown_by_request
from messenger.switch import confirm_switch, show_savings, switch_plan

log = logging.getLogger(__name__)

RENDER_BUDGET_SECONDS = 8.0  # Intercom gives up on slow apps; answer well within 10 s
# A money action answers "processing" after this long and goes on in the background.
MONEY_ANSWER_SECONDS = 7.5
CONTENT_PATH = "/canvas/messenger/content"


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
    "confirm_cancel": confirm_cancel,
}
# Buttons named `<prefix>:<argument>` (the cancel card's subscription and offer).
PREFIX_ACTIONS: dict[str, Callable[[MessengerContext], Awaitable[list[Component]]]] = {
    "cancel_pick": pick_subscription,
    "cancel_offer": choose_offer,
}
# Actions that move money run to the end even when slow: cutting them off could leave the
# customer told "nothing was charged" about a payment Stripe is still making.
MONEY_ACTIONS = {"retry_payment", "confirm_switch", "confirm_cancel"}
QUOTE_ACTIONS = {"switch_plan", "confirm_switch"}  # the ones that show (or keep) a signed quote
CANCEL_TOKEN_ACTIONS = {"cancel_offer", "confirm_cancel"}  # ... or a cancellation token


async def submit(request: Request) -> JSONResponse:
    ctx = await _context(request)
    component = ctx.request.component_id
    if component.startswith("show:") and component.removeprefix("show:") in cards.CARD_TYPES:
        ctx.card = component.removeprefix("show:")
    if component.startswith(cards.CHOOSE_SUBSCRIPTION):
        # A subscription picked on a card that asked which one ("" asks again).
        ctx.subscription = _subscription_id(component.removeprefix(cards.CHOOSE_SUBSCRIPTION))
    action = SUBMIT_ACTIONS.get(component) or PREFIX_ACTIONS.get(component.partition(":")[0])
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
    if component.partition(":")[0] in CANCEL_TOKEN_ACTIONS and TOKEN_KEY in ctx.stored:
        stored[TOKEN_KEY] = ctx.stored[TOKEN_KEY]  # the offer on screen, for Confirm
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
    chosen = req.stored_data.get("subscription_id")
    ctx = MessengerContext(
        services=services,
        request=req,
        locale=req.locale(
            services.settings.customer_locale, german_address=services.settings.german_address
        ),
        card=card if card in cards.CARD_TYPES else "billing_status",
        hint=hint if isinstance(hint, str) and hint else None,
        stored=dict(req.stored_data),
        shown=shown_by_request(req),
        trusted=messenger_may_see_billing(req.people),
        subscription=_subscription_id(chosen),
    )
    if not ctx.trusted:
        # Keep only the card type: no customer id, quote or invoice seal goes back to a lead.
        ctx.hint, ctx.stored, ctx.shown, ctx.subscription = None, {}, None, None
        log.info(
            "messenger %s for an unverified contact %s (roles %s): sign-in card",
            ctx.card,
            req.identity.contact_id,
            ",".join(role or "none" for _id, role in req.people) or "none",
        )
    return ctx


def _subscription_id(value: object) -> str | None:
    """A subscription id as the client sent it back, if it looks like one (it is only ever
    looked up among the customer's own subscriptions)."""
    if isinstance(value, str) and value.startswith("sub_") and len(value) <= 100:
        return value
    return None


routes = [
    Route("/canvas/messenger/configure", configure, methods=["POST"]),
    Route("/canvas/messenger/initialize", initialize, methods=["POST"]),
    Route(CONTENT_PATH, content, methods=["POST"]),
    Route("/canvas/messenger/submit", submit, methods=["POST"]),
]
