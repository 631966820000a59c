"""The Stripe-hosted pages that collect a payment method (Checkout in setup mode, or the Billing
Portal's payment-method flow), reusing one while the customer can still use it, and what came
back from them: the payment method the customer just added, proven to be theirs and new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from billing.errors import NotFound
from billing.money import to_datetime
from gateways.stripe import StripeGateway, id_of

# Stripe gives a Billing Portal session no status; its URL is short-lived (minutes) and expires
# unless visited. A link reuses it within this time of its creation.
PORTAL_SESSION_REUSE = timedelta(minutes=4)
# A Checkout Session is reused only with this much of its life left (the customer needs time).
CHECKOUT_REUSE_MARGIN = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class CollectionPage:
    """A Stripe-hosted page that collects a payment method, and until when it may be reused."""

    url: str
    session_id: str | None
    reusable_until: datetime


async def start_card_collection(
    gateway: StripeGateway,
    *,
    flow: Literal["checkout", "portal"],
    customer_id: str,
    currency: str,
    card_only: bool,
    done_url: str,
    cancel_url: str,
    locale: str,
    metadata: dict[str, str],
) -> CollectionPage:
    """A Stripe-hosted page that collects a payment method: Checkout in setup mode, or the
    Billing Portal's payment-method flow."""
    if flow == "portal":
        session = await gateway.create_portal_session(
            {
                "customer": customer_id,
                "return_url": cancel_url,
                "locale": locale,
                "flow_data": {
                    "type": "payment_method_update",
                    "after_completion": {"type": "redirect", "redirect": {"return_url": done_url}},
                },
            }
        )
        created = to_datetime(session.created) or datetime.now(UTC)
        return CollectionPage(str(session.url), session.id, created + PORTAL_SESSION_REUSE)
    params: dict[str, Any] = {
        "mode": "setup",
        "customer": customer_id,
        # endive removed `payment_method_types`; setup mode needs `currency` (or an allow-list).
        "currency": currency,
        "success_url": f"{done_url}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": cancel_url,
        "locale": locale,
        "metadata": metadata,
        "setup_intent_data": {"metadata": metadata},
    }
    if card_only:
        params["allowed_payment_method_types"] = ["card"]
    session = await gateway.create_checkout_session(params)
    expires = to_datetime(session.expires_at) or datetime.now(UTC) + timedelta(hours=24)
    return CollectionPage(str(session.url), session.id, expires - CHECKOUT_REUSE_MARGIN)


async def open_collection_page(
    gateway: StripeGateway,
    *,
    flow: Literal["checkout", "portal"],
    session_id: str | None,
    url: str | None,
    reusable_until: datetime | None,
    now: datetime | None = None,
) -> str | None:
    """The URL of a hosted page a link opened earlier, if the customer can still use it: a
    Checkout Session that Stripe says is `open` (not complete or expired), or a Billing Portal
    session within `PORTAL_SESSION_REUSE` of its creation. None: open a new one."""
    now = now or datetime.now(UTC)
    if url is None or reusable_until is None or now >= reusable_until:
        return None
    if flow == "portal":
        return url
    if session_id is None:
        return None
    try:
        session = await gateway.retrieve_checkout_session(session_id)
    except NotFound:
        return None
    if session.status != "open" or not session.url:
        return None
    return str(session.url)


def collection_metadata(kind: str, invoice_id: str | None) -> dict[str, str]:
    """What a Checkout session we start carries, so its return can be matched to its link."""
    return {"kind": kind, **({"invoice": invoice_id} if invoice_id else {})}


async def collected_payment_method(
    gateway: StripeGateway,
    *,
    customer_id: str,
    session_id: str,
    kind: str,
    invoice_id: str | None,
) -> str | None:
    """The payment method the customer just added in Checkout: from a complete session of this
    customer that we started for this very link (kind and invoice, `collection_metadata`).
    None while the session isn't complete; NotFound for anyone else's session."""
    session = await gateway.retrieve_checkout_session(session_id)
    if id_of(session.customer) != customer_id:
        raise NotFound("This checkout session belongs to someone else.")
    metadata = session.metadata.to_dict() if session.metadata else {}
    if metadata.get("kind") != kind or (metadata.get("invoice") or None) != invoice_id:
        raise NotFound("This checkout session was started for something else.")
    intent = session.setup_intent
    if session.status != "complete" or intent is None or isinstance(intent, str):
        return None
    return id_of(intent.payment_method)


@dataclass(frozen=True, slots=True)
class NewPaymentMethod:
    """A payment method the customer added through the Billing Portal."""

    id: str
    type: str
    brand: str | None
    last4: str | None


async def portal_payment_method(
    gateway: StripeGateway,
    *,
    customer_id: str,
    issued_at: datetime,
    excluded: tuple[str | None, ...],
) -> NewPaymentMethod | None:
    """The Billing Portal leaves no session to show for itself, only the customer's new
    default payment method. It counts only if it is not one of `excluded` (the default when
    the link was issued, the one that failed) and was created since the link was issued
    (Stripe's `created` has whole seconds, hence "since", not "after"). Otherwise None: the
    customer hasn't added anything through this link, and nothing may be charged."""
    customer = await gateway.retrieve_customer(customer_id)
    settings = customer.invoice_settings
    pm_id = id_of(settings.default_payment_method if settings else None)
    if pm_id is None or pm_id in excluded:
        return None
    pm = await gateway.retrieve_payment_method(pm_id)
    if id_of(pm.customer) != customer_id or pm.created < int(issued_at.timestamp()):
        return None
    card = getattr(pm, "card", None)
    return NewPaymentMethod(
        id=pm.id,
        type=pm.type,
        brand=card.brand if card is not None else None,
        last4=card.last4 if card is not None else None,
    )
