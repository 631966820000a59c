"""The demo conversations the simulator offers, read from the sandbox Intercom (or, without one,
from the demo seed), with each contact and conversation in the shape Intercom puts in a Canvas Kit
request."""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from sandbox.canvas_requests import conversation_payload, demo_contact
from sandbox.intercom_api.seed import DEMO_CONTACTS

from .config import SimulatorConfig

INTERCOM_VERSION = "2.14"
_TAG = re.compile(r"<[^>]+>")


class DirectoryError(Exception):
    """The sandbox Intercom could not answer (down, wrong token, unknown contact)."""


@dataclass(frozen=True)
class DemoConversation:
    """One conversation in the simulated inbox: who wrote in, and what they asked."""

    contact_id: str
    conversation_id: str
    name: str | None
    email: str | None
    opening: str
    contact: dict[str, Any]
    conversation: dict[str, Any]

    @property
    def title(self) -> str:
        return self.name or self.email or self.contact_id

    @property
    def initials(self) -> str:
        words = [w for w in re.split(r"[\s@._-]+", self.title) if w and w[0].isalnum()]
        return "".join(w[0] for w in words[:2]).upper() or "?"

    def summary(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "conversation_id": self.conversation_id,
            "name": self.name,
            "email": self.email,
            "opening": self.opening,
        }


def conversation_id_for(contact_id: str) -> str:
    """The demo world names each contact's conversation `conv_<key>` for `contact_<key>`."""
    return "conv_" + contact_id.removeprefix("contact_")


class Directory:
    """Who is in the simulated inbox. Without a sandbox Intercom, the seeded demo contacts."""

    def __init__(self, config: SimulatorConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http

    @property
    def live(self) -> bool:
        return self.config.intercom_url is not None

    @staticmethod
    def seeded() -> list[DemoConversation]:
        """The demo world's conversations as seeded, without asking the sandbox Intercom."""
        return [_seeded(key) for key, *_ in DEMO_CONTACTS]

    async def conversations(self) -> list[DemoConversation]:
        if not self.live:
            return self.seeded()
        listing = await self._get("/_sandbox/contacts")
        contacts = [c for c in listing.get("data", []) if isinstance(c, dict) and c.get("id")]
        found = await asyncio.gather(*(self._conversation_for(c) for c in contacts))
        return list(found)

    async def find(self, contact_id: str) -> DemoConversation:
        if not self.live:
            key = contact_id.removeprefix("contact_")
            if not any(k == key for k, *_ in DEMO_CONTACTS):
                raise DirectoryError(f"no demo contact {contact_id!r}")
            return _seeded(key)
        contact = await self._get(f"/contacts/{quote(contact_id, safe='')}", api=True)
        return await self._conversation_for(contact)

    async def activity(self, contact_id: str) -> dict[str, Any] | None:
        """What the app wrote to this contact in the sandbox Intercom (tags, attributes, events,
        notes); None without a sandbox Intercom."""
        if not self.live:
            return None
        return await self._get(f"/_sandbox/contacts/{quote(contact_id, safe='')}/activity")

    async def _conversation_for(self, contact: dict[str, Any]) -> DemoConversation:
        contact_id = str(contact["id"])
        conversation_id = conversation_id_for(contact_id)
        try:
            path = f"/conversations/{quote(conversation_id, safe='')}"
            conversation = await self._get(path, api=True)
        except DirectoryError:
            conversation = conversation_payload(conversation_id, contact_id)
        found = conversation.get("source")
        source: dict[str, Any] = found if isinstance(found, dict) else {}
        return DemoConversation(
            contact_id=contact_id,
            conversation_id=conversation_id,
            name=contact.get("name"),
            email=contact.get("email"),
            opening=_plain(source.get("body")),
            contact=contact,
            conversation=conversation,
        )

    async def _get(self, path: str, *, api: bool = False) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if api:
            headers["Intercom-Version"] = INTERCOM_VERSION
            if self.config.intercom_token:
                headers["Authorization"] = f"Bearer {self.config.intercom_token}"
        url = f"{self.config.intercom_url}{path}"
        try:
            response = await self.http.get(url, headers=headers, timeout=5.0)
        except httpx.HTTPError as exc:
            raise DirectoryError(f"sandbox Intercom unreachable at {url}: {exc}") from exc
        if response.status_code != 200:
            raise DirectoryError(f"sandbox Intercom answered {response.status_code} for {path}")
        data = response.json()
        if not isinstance(data, dict):
            raise DirectoryError(f"sandbox Intercom answered {path} with a non-object")
        return data


def _seeded(key: str) -> DemoConversation:
    for contact_key, name, email, _external_id, _age, opening in DEMO_CONTACTS:
        if contact_key == key:
            return DemoConversation(
                contact_id=f"contact_{key}",
                conversation_id=f"conv_{key}",
                name=name,
                email=email,
                opening=opening,
                contact=demo_contact(key),
                conversation=conversation_payload(f"conv_{key}", f"contact_{key}"),
            )
    raise KeyError(key)


def _plain(body: Any) -> str:
    """A conversation part's HTML body as plain text for the conversation list."""
    if not isinstance(body, str):
        return ""
    return html.unescape(_TAG.sub(" ", body)).strip()
