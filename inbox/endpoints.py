"""The Inbox edge: Canvas Kit `initialize` and `submit` for the conversation sidebar, and the one
list of the sidebar's actions and buttons.

Flow: verify the signature → read who the contact is → resolve the Stripe customer (or let the
agent pick among several; the choice is kept in `stored_data`) → snapshot → card. Stripe failing
or slow answers with a "temporarily unavailable" card and a Retry button, within the render
budget, never an error page. Who may do what is explained in `inbox.sidebar`.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from billing.errors import BillingError, StripeUnavailable
from canvas_kit.components import canvas_response
from canvas_kit.request import CanvasRequest
from canvas_kit.signing import verified_json
from gateways.stripe_budget import time_budget
from inbox import cancellation, cards, documents, refunds, send_cards
from inbox.sidebar import (
    RENDER_BUDGET_SECONDS,
    ActionHandler,
    ButtonSource,
    InboxContext,
    SectionSource,
    kept,
    render,
    unavailable,
)
from kernel.services import Services

log = logging.getLogger(__name__)

# The sidebar's actions by component_id prefix, and the buttons under the summary in priority order.
ACTIONS: dict[str, ActionHandler] = {
    "send_card": send_cards.send_card,
    "retry_invoice": send_cards.ask_retry,
    "confirm_retry_invoice": send_cards.confirm_retry,
    "refund": refunds.refund_step,
    "send_document": documents.send_document,
    "cancel": cancellation.cancel_step,
    "resume": cancellation.resume_step,
}
SUMMARY_BUTTONS: tuple[ButtonSource, ...] = (
    send_cards.summary_buttons,
    refunds.refund_button,
    cancellation.cancellation_buttons,
    documents.document_buttons,
)
# The details view's sections beyond the snapshot, each loading its own (concurrently).
DETAILS_SECTIONS: tuple[SectionSource, ...] = (
    documents.invoices_section,
    documents.billing_details_section,
)


async def initialize(request: Request) -> JSONResponse:
    ctx = await _context(request)
    return JSONResponse(canvas_response(await render(ctx, view="summary")))


async def submit(request: Request) -> JSONResponse:
    ctx = await _context(request)
    component = ctx.request.component_id
    stored = ctx.stored
    if component == "retry":
        return JSONResponse(
            canvas_response(await render(ctx, view=stored.get("last_view"), fresh=True))
        )
    if component in ("details", "summary"):
        return JSONResponse(canvas_response(await render(ctx, view=component)))
    if component == "pick_other":
        return JSONResponse(canvas_response(await render(ctx, view="pick", forget_choice=True)))
    if component.startswith("pick:"):
        chosen = component.removeprefix("pick:")
        return JSONResponse(canvas_response(await render(ctx, view="summary", choose=chosen)))
    prefix, _, arg = component.partition(":")
    handler = ACTIONS.get(prefix)
    if handler is None:
        log.info("inbox submit with unknown component %r", component[:80])
        return JSONResponse(canvas_response(await render(ctx, view="summary")))
    try:
        async with time_budget(RENDER_BUDGET_SECONDS):
            return JSONResponse(await handler(ctx, arg))
    except (StripeUnavailable, TimeoutError):
        return JSONResponse(canvas_response(unavailable(ctx, "summary")))
    except BillingError as exc:
        # Stripe said no, or the customer changed under us: tell the agent, keep the context.
        log.info("inbox action %s refused: %s", prefix, exc.code)
        return JSONResponse(
            canvas_response(
                cards.problem_card(exc.message, locale=ctx.locale, stored_data=kept(ctx.stored))
            )
        )


async def _context(request: Request) -> InboxContext:
    services: Services = request.app.state.services
    body = await verified_json(request, services.settings.intercom_client_secret.get_secret_value())
    parsed = CanvasRequest.parse(body)
    stored = parsed.stored_data
    if not isinstance(stored.get("customer_id", ""), str):
        del stored["customer_id"]  # not one we wrote: choose again from the contact
    return InboxContext(
        services, parsed, services.settings.agent_locale, SUMMARY_BUTTONS, DETAILS_SECTIONS
    )


routes = [
    Route("/canvas/inbox/initialize", initialize, methods=["POST"]),
    Route("/canvas/inbox/submit", submit, methods=["POST"]),
]
