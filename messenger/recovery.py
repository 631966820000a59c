"""The Messenger's payment-recovery card: the failed invoice, and "Retry payment".

"Retry payment" pays only the invoice, and the amount, that its card showed. A live canvas is
repainted from `content_url` on every view, and that answer can't update `stored_data`, so the
recovery card also names what it shows in its header's component id, signed so that it cannot
be edited on the way; a press is matched against the card as Intercom sends it back
(`current_canvas`), else against `stored_data`. If neither names the failed invoice as it is
now, the press shows the current state and pays nothing (`billing.retry.retry_shown_invoice`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from billing.failed_invoices import InvoiceRecovery
from billing.money import Money
from billing.retry import RetryResult, ShownInvoice, retry_shown_invoice
from canvas_kit.components import Component
from canvas_kit.request import CanvasRequest
from kernel.services import Services
from messenger import cards
from messenger.context import Customer, MessengerContext, find_customer, pay_link
from storage.actions import ActionStore

log = logging.getLogger(__name__)

SHOWN_SALT = "recovery-card"
SHOWN_PREFIX = "shown:"  # the recovery card's header id: "shown:<signed invoice and amount>"


def recovery_screen(
    ctx: MessengerContext,
    customer: Customer,
    invoice: InvoiceRecovery | None,
    result: RetryResult | None = None,
    *,
    subscription: str | None = None,
) -> list[Component]:
    """`subscription`: how to name the invoice's subscription, when the customer has several."""
    link = (
        pay_link(ctx, customer, invoice.invoice_id)
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
        subscription=subscription,
    )


async def retry_payment(ctx: MessengerContext) -> list[Component]:
    customer = await find_customer(ctx, fresh=True)
    if customer.ambiguous:
        return cards.ambiguous_card(locale=ctx.locale)
    shown = _unseal_shown(ctx.services, ctx.shown, customer_id=customer.id)
    try:
        result = await retry_shown_invoice(
            ctx.services.stripe,
            ActionStore(ctx.services.db),
            customer_id=customer.id,
            shown=shown,
            actor=ctx.actor,
            cooldown=timedelta(minutes=ctx.services.settings.retry_cooldown_minutes),
        )
    finally:
        ctx.services.billing.invalidate(customer.id)
    if result is None:
        ctx.shown = None
        return cards.recovery_card(None, locale=ctx.locale, pay_by_card_url=None)
    log.info(
        "messenger retry of %s for %s: %s", result.invoice.invoice_id, customer.id, result.kind
    )
    return recovery_screen(ctx, customer, result.invoice, result)


def _serializer(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services.settings.secret_key.get_secret_value(), salt=SHOWN_SALT)


def _seal_shown(services: Services, customer_id: str, invoice: InvoiceRecovery) -> str:
    return _serializer(services).dumps(
        [customer_id, invoice.invoice_id, invoice.amount.amount, invoice.amount.currency]
    )


def _unseal_shown(services: Services, sealed: Any, *, customer_id: str) -> ShownInvoice | None:
    """The signed (not expiring: it authorises nothing by itself) invoice a card showed this
    customer; None for anything else (unsigned, edited, or another customer's)."""
    if not isinstance(sealed, str):
        return None
    try:
        customer, invoice, amount, currency = _serializer(services).loads(sealed)
        shown = ShownInvoice(str(invoice), Money(int(amount), str(currency)))
    except (BadSignature, TypeError, ValueError):
        return None
    return shown if str(customer) == customer_id else None


def shown_by_request(request: CanvasRequest) -> str | None:
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
