"""Who may see billing and who may move money: the one place that decides (PRODUCT.md §1.3).

How sure we are who is asking depends on the surface, and on how the contact was matched to a
Stripe customer (`billing.resolution`):

- **Inbox** (the caller is an admin of the workspace): trusted, sees any match. A match by
  `stripe_id` or by user id (`external_id` = customer metadata `user_id`) is verified: our app or
  an agent set those. A match by email alone is *not verified* — a Messenger lead types any email
  — so a money action on it asks the agent to confirm the customer's identity first, and the
  server refuses the action without that confirmation.
- **Messenger** (the caller is whoever opened the Messenger): only a contact with role `user`
  (logged in to the operator's product; Intercom identity verification) sees billing or gets a
  money action. Leads and visitors choose their own email and, unless an attribute is protected,
  their own custom attributes: they get a friendly "sign in" card, nothing that names a customer,
  and no Stripe call at all.
- **Fin** (the caller is Fin, for the contact it talks to): reads may match by email; money
  (refunds, anything that changes a subscription) only for a request whose `user_id` or
  `stripe_id` resolves to the customer. Email alone is refused (`VerifiedIdentityRequired`).
  So are the customer's documents and the means to change them: links to invoices (Stripe's
  hosted page and PDF open without a login and carry name, address and tax id) are left out
  of an answer to an email alone, and a link that edits billing details is refused to it.

`stripe_id` is created not writable from the Messenger (`intercom-setup`), so a visitor cannot
name a customer by setting it from the browser.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from billing.errors import BillingError
from billing.resolution import ContactIdentity, Resolution

MatchKind = Literal["stripe_id", "user_id", "email"]
MATCH_KINDS: tuple[MatchKind, ...] = ("stripe_id", "user_id", "email")
VERIFIED_MATCHES: frozenset[str] = frozenset({"stripe_id", "user_id"})
MESSENGER_TRUSTED_ROLE = "user"


class VerifiedIdentityRequired(BillingError):
    """Money moves only for a customer matched by user id or stripe_id, never by email alone."""

    code = "verified_identity_required"


# --- how the customer was matched (every surface) ---
def match_kind(resolution: Resolution, customer_id: str | None) -> MatchKind | None:
    """How `customer_id` is linked to the contact of `resolution`: by `stripe_id`, by user id, or
    by email (exact or case-insensitive); None when it is not among the contact's matches."""
    if not customer_id or resolution.by_id(customer_id) is None:
        return None
    if resolution.matched_by == "stripe_id":
        return "stripe_id"
    if resolution.matched_by == "user_id":
        return "user_id"
    return "email"


def is_verified(kind: str | None) -> bool:
    """A match an agent may move money on without confirming the customer's identity first."""
    return kind in VERIFIED_MATCHES


# --- Messenger ---
def messenger_may_see_billing(people: Iterable[tuple[str | None, str | None]]) -> bool:
    """Whether the people a Messenger request names — (id, role) of `contact`, `user` and
    `customer`, which are one person — may see billing and move money: only when there is
    someone, they are all the same contact, and every one of them has role `user`. A lead, a
    visitor or a missing role sees nothing of any customer."""
    found = list(people)
    ids = {person_id for person_id, _role in found}
    return (
        bool(found) and len(ids) == 1 and all(role == MESSENGER_TRUSTED_ROLE for _id, role in found)
    )


# --- Fin ---
def carries_verified_key(identity: ContactIdentity) -> bool:
    """Whether a Fin request names the contact by something Intercom (not the visitor) sets."""
    return bool(identity.external_id or identity.stripe_id)


def may_share_documents(identity: ContactIdentity, resolution: Resolution) -> bool:
    """Whether Fin may hand out links to the customer's documents (invoice pages and PDFs):
    anyone who has such a link can open it, so, like money, only for a verified match; an
    email alone still reads the invoice list itself (numbers, dates, amounts)."""
    return carries_verified_key(identity) and resolution.matched_by in VERIFIED_MATCHES


def require_verified_match(resolution: Resolution) -> None:
    """For money through Fin: the customer must have been found by `stripe_id` or user id."""
    if resolution.found and resolution.matched_by not in VERIFIED_MATCHES:
        raise VerifiedIdentityRequired(
            "Money moves only for a verified contact (user id or stripe_id), not an email alone."
        )
