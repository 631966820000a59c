"""Reading a sidebar canvas the way an agent sees it: its components (list items included) and
what can be clicked."""

from __future__ import annotations

from typing import Any


def components(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for c in body["canvas"]["content"]["components"]:
        found.append(c)
        found += c.get("items", [])
    return found


def clickable(body: dict[str, Any]) -> list[str]:
    """Buttons and list items an agent can click: in Intercom only those with an action."""
    return [
        c["id"] for c in components(body) if c["type"] in ("button", "item") and c.get("action")
    ]
