"""Canvas Kit requests as Intercom sends them, signed with the app's client secret.

Used by the tests, the demo's ready-made curl command, the benchmark and the local Intercom
simulator, so all of them speak to the app exactly the way Intercom does.

The person in a request is an Intercom contact (the REST model): `role` is `user` for someone
logged in to the operator's product (identified by `external_id`/email, verified by Intercom's
identity verification) and `lead` for an anonymous Messenger visitor who typed an email into a
conversation; a visitor that never did is a `visitor`. Intercom puts that contact in `contact`
(inbox, live canvas), `user` (Messenger submit) or `customer` (older inbox docs). `as_viewer`
turns a demo contact into a lead who claims the same email, or an anonymous visitor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

WORKSPACE_ID = "sandboxapp"
WORKSPACE_REGION = "eu"

DEMO_ADMIN = {
    "type": "admin",
    "id": "admin_1",
    "name": "Sam Support",
    "email": "sam@support.example",
    "job_title": "Support",
    "away_mode_enabled": False,
    "away_mode_reassign": False,
    "has_inbox_seat": True,
    "team_ids": [],
}


def sign(body: bytes, client_secret: str) -> str:
    return hmac.new(client_secret.encode(), body, hashlib.sha256).hexdigest()


def signed(payload: dict[str, Any], client_secret: str) -> tuple[bytes, dict[str, str]]:
    """The bytes to send and the headers (content type and `X-Body-Signature`)."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return body, {"Content-Type": "application/json", "X-Body-Signature": sign(body, client_secret)}


def contact_payload(
    *,
    contact_id: str,
    email: str | None,
    external_id: str | None = None,
    name: str | None = None,
    custom_attributes: dict[str, Any] | None = None,
    role: str | None = "user",
) -> dict[str, Any]:
    """A contact the way Canvas Kit requests carry it (a subset of Intercom's contact model).
    `role` None leaves the key out (a request that names nobody's role)."""
    now = int(time.time())
    contact = {
        "type": "contact",
        "id": contact_id,
        "workspace_id": WORKSPACE_ID,
        "external_id": external_id,
        "role": role,
        "email": email,
        "name": name,
        "phone": None,
        "avatar": None,
        "owner_id": None,
        "has_hard_bounced": False,
        "marked_email_as_spam": False,
        "unsubscribed_from_emails": False,
        "created_at": now - 86400 * 30,
        "updated_at": now,
        "signed_up_at": now - 86400 * 30,
        "last_seen_at": now - 600,
        "custom_attributes": custom_attributes or {},
        "social_profiles": {"type": "list", "data": []},
        "location": {"type": "location", "country": "Germany", "city": "Berlin"},
    }
    if role != "user":
        contact["signed_up_at"] = None  # only users sign up
    if role is None:
        del contact["role"]
    return contact


VIEWERS = ("user", "lead", "visitor")


def as_viewer(contact: dict[str, Any], viewer: str | None) -> dict[str, Any]:
    """`contact` as seen by the Messenger when `viewer` opens it: the signed-in `user` itself,
    or an anonymous `lead` who typed the same email into the Messenger (no user id, none of the
    user's attributes), or a `visitor` who gave nothing at all."""
    if viewer in (None, "user"):
        return contact
    if viewer not in VIEWERS:
        raise ValueError(f"viewer must be one of {', '.join(VIEWERS)}")
    return contact_payload(
        contact_id=f"{contact['id']}_{viewer}",
        email=contact.get("email") if viewer == "lead" else None,
        role=viewer,
    )


def conversation_payload(conversation_id: str, contact_id: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "type": "conversation",
        "id": conversation_id,
        "created_at": now - 3600,
        "updated_at": now - 60,
        "state": "open",
        "open": True,
        "read": True,
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact_id}]},
    }


def inbox_initialize(contact: dict[str, Any], conversation_id: str) -> dict[str, Any]:
    return {
        "workspace_id": WORKSPACE_ID,
        "workspace_region": WORKSPACE_REGION,
        "admin": DEMO_ADMIN,
        "conversation": conversation_payload(conversation_id, contact["id"]),
        "contact": contact,
        "customer": contact,
        "context": {"location": "conversation", "locale": "en"},
    }


def inbox_submit(
    contact: dict[str, Any],
    conversation_id: str,
    component_id: str,
    current_canvas: dict[str, Any],
    input_values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        **inbox_initialize(contact, conversation_id),
        "component_id": component_id,
        "input_values": input_values or {},
        "current_canvas": current_canvas,
    }


def messenger_context(locale: str = "en", location: str = "conversation") -> dict[str, Any]:
    return {
        "location": location,
        "locale": locale,
        "conversation_id": 1,
        "messenger_action_colour": "#0055ff",
        "messenger_background_colour": "#ffffff",
    }


def messenger_configure(
    component_id: str | None = None,
    input_values: dict[str, Any] | None = None,
    current_canvas: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "workspace_id": WORKSPACE_ID,
        "workspace_region": WORKSPACE_REGION,
        "admin": DEMO_ADMIN,
        "context": messenger_context(location="message"),
    }
    if component_id is not None:
        body.update(
            component_id=component_id,
            input_values=input_values or {},
            current_canvas=current_canvas or {},
        )
    return body


def messenger_initialize(
    card_creation_options: dict[str, Any], contact: dict[str, Any], locale: str = "en"
) -> dict[str, Any]:
    return {
        "workspace_id": WORKSPACE_ID,
        "workspace_region": WORKSPACE_REGION,
        "card_creation_options": card_creation_options,
        "context": messenger_context(locale),
        "contact": contact,
        "user": contact,
    }


def messenger_content(
    canvas: dict[str, Any], contact: dict[str, Any], locale: str = "en"
) -> dict[str, Any]:
    """The live-canvas request Intercom posts to `content_url` each time the card is viewed."""
    return {
        "workspace_id": WORKSPACE_ID,
        "workspace_region": WORKSPACE_REGION,
        "canvas": canvas,
        "context": messenger_context(locale),
        "contact": contact,
        "user": contact,
    }


def messenger_submit(
    component_id: str,
    current_canvas: dict[str, Any],
    contact: dict[str, Any],
    input_values: dict[str, Any] | None = None,
    locale: str = "en",
) -> dict[str, Any]:
    return {
        "workspace_id": WORKSPACE_ID,
        "workspace_region": WORKSPACE_REGION,
        "component_id": component_id,
        "context": messenger_context(locale),
        "current_canvas": current_canvas,
        "input_values": input_values or {},
        "user": contact,
        "contact": contact,
    }


def demo_contact(key: str, *, viewer: str | None = None) -> dict[str, Any]:
    """The demo world's contact `key` ("healthy", "sepa", ...) as Canvas Kit carries it; with
    `viewer` "lead" or "visitor", an anonymous Messenger visitor claiming to be them."""
    from sandbox.intercom_api.seed import DEMO_CONTACTS

    for contact_key, name, email, external_id, _age, _opening in DEMO_CONTACTS:
        if contact_key == key:
            attributes = {"stripe_id": "cus_DemoHealthy"} if key == "healthy" else {}
            contact = contact_payload(
                contact_id=f"contact_{key}",
                email=email,
                external_id=external_id,
                name=name,
                custom_attributes=attributes,
            )
            return as_viewer(contact, viewer)
    raise KeyError(key)
