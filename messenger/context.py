"""Who a Messenger request is for: the context every handler gets (the verified request, the
card, what its `stored_data` carries), the Stripe customer it is about, and a payment link for
them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from billing.errors import AmbiguousCustomer, CustomerNotFound
from canvas_kit.request import CanvasRequest
from kernel.link_tokens import PaymentLink, payment_link_url
from kernel.logs import bind_customer
from kernel.services import Services
from storage.actions import Actor


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
    # The subscription the customer chose on a card that asked which one (several live ones);
    # honoured only among the customer's own subscriptions.
    subscription: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor("customer", self.request.identity.contact_id, self.request.conversation_id)

    @property
    def base_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"card": self.card}
        if self.hint:
            stored["customer_id"] = self.hint
        if self.subscription:
            stored["subscription_id"] = self.subscription
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


async def find_customer(ctx: MessengerContext, *, fresh: bool = False) -> Customer:
    resolution = await ctx.services.billing.resolve(ctx.request.identity, fresh=fresh)
    if not resolution.found:
        raise CustomerNotFound()
    chosen = resolution.by_id(ctx.hint) if ctx.hint else None
    chosen = chosen or resolution.preferred()
    if chosen is None:
        raise AmbiguousCustomer()
    bind_customer(chosen.id)
    return Customer(chosen, resolution.ambiguous)


def pay_link(ctx: MessengerContext, customer: Customer, invoice_id: str | None) -> str | None:
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
