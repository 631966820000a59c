"""Who is the customer (PRODUCT.md §1.3), shared by every surface.

An Intercom contact resolves to Stripe customers in this order:
1. the contact's custom attribute `stripe_id`;
2. customers whose metadata `user_id` (key configurable) equals the contact's `external_id`;
3. the contact's email, exactly, then case-insensitively.
The first step that finds anyone wins. Steps 2 and 3 run concurrently (one search for both,
one exact email list), so resolution is one Stripe round trip (two only when a stale
`stripe_id` has to fall back).

A single match by user id (or by exact email, for a contact without one) can be confirmed later
without searching again (`confirm_match`): the customer is retrieved by id and must still match
the contact the same way. That costs one request instead of a list and a search (Stripe's Search
API allows 20 requests per second per account); what it can't see is a customer created since
who would match too, so only reads that move nothing and mint no link use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from billing.errors import AmbiguousCustomer, CustomerNotFound, NotFound
from billing.snapshot import LIVE_STATUSES
from gateways.stripe import StripeGateway, gather_all, quote_search_value
from gateways.stripe_models import Customer


@dataclass(frozen=True, slots=True)
class ContactIdentity:
    """What Intercom tells us about a person, from a signed request or a Fin call."""

    contact_id: str | None = None
    email: str | None = None
    external_id: str | None = None
    stripe_id: str | None = None
    name: str | None = None

    @property
    def cache_key(self) -> tuple[str | None, ...]:
        return (self.stripe_id, self.external_id, self.email)

    def searched(self) -> list[tuple[str, str]]:
        """What we looked for, for a "no match" answer: (kind, value) pairs."""
        pairs = []
        if self.stripe_id:
            pairs.append(("stripe_id", self.stripe_id))
        if self.external_id:
            pairs.append(("user_id", self.external_id))
        if self.email:
            pairs.append(("email", self.email))
        return pairs


@dataclass(frozen=True, slots=True)
class Resolution:
    identity: ContactIdentity
    customers: tuple[Customer, ...] = field(default_factory=tuple)  # expanded as retrieved
    matched_by: str | None = None  # "stripe_id" | "user_id" | "email" | "email_ci"

    @property
    def found(self) -> bool:
        return bool(self.customers)

    @property
    def ambiguous(self) -> bool:
        return len(self.customers) > 1

    def by_id(self, customer_id: str) -> Customer | None:
        return next((c for c in self.customers if c.id == customer_id), None)

    def preferred(self) -> Customer | None:
        """For the Messenger and Fin: the single match, or the only one with a live
        subscription among several."""
        if len(self.customers) == 1:
            return self.customers[0]
        live = [c for c in self.customers if _has_live_subscription(c)]
        return live[0] if len(live) == 1 else None

    def require_one(self, *, for_money: bool) -> Customer:
        """The customer to act for. Money never moves while the match is ambiguous."""
        if not self.customers:
            raise CustomerNotFound("No Stripe customer matches this contact.")
        if len(self.customers) > 1 and for_money:
            raise AmbiguousCustomer(
                f"{len(self.customers)} Stripe customers match this contact; "
                "an agent must link the right one (contact attribute stripe_id) first."
            )
        chosen = self.preferred()
        if chosen is None:
            raise AmbiguousCustomer(f"{len(self.customers)} Stripe customers match this contact.")
        return chosen


async def resolve_customer(
    gateway: StripeGateway, identity: ContactIdentity, *, user_id_key: str = "user_id"
) -> Resolution:
    if identity.stripe_id:
        try:
            customer = await gateway.retrieve_customer(identity.stripe_id)
        except NotFound:
            customer = None
        if customer is not None and not customer.deleted:
            return Resolution(identity, (customer,), "stripe_id")

    # One search answers both the user_id and the case-insensitive email question; the
    # strongly consistent exact-email list runs beside it (search lags behind writes).
    clauses = []
    if identity.external_id:
        clauses.append(
            f"metadata[{quote_search_value(user_id_key)}]:{quote_search_value(identity.external_id)}"
        )
    if identity.email:
        clauses.append(f"email:{quote_search_value(identity.email)}")
    exact, searched = await gather_all(
        gateway.customers_with_email(identity.email) if identity.email else _empty(),
        gateway.search_customers(" OR ".join(clauses)) if clauses else _empty(),
    )
    by_user_id = [
        c
        for c in searched
        if identity.external_id and c.metadata.get(user_id_key) == identity.external_id
    ]
    for matched_by, customers in (
        ("user_id", by_user_id),
        ("email", exact),
        ("email_ci", _same_email(searched, identity.email)),
    ):
        if customers:
            return Resolution(identity, tuple(_dedupe(customers)), matched_by)
    return Resolution(identity)


@dataclass(frozen=True, slots=True)
class RememberedMatch:
    """Which customer a full resolution found for a contact, and how: enough to confirm it."""

    matched_by: str  # "user_id" | "email"
    customer_id: str

    @classmethod
    def of(cls, resolution: Resolution) -> RememberedMatch | None:
        """What may be remembered of a resolution: a single customer found by the first step
        the contact could be found by at all, so that no customer created later can take its
        place, only stand beside it (an email match of a contact with a user id, or a
        case-insensitive one, could be displaced: not remembered). A `stripe_id` contact is
        one retrieve already; several matches are the agent's to choose among."""
        identity = resolution.identity
        if len(resolution.customers) != 1 or identity.stripe_id:
            return None
        if resolution.matched_by == "user_id" or (
            resolution.matched_by == "email" and not identity.external_id
        ):
            return cls(str(resolution.matched_by), resolution.customers[0].id)
        return None


async def confirm_match(
    identity: ContactIdentity,
    remembered: RememberedMatch,
    retrieve: Callable[[str], Awaitable[Customer]],
    *,
    user_id_key: str = "user_id",
) -> Resolution | None:
    """The remembered customer, retrieved afresh (`retrieve`: expanded as resolution
    retrieves it), if it still matches `identity` the way it did; None when it was deleted or
    no longer matches (then resolve again)."""
    try:
        customer = await retrieve(remembered.customer_id)
    except NotFound:
        return None
    if customer.deleted or not _matches(customer, identity, remembered.matched_by, user_id_key):
        return None
    return Resolution(identity, (customer,), remembered.matched_by)


def _matches(customer: Customer, identity: ContactIdentity, matched_by: str, key: str) -> bool:
    if matched_by == "user_id":
        return bool(identity.external_id) and customer.metadata.get(key) == identity.external_id
    if matched_by == "email":
        return bool(identity.email) and customer.email == identity.email
    return False


def _same_email(customers: list[Customer], email: str | None) -> list[Customer]:
    # Search may be fuzzier than we want; keep only exact case-insensitive equality.
    if not email:
        return []
    wanted = email.strip().casefold()
    return [c for c in customers if (c.email or "").strip().casefold() == wanted]


async def _empty() -> list[Customer]:
    return []


def _dedupe(customers: list[Customer]) -> list[Customer]:
    seen: dict[str, Customer] = {}
    for customer in customers:
        seen.setdefault(customer.id, customer)
    return list(seen.values())


def _has_live_subscription(customer: Customer) -> bool:
    subs = customer.subscriptions
    return any(s.status in LIVE_STATUSES for s in (subs.data if subs else []))
