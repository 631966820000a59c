"""``/contacts``: search, get, find by external id, update (custom attributes type-checked)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import ApiFailure, require_dict, user_not_found
from .render import render_contact
from .search import DEFAULT_PER_PAGE, MAX_PER_PAGE, decode_cursor, matches, paginate, validate_query
from .state import IntercomState

UPDATABLE_CONTACT_FIELDS = {
    "role",
    "external_id",
    "email",
    "phone",
    "name",
    "avatar",
    "signed_up_at",
    "last_seen_at",
    "owner_id",
    "unsubscribed_from_emails",
    "custom_attributes",
}
_MISSING = object()


def contact_or_404(state: IntercomState, contact_id: str) -> dict[str, Any]:
    contact = state.contacts.get(contact_id)
    if contact is None:
        raise user_not_found()
    return contact


async def search_contacts(state: IntercomState, request: Request, body: Any) -> Response:
    body = require_dict(body)
    query = body.get("query")
    if query is None:
        raise ApiFailure(400, "parameter_not_found", "query is a required parameter")
    validate_query(query)
    pagination = body.get("pagination") or {}
    per_page = pagination.get("per_page") or DEFAULT_PER_PAGE
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiFailure(400, "parameter_invalid", "per_page must be between 1 and 150")
    cursor = pagination.get("starting_after")
    offset = decode_cursor(cursor) if cursor else 0
    found = [c for c in state.contacts.values() if matches(state, c, query)]
    chunk, pages = paginate(found, per_page, offset)
    return JSONResponse(
        {
            "type": "list",
            "data": [render_contact(state, c) for c in chunk],
            "total_count": len(found),
            "pages": pages,
        }
    )


async def get_contact(state: IntercomState, request: Request, body: Any) -> Response:
    contact = contact_or_404(state, request.path_params["contact_id"])
    return JSONResponse(render_contact(state, contact))


async def find_by_external_id(state: IntercomState, request: Request, body: Any) -> Response:
    contact = state.contact_by_external_id(request.path_params["external_id"])
    if contact is None:
        raise user_not_found()
    return JSONResponse(render_contact(state, contact))


async def update_contact(state: IntercomState, request: Request, body: Any) -> Response:
    contact = contact_or_404(state, request.path_params["contact_id"])
    body = require_dict(body)
    if "role" in body and body["role"] not in ("user", "lead"):
        raise ApiFailure(400, "parameter_invalid", "role must be user or lead")
    custom = body.get("custom_attributes")
    if custom is not None and not isinstance(custom, dict):
        raise ApiFailure(400, "parameter_invalid", "custom_attributes must be an object")
    cleaned: dict[str, Any] = {}
    for name, value in (custom or {}).items():
        attribute = state.custom_attribute(name)
        if attribute is None:
            raise ApiFailure(400, "parameter_invalid", f"Custom attribute '{name}' does not exist")
        cleaned[name] = check_custom_value(
            name, attribute["data_type"], value, attribute.get("options")
        )
    changes: dict[str, Any] = {}
    for key in UPDATABLE_CONTACT_FIELDS - {"custom_attributes"}:
        if key in body and contact[key] != body[key]:
            changes[key] = {"old": contact[key], "new": body[key]}
            contact[key] = body[key]
    custom_changes = {
        name: {"old": contact["custom_attributes"].get(name), "new": value}
        for name, value in cleaned.items()
        if contact["custom_attributes"].get(name, _MISSING) != value
    }
    contact["custom_attributes"].update(cleaned)
    contact["updated_at"] = state.now()
    if custom_changes:
        state.record_activity(contact["id"], "custom_attributes", {"changes": custom_changes})
    if changes:
        state.record_activity(contact["id"], "contact_fields", {"changes": changes})
    return JSONResponse(render_contact(state, contact))


def check_custom_value(name: str, data_type: str, value: Any, options: list[str] | None) -> Any:
    """Type-check one custom attribute value; returns the value to store."""
    if value is None:
        return None
    bad = ApiFailure(
        400, "parameter_invalid", f"Custom attribute '{name}' must be of type {data_type}"
    )
    if data_type == "string":
        if not isinstance(value, str):
            raise bad
    elif data_type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
    elif data_type == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
    elif data_type == "boolean":
        if not isinstance(value, bool):
            raise bad
    elif data_type in ("date", "datetime"):
        if isinstance(value, bool):
            raise bad
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as exc:
                raise bad from exc
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return int(parsed.timestamp())
        if not isinstance(value, int):
            raise bad
    elif data_type == "options" and (
        not isinstance(value, str) or (options and value not in options)
    ):
        raise ApiFailure(
            400,
            "parameter_invalid",
            f"Custom attribute '{name}' must be one of the attribute's allowed values",
        )
    return value
