"""Talk to the Messenger endpoints the way Intercom does (signed requests), check every answer
against the Canvas Kit contract, and read what reached the sandbox Stripe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.canvas_requests import (
    demo_contact,
    messenger_configure,
    messenger_content,
    messenger_initialize,
    messenger_submit,
)
from storage.actions import ActionStore
from tests.conftest import AppClient, Sandbox
from tests.http import HTTP


def components(body: dict[str, Any]) -> list[dict[str, Any]]:
    content = body["canvas"]["content"] if "canvas" in body else body["content"]
    return content["components"]


def texts(body: dict[str, Any]) -> list[str]:
    """Every visible string of a canvas: texts, table rows, buttons, list items."""
    out = []
    for c in components(body):
        if c["type"] == "text":
            out.append(c["text"])
        elif c["type"] == "data-table":
            out += [f"{i['field']}: {i['value']}" for i in c["items"]]
        elif c["type"] == "button":
            out.append(f"[{c['label']}]")
        elif c["type"] == "list":
            out += [f"{i['title']} | {i.get('subtitle', '')}" for i in c["items"]]
    return out


def visible(body: dict[str, Any]) -> str:
    """All visible strings, one per line, with Babel's no-break spaces as plain spaces."""
    return "\n".join(texts(body)).replace("\xa0", " ").replace("\u202f", " ")


def button(body: dict[str, Any], component_id: str) -> dict[str, Any]:
    for c in components(body):
        if c["type"] == "button" and c["id"] == component_id:
            return c
    raise AssertionError(f"no button {component_id!r} in {texts(body)}")


def button_ids(body: dict[str, Any]) -> list[str]:
    return [c["id"] for c in components(body) if c["type"] == "button"]


def clickable(body: dict[str, Any], component_id: str) -> dict[str, Any]:
    """The button or list item `component_id` of a canvas, which Intercom would let a person
    click only if it has a submit action (a url button opens a page instead; an item without
    an action isn't clickable at all)."""
    for c in components(body):
        candidates = c["items"] if c["type"] == "list" else [c]
        for item in candidates:
            if item.get("type") in ("button", "item") and item.get("id") == component_id:
                action = item.get("action") or {}
                assert action.get("type") == "submit", (
                    f"{component_id!r} can't be clicked to submit: action {action or None}"
                )
                return item
    raise AssertionError(f"nothing clickable named {component_id!r} in {texts(body)}")


@dataclass
class Messenger:
    app: AppClient
    stripe: Sandbox
    check: Callable[[str, dict[str, Any]], None]

    def _post(self, path: str, payload: dict[str, Any], schema: str) -> dict[str, Any]:
        response = self.app.canvas(path, payload)
        assert response.status_code == 200, response.text
        body = response.json()
        self.check(schema, body)
        return body

    def configure(
        self,
        component_id: str | None = None,
        canvas: dict[str, Any] | None = None,
        *,
        crafted: bool = False,
    ):
        """The configure screen; with `component_id`, an admin's click on that item or button of
        `canvas` (which must be clickable), unless `crafted` (a request no click could send)."""
        if component_id is not None and canvas is not None and not crafted:
            clickable({"canvas": canvas}, component_id)
        payload = messenger_configure(component_id, current_canvas=canvas)
        return self._post("/canvas/messenger/configure", payload, "configure_response")

    # `key` names the demo customer; `viewer` "lead" is an anonymous Messenger visitor who typed
    # their email, "visitor" one who typed nothing; `contact` any other contact.
    def initialize(
        self,
        key: str,
        card: str,
        *,
        locale: str = "en",
        viewer: str | None = None,
        contact: dict[str, Any] | None = None,
        **options: Any,
    ):
        person = contact or demo_contact(key, viewer=viewer)
        payload = messenger_initialize({"card": card, **options}, person, locale)
        return self._post("/canvas/messenger/initialize", payload, "initialize_response")

    def content(
        self,
        key: str,
        canvas: dict[str, Any],
        *,
        locale: str = "en",
        viewer: str | None = None,
        contact: dict[str, Any] | None = None,
    ):
        person = contact or demo_contact(key, viewer=viewer)
        payload = messenger_content(canvas, person, locale)
        return self._post("/canvas/messenger/content", payload, "live_canvas_response")

    def submit(
        self,
        key: str,
        component_id: str,
        canvas: dict[str, Any],
        *,
        locale: str = "en",
        viewer: str | None = None,
        contact: dict[str, Any] | None = None,
    ):
        person = contact or demo_contact(key, viewer=viewer)
        payload = messenger_submit(component_id, canvas, person, locale=locale)
        return self._post("/canvas/messenger/submit", payload, "submit_response")

    def press(
        self,
        key: str,
        body: dict[str, Any],
        component_id: str,
        *,
        locale: str = "en",
        viewer: str | None = None,
    ):
        """Click a button or list item that is on the card `body` (fails if the card has no
        such component, or it has no submit action); `submit` sends crafted requests."""
        clickable(body, component_id)
        return self.submit(key, component_id, body["canvas"], locale=locale, viewer=viewer)

    # --- what the app recorded ---
    def audit(self, customer: str) -> list[dict[str, Any]]:
        """The customer's audit rows, oldest first, read from the app's database."""
        store = ActionStore(self.app.services.db)
        entries = asyncio.run(store.entries(customer_id=customer, limit=None, oldest_first=True))
        return [entry.as_dict() for entry in entries]

    # --- the sandbox Stripe ---
    def stripe_requests(self) -> list[dict[str, Any]]:
        return self.stripe.control("GET", "/_sandbox/requests")["requests"]

    def stripe_posts(self, suffix: str = "") -> list[dict[str, Any]]:
        return [
            r
            for r in self.stripe_requests()
            if r["method"] == "POST" and r["path"].endswith(suffix)
        ]

    def forget_stripe_requests(self) -> None:
        self.stripe.control("DELETE", "/_sandbox/requests")

    def stripe_get(self, path: str) -> dict[str, Any]:
        """Read from the sandbox Stripe API directly: what Stripe now holds."""
        response = HTTP.get(f"{self.stripe.url}{path}", headers=self._auth(), timeout=10)
        response.raise_for_status()
        return response.json()

    def stripe_post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        """Change something in Stripe behind the app's back (a dashboard user, another system)."""
        response = HTTP.post(
            f"{self.stripe.url}{path}", data=form, headers=self._auth(), timeout=10
        )
        response.raise_for_status()
        return response.json()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.app.settings.stripe_api_key.get_secret_value()}"}

    def open_invoice(self, customer: str) -> dict[str, Any]:
        invoices = self.stripe_get(f"/v1/invoices?customer={customer}&status=open")["data"]
        assert len(invoices) == 1, invoices
        return invoices[0]
