"""The sidebar's shared machinery: the context every inbox action gets, and `render`, which
loads what a view needs and builds its card. The buttons under the summary come from the
context (`InboxContext.summary_buttons`), registered in one list in `inbox.endpoints`.

The agent is trusted and sees any match, labelled with how it was made (`billing.trust`): by
`stripe_id`, by user id, or by email — not verified. A money action on a customer matched by
email alone asks the agent to confirm the customer's identity (`identity_check`), and its
confirm step moves nothing without that tick: `InboxContext.identity_missing` decides it from
the contact as Intercom sends it now, never from `stored_data`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from billing.errors import BillingError, NotFound, StripeUnavailable
from billing.snapshot import BillingSnapshot
from billing.trust import MatchKind, is_verified, match_kind
from canvas_kit.components import Button, Canvas, Component
from canvas_kit.request import CanvasRequest
from gateways.stripe import gather_all
from gateways.stripe_budget import time_budget
from inbox import cards
from kernel.logs import bind_customer
from kernel.services import Services

log = logging.getLogger(__name__)

RENDER_BUDGET_SECONDS = 8.0  # Intercom gives up on slow apps; answer well within 10 s
# The first MAX_SUMMARY_ACTIONS buttons show under the summary (Intercom cuts the first canvas at
# ~400 px), all of them in the details view.
MAX_SUMMARY_ACTIONS = 2


@dataclass
class InboxContext:
    """Everything an inbox action needs: the services, the signed request, the agent's locale."""

    services: Services
    request: CanvasRequest
    locale: str
    # Features' buttons for the summary and details, in priority order (`inbox.endpoints`).
    summary_buttons: Sequence[ButtonSource] = field(default=())
    # Features' sections of the details view, loaded only when it is shown (`inbox.endpoints`).
    details_sections: Sequence[SectionSource] = field(default=())

    @property
    def stored(self) -> dict[str, Any]:
        return self.request.stored_data

    async def snapshot(self, *, fresh: bool = False) -> BillingSnapshot:
        customer_id = self.stored.get("customer_id")
        if not isinstance(customer_id, str) or not customer_id:
            raise NotFound("No customer chosen.")
        return await self.services.billing.customer_snapshot(customer_id, fresh=fresh)

    async def match(self) -> MatchKind | None:
        """How the chosen customer is linked to this conversation's contact, decided now from
        the signed request (the resolution is cached briefly); None if it no longer matches."""
        resolution = await self.services.billing.resolve(self.request.identity)
        return match_kind(resolution, self.stored.get("customer_id"))

    async def identity_missing(self) -> bool:
        """A money action may not run yet: the customer is matched by email alone (or not at
        all any more) and the agent did not tick "I have verified this customer's identity"."""
        if cards.identity_confirmed(self.request.input_values):
            return False
        return not is_verified(await self.match())


# A submit whose component_id is "<prefix>" or "<prefix>:<arg>" goes to the action registered
# for that prefix; it returns a response body.
ActionHandler = Callable[[InboxContext, str], Awaitable[dict[str, Any]]]
ButtonSource = Callable[[BillingSnapshot, InboxContext], list[Button]]
# A section of the details view: what it reads from Stripe beyond the snapshot, as components.
SectionSource = Callable[[BillingSnapshot, InboxContext], Awaitable[list[Component]]]


async def render(
    ctx: InboxContext,
    *,
    view: str | None,
    fresh: bool = False,
    choose: str | None = None,
    forget_choice: bool = False,
) -> Canvas:
    """The card for `view` ("summary" | "details" | "pick"), loading what it needs."""
    view = view if view in ("summary", "details", "pick") else "summary"
    services = ctx.services
    stored = kept(ctx.stored)
    if forget_choice:
        stored.pop("customer_id", None)
        stored.pop("match", None)
    try:
        async with time_budget(RENDER_BUDGET_SECONDS):
            resolution = None
            if choose or forget_choice or not stored.get("customer_id"):
                resolution = await services.billing.resolve(
                    ctx.request.identity, fresh=fresh, remembered=not choose
                )
                if not resolution.found:
                    return cards.no_match_card(ctx.request.identity, locale=ctx.locale)
                stored["matches"] = len(resolution.customers)
                customer = resolution.by_id(choose) if choose else None
                if customer is None and len(resolution.customers) == 1:
                    customer = resolution.customers[0]
                if customer is None:
                    return cards.picker_card(
                        list(resolution.customers), locale=ctx.locale, stored_data=stored
                    )
                stored["customer_id"] = customer.id
                stored["match"] = match_kind(resolution, customer.id)
                snapshot = await services.billing.snapshot(customer, fresh=fresh)
            else:
                snapshot = await services.billing.customer_snapshot(
                    stored["customer_id"], fresh=fresh
                )
            sections: list[list[Component]] = []
            if view == "details":
                sections = await gather_all(*(make(snapshot, ctx) for make in ctx.details_sections))
    except NotFound:
        # The chosen customer vanished (deleted in Stripe): start over from the contact.
        if stored.get("customer_id") and not forget_choice:
            return await render(ctx, view="summary", fresh=True, forget_choice=True)
        return cards.no_match_card(ctx.request.identity, locale=ctx.locale)
    except (StripeUnavailable, TimeoutError) as exc:
        log.warning("inbox render without Stripe: %s", type(exc).__name__)
        return unavailable(ctx, view, stored)
    except BillingError as exc:
        # Stripe refused a read (a query it can't parse, an id it calls malformed, search not
        # offered in the account's region): the same card as an outage, with Retry.
        log.warning("inbox render: Stripe refused a read (%s)", exc.code)
        return unavailable(ctx, view, stored)

    bind_customer(snapshot.customer.id)
    settings = services.settings
    buttons = [b for make in ctx.summary_buttons for b in make(snapshot, ctx)]
    if view == "details":
        return cards.details_card(
            snapshot,
            locale=ctx.locale,
            dashboard_url=settings.stripe_dashboard_url(f"customers/{snapshot.customer.id}"),
            stored_data=stored,
            actions=buttons,
            match=stored.get("match"),
            sections=[component for section in sections for component in section],
        )
    return cards.summary_card(
        snapshot,
        locale=ctx.locale,
        now=datetime.now(UTC),
        stored_data=stored,
        actions=buttons[:MAX_SUMMARY_ACTIONS],
        other_matches=stored.get("matches", 1) > 1,
        trial_warning_days=settings.trial_warning_days,
        usage_high_ratio=settings.usage_high_ratio,
        match=stored.get("match"),
    )


# What every sidebar view carries over: the chosen customer, how many matched and how (the
# label only: a money action decides the match afresh, `InboxContext.identity_missing`).
KEPT = ("customer_id", "matches", "match")


def kept(stored: dict[str, Any]) -> dict[str, Any]:
    """Values of another type than we write are dropped: `stored_data` comes back from the
    client."""
    kept: dict[str, Any] = {}
    customer_id = stored.get("customer_id")
    if isinstance(customer_id, str) and customer_id:
        kept["customer_id"] = customer_id
    matches = stored.get("matches")
    if isinstance(matches, int) and not isinstance(matches, bool):
        kept["matches"] = matches
    if isinstance(stored.get("match"), str):
        kept["match"] = stored["match"]
    return kept


def unavailable(ctx: InboxContext, view: str, stored: dict[str, Any] | None = None) -> Canvas:
    data = {**(stored if stored is not None else ctx.stored), "last_view": view}
    return cards.unavailable_card(locale=ctx.locale, stored_data=data)
