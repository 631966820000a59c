"""In-memory state of the sandbox Intercom workspace.

Everything the HTTP layer (``server.py``) serves lives here, so tests can also seed or inspect it
directly. All mutation happens under ``IntercomState.lock`` because the server usually runs in a
background thread while the test thread reads the same object.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WORKSPACE_ID = "sandbox_ws"

# Standard (non-custom) contact attributes as listed by GET /data_attributes?model=contact.
# (name, label, data_type, api_writable)
STANDARD_CONTACT_ATTRIBUTES: list[tuple[str, str, str, bool]] = [
    ("id", "ID", "string", False),
    ("external_id", "User ID", "string", True),
    ("role", "Role", "string", True),
    ("email", "Email", "string", True),
    ("email_domain", "Email domain", "string", False),
    ("name", "Name", "string", True),
    ("phone", "Phone", "string", True),
    ("avatar", "Avatar", "string", True),
    ("owner_id", "Owner", "integer", True),
    ("created_at", "Created at", "date", False),
    ("updated_at", "Updated at", "date", False),
    ("signed_up_at", "Signed up", "date", True),
    ("last_seen_at", "Last seen", "date", True),
    ("last_contacted_at", "Last contacted", "date", False),
    ("last_replied_at", "Last heard from", "date", False),
    ("last_email_opened_at", "Last opened email", "date", False),
    ("last_email_clicked_at", "Last clicked on link in email", "date", False),
    ("unsubscribed_from_emails", "Unsubscribed from emails", "boolean", True),
    ("marked_email_as_spam", "Marked email as spam", "boolean", False),
    ("has_hard_bounced", "Has hard bounced", "boolean", False),
    ("language_override", "Language override", "string", True),
    ("browser", "Browser", "string", False),
    ("browser_language", "Browser language", "string", False),
    ("os", "OS", "string", False),
    ("location.country", "Country", "string", False),
    ("location.region", "Region", "string", False),
    ("location.city", "City", "string", False),
]

CUSTOM_DATA_TYPES = ("string", "integer", "float", "boolean", "datetime", "date")


def new_request_id() -> str:
    """Intercom puts a UUID ``request_id`` into every error body."""
    return str(uuid.uuid4())


@dataclass
class Fault:
    """A queued failure: the next ``count`` API requests under ``path_prefix`` answer ``status``."""

    status: int
    count: int
    path_prefix: str = "/"
    method: str | None = None


@dataclass
class IntercomState:
    """The whole sandbox workspace: contacts, attributes, tags, events, notes, conversations.

    ``clock`` is injectable so demo seeds and tests can use a fixed "now".
    """

    clock: Callable[[], float] = time.time
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    app: dict[str, Any] = field(default_factory=dict)
    admins: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_admin_id: str | None = None
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_attributes: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)
    contact_tags: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    activity: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    intercom_versions_seen: dict[str, int] = field(default_factory=dict)
    # Control-plane knobs (``/_sandbox/...``).
    rate_limit_remaining: int = 0
    rate_limit_retry_after: int = 1
    faults: list[Fault] = field(default_factory=list)
    latency_ms: int = 0
    seeded_with: Callable[[IntercomState], object] | None = field(default=None, repr=False)
    _next_ids: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.data_attributes:
            self._install_standard_attributes()

    # ---- helpers -------------------------------------------------------------------------
    def now(self) -> int:
        """Unix seconds from the injectable clock."""
        return int(self.clock())

    def next_id(self, kind: str, start: int = 1) -> int:
        """Monotonic numeric ids per kind, like Intercom's numeric tag/note/part ids."""
        value = self._next_ids.get(kind, start)
        self._next_ids[kind] = value + 1
        return value

    def _install_standard_attributes(self) -> None:
        for name, label, data_type, writable in STANDARD_CONTACT_ATTRIBUTES:
            self.data_attributes.append(
                {
                    "type": "data_attribute",
                    "name": name.split(".")[-1],
                    "full_name": name,
                    "label": label,
                    "data_type": data_type,
                    "api_writable": writable,
                    "ui_writable": writable,
                    "messenger_writable": writable,
                    "custom": False,
                    "archived": False,
                    "model": "contact",
                }
            )

    def reset(self) -> None:
        """Forget everything (including control knobs and the request log) and re-seed."""
        with self.lock:
            seeder = self.seeded_with
            clock = self.clock
            fresh = IntercomState(clock=clock)
            for name in self.__dataclass_fields__:
                if name in ("lock", "clock"):
                    continue
                setattr(self, name, getattr(fresh, name))
            if seeder is not None:
                seeder(self)

    # ---- workspace objects -----------------------------------------------------------------
    def add_admin(self, admin_id: str, name: str, email: str) -> dict[str, Any]:
        """Register an admin (teammate); the first one becomes the token's owner (``GET /me``)."""
        admin = {
            "type": "admin",
            "id": admin_id,
            "name": name,
            "email": email,
            "away_mode_enabled": False,
            "away_mode_reassign": False,
            "has_inbox_seat": True,
            "team_ids": [],
            "avatar": None,
        }
        with self.lock:
            self.admins[admin_id] = admin
            if self.token_admin_id is None:
                self.token_admin_id = admin_id
        return admin

    def add_contact(
        self,
        contact_id: str,
        *,
        email: str | None,
        name: str | None = None,
        external_id: str | None = None,
        role: str = "user",
        custom_attributes: dict[str, Any] | None = None,
        created_at: int | None = None,
        phone: str | None = None,
    ) -> dict[str, Any]:
        """Insert a contact record (stored flat; ``server.render_contact`` builds the API shape)."""
        ts = created_at if created_at is not None else self.now()
        contact = {
            "id": contact_id,
            "role": role,
            "external_id": external_id,
            "email": email,
            "name": name,
            "phone": phone,
            "avatar": None,
            "owner_id": None,
            "created_at": ts,
            "updated_at": ts,
            "signed_up_at": ts if role == "user" else None,
            "last_seen_at": None,
            "last_replied_at": None,
            "last_contacted_at": None,
            "unsubscribed_from_emails": False,
            "custom_attributes": dict(custom_attributes or {}),
        }
        with self.lock:
            self.contacts[contact_id] = contact
            self.contact_tags.setdefault(contact_id, {})
            self.activity.setdefault(contact_id, [])
        return contact

    def define_attribute(
        self,
        name: str,
        data_type: str,
        *,
        model: str = "contact",
        description: str | None = None,
        messenger_writable: bool = False,
        admin_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a custom data attribute (what ``POST /data_attributes`` does after validation)."""
        with self.lock:
            ts = self.now()
            attribute = {
                "id": self.next_id("data_attribute", 101),
                "type": "data_attribute",
                "name": name,
                "full_name": f"custom_attributes.{name}",
                "label": name,
                "description": description or "",
                # The 2.14 response enum has no "datetime"; Intercom reports such attributes as dates.
                "data_type": "date" if data_type == "datetime" else data_type,
                "requested_data_type": data_type,
                "api_writable": True,
                "ui_writable": True,
                "messenger_writable": messenger_writable,
                "custom": True,
                "archived": False,
                "admin_id": admin_id or self.token_admin_id,
                "created_at": ts,
                "updated_at": ts,
                "model": model,
            }
            self.data_attributes.append(attribute)
            return attribute

    def find_attribute(self, name: str, model: str = "contact") -> dict[str, Any] | None:
        """Case-insensitive lookup by name or full name within one model."""
        lowered = name.lower()
        with self.lock:
            for attribute in self.data_attributes:
                if attribute["model"] != model:
                    continue
                if lowered in (attribute["name"].lower(), attribute["full_name"].lower()):
                    return attribute
        return None

    def custom_attribute(self, name: str, model: str = "contact") -> dict[str, Any] | None:
        """Exact-name lookup of a live custom attribute (values are keyed case-sensitively)."""
        with self.lock:
            for attribute in self.data_attributes:
                if (
                    attribute["custom"]
                    and attribute["model"] == model
                    and attribute["name"] == name
                    and not attribute["archived"]
                ):
                    return attribute
        return None

    def tag_by_name(self, name: str) -> dict[str, Any] | None:
        """Tags are unique by case-insensitive name."""
        with self.lock:
            for tag in self.tags.values():
                if tag["name"].lower() == name.lower():
                    return tag
        return None

    def create_tag(self, name: str) -> dict[str, Any]:
        """Create-or-return a tag by case-insensitive name."""
        with self.lock:
            existing = self.tag_by_name(name)
            if existing is not None:
                return existing
            tag = {"type": "tag", "id": str(self.next_id("tag", 1001)), "name": name}
            self.tags[tag["id"]] = tag
            return tag

    def add_conversation(
        self, conversation_id: str, contact_id: str, body: str, *, created_at: int | None = None
    ) -> dict[str, Any]:
        """A customer-initiated conversation with one opening message."""
        ts = created_at if created_at is not None else self.now()
        conversation = {
            "id": conversation_id,
            "contact_id": contact_id,
            "created_at": ts,
            "updated_at": ts,
            "waiting_since": ts,
            "state": "open",
            "read": False,
            "admin_assignee_id": None,
            "source_id": str(self.next_id("conversation_source", 403918300)),
            "source_body": body,
            "parts": [],
        }
        with self.lock:
            self.conversations[conversation_id] = conversation
        return conversation

    def record_activity(self, contact_id: str, kind: str, detail: dict[str, Any]) -> None:
        """Append to the per-contact timeline served by ``/_sandbox/contacts/{id}/activity``."""
        with self.lock:
            self.activity.setdefault(contact_id, []).append(
                {"at": self.now(), "kind": kind, **detail}
            )

    def contact_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        """Users only, like ``GET /contacts/find_by_external_id``."""
        with self.lock:
            for contact in self.contacts.values():
                if contact["external_id"] == external_id and contact["role"] == "user":
                    return contact
        return None

    def contact_by_email(self, email: str) -> dict[str, Any] | None:
        """First contact with exactly this email (Intercom allows duplicates across contacts)."""
        with self.lock:
            for contact in self.contacts.values():
                if contact["email"] == email:
                    return contact
        return None
