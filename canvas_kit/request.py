"""What a Canvas Kit request tells us, read defensively: Intercom names the person `contact`,
`customer` or `user` depending on the surface and the flow, and keeps our `stored_data` in
`current_canvas` (submit) or `canvas` (live canvas)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing.resolution import ContactIdentity
from kernel.http import ClientError
from kernel.i18n import GermanAddress, pick_locale


@dataclass(frozen=True, slots=True)
class CanvasRequest:
    raw: dict[str, Any]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> CanvasRequest:
        problems = []
        for key in (
            "contact",
            "customer",
            "user",
            "admin",
            "conversation",
            "context",
            "input_values",
            "current_canvas",
            "canvas",
            "card_creation_options",
        ):
            if key in body and body[key] is not None and not isinstance(body[key], dict):
                problems.append({"field": key, "message": "must be an object"})
        if "component_id" in body and not isinstance(body["component_id"], str | None):
            problems.append({"field": "component_id", "message": "must be a string"})
        if problems:
            raise ClientError(
                422, "invalid_request", "The Canvas Kit request is malformed.", details=problems
            )
        return cls(body)

    def _obj(self, key: str) -> dict[str, Any]:
        value = self.raw.get(key)
        return value if isinstance(value, dict) else {}

    @property
    def contact(self) -> dict[str, Any]:
        for key in ("contact", "customer", "user"):
            if self._obj(key):
                return self._obj(key)
        return {}

    @property
    def people(self) -> list[tuple[str | None, str | None]]:
        """(id, role) of every person the request names (`contact`, `customer`, `user`: the same
        person where several appear). `billing.trust` decides what their roles allow."""
        return [
            (_str(person.get("id")), _str(person.get("role")))
            for person in (self._obj(key) for key in ("contact", "customer", "user"))
            if person
        ]

    @property
    def identity(self) -> ContactIdentity:
        contact = self.contact
        attributes = contact.get("custom_attributes")
        stripe_id = attributes.get("stripe_id") if isinstance(attributes, dict) else None
        return ContactIdentity(
            contact_id=_str(contact.get("id")),
            email=_str(contact.get("email")),
            external_id=_str(contact.get("external_id") or contact.get("user_id")),
            stripe_id=_str(stripe_id),
            name=_str(contact.get("name")),
        )

    @property
    def admin(self) -> dict[str, Any]:
        return self._obj("admin")

    @property
    def admin_id(self) -> str | None:
        return _str(self.admin.get("id"))

    @property
    def conversation_id(self) -> str | None:
        conversation_id = self._obj("conversation").get("id") or self._obj("context").get(
            "conversation_id"
        )
        return _str(conversation_id)

    @property
    def context(self) -> dict[str, Any]:
        return self._obj("context")

    @property
    def component_id(self) -> str:
        return _str(self.raw.get("component_id")) or ""

    @property
    def input_values(self) -> dict[str, Any]:
        return self._obj("input_values")

    @property
    def card_creation_options(self) -> dict[str, Any]:
        return self._obj("card_creation_options")

    @property
    def stored_data(self) -> dict[str, Any]:
        for key in ("current_canvas", "canvas"):
            canvas = self._obj(key)
            # current_canvas may be the canvas itself or wrap it (schema `current_canvas`).
            canvas = canvas.get("current_canvas", canvas) if isinstance(canvas, dict) else {}
            stored = canvas.get("stored_data") if isinstance(canvas, dict) else None
            if isinstance(stored, dict):
                return stored
        return {}

    def locale(self, default: str, *, german_address: GermanAddress) -> str:
        """The Messenger's language for this person (`kernel.i18n.pick_locale`)."""
        asked = _str(self.context.get("locale")) or _str(self.contact.get("language_override"))
        return pick_locale(asked, default, german_address=german_address)


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
