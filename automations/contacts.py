"""Which Intercom contact a Stripe customer is (the reverse of PRODUCT.md §1.3).

1. the customer's metadata `user_id` (key configurable) → the user whose external id it is;
2. else a contact whose custom attribute `stripe_id` is the customer's id;
3. else the one contact with the customer's email (exactly) that is not linked to another
   Stripe customer.
Several equally good matches are treated as none: billing data goes to one person or nobody.
We never create contacts from billing data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateways.intercom import IntercomContact, IntercomGateway
from gateways.stripe_models import Customer


@dataclass(frozen=True, slots=True)
class StripeCustomerRef:
    """The three facts about a Stripe customer that can identify its contact."""

    id: str
    email: str | None
    user_id: str | None


@dataclass(frozen=True, slots=True)
class ContactMatch:
    contact: IntercomContact | None
    matched_by: str | None = None  # "external_id" | "stripe_id" | "email"
    candidates: int = 0  # how many contacts matched equally well (> 1: ambiguous)

    @property
    def outcome(self) -> str:
        """What the event ledger records when nothing could be written."""
        return "ambiguous_contact" if self.candidates > 1 else "no_contact"


def customer_ref(customer: Customer, user_id_key: str) -> StripeCustomerRef:
    """From a Stripe customer (metadata read with the configured key)."""
    user_id = customer.metadata.get(user_id_key) or None
    return StripeCustomerRef(id=customer.id, email=customer.email or None, user_id=user_id)


async def find_contact(gateway: IntercomGateway, customer: StripeCustomerRef) -> ContactMatch:
    """One or two Intercom reads: the external id lookup, then one search for the rest."""
    if customer.user_id:
        contact = await gateway.find_by_external_id(customer.user_id)
        if contact is not None:
            return ContactMatch(contact, "external_id", 1)

    filters: list[dict[str, Any]] = [
        {"field": "custom_attributes.stripe_id", "operator": "=", "value": customer.id}
    ]
    if customer.email:
        filters.append({"field": "email", "operator": "=", "value": customer.email})
    query = filters[0] if len(filters) == 1 else {"operator": "OR", "value": filters}
    found = await gateway.search_contacts(query)

    linked = [c for c in found if c.custom_attributes.get("stripe_id") == customer.id]
    if linked:
        return _only(linked, "stripe_id")
    # A contact explicitly linked to another Stripe customer is not this customer's contact.
    by_email = [
        c
        for c in found
        if customer.email and c.email == customer.email and not c.custom_attributes.get("stripe_id")
    ]
    return _only(by_email, "email")


def _only(contacts: list[IntercomContact], matched_by: str) -> ContactMatch:
    if len(contacts) == 1:
        return ContactMatch(contacts[0], matched_by, 1)
    return ContactMatch(None, None, len(contacts))
