"""``POST /contacts/search``: Intercom's query language over the sandbox's contacts (fields,
operators, AND/OR nesting) and its cursor pagination."""

from __future__ import annotations

import base64
from typing import Any

from .errors import ApiFailure
from .state import IntercomState

MAX_SEARCH_FILTERS_PER_GROUP = 15
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 150

SEARCHABLE_FIELDS = {
    "id",
    "role",
    "name",
    "avatar",
    "owner_id",
    "email",
    "email_domain",
    "phone",
    "external_id",
    "created_at",
    "signed_up_at",
    "updated_at",
    "last_seen_at",
    "last_contacted_at",
    "last_replied_at",
    "unsubscribed_from_emails",
    "tag_id",
}
SINGLE_OPERATORS = {"=", "!=", "IN", "NIN", "<", "<=", ">", ">=", "~", "!~", "^", "$"}


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _values_equal(stored: Any, wanted: Any) -> bool:
    """Exact, case-sensitive equality with number/boolean coercion (search values arrive as strings)."""
    if stored is None or wanted is None:
        return stored is None and wanted is None
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return str(stored).lower() == str(wanted).lower()
    if _is_number(stored) and _is_number(wanted) and not isinstance(stored, str):
        return float(stored) == float(wanted)
    return str(stored) == str(wanted)


def _field_value(state: IntercomState, contact: dict[str, Any], field: str) -> Any:
    if field.startswith("custom_attributes."):
        name = field.split(".", 1)[1]
        if state.custom_attribute(name) is None:
            raise ApiFailure(400, "parameter_invalid", f"Custom attribute '{name}' does not exist")
        return contact["custom_attributes"].get(name)
    if field == "email_domain":
        email = contact["email"]
        return email.split("@", 1)[1] if email and "@" in email else None
    if field.startswith("location."):
        return None
    if field not in SEARCHABLE_FIELDS:
        raise ApiFailure(400, "parameter_invalid", f"'{field}' is not a valid search field")
    return contact.get(field)


def _match_single(state: IntercomState, contact: dict[str, Any], query: dict[str, Any]) -> bool:
    field = query.get("field")
    operator = query.get("operator")
    value = query.get("value")
    if not isinstance(field, str) or operator not in SINGLE_OPERATORS:
        raise ApiFailure(400, "parameter_invalid", "Invalid search query: field/operator")
    if field == "tag_id":
        if operator not in ("=", "!="):
            raise ApiFailure(400, "parameter_invalid", "tag_id supports only = and !=")
        has = str(value) in state.contact_tags.get(contact["id"], {})
        return has if operator == "=" else not has
    stored = _field_value(state, contact, field)
    if operator in ("IN", "NIN"):
        if not isinstance(value, list):
            raise ApiFailure(400, "parameter_invalid", f"{operator} requires an array value")
        found = any(_values_equal(stored, v) for v in value)
        return found if operator == "IN" else not found
    if operator == "=":
        return _values_equal(stored, value)
    if operator == "!=":
        return not _values_equal(stored, value)
    if operator in ("~", "!~", "^", "$"):
        if not isinstance(value, str):
            raise ApiFailure(400, "parameter_invalid", f"{operator} requires a string value")
        text = "" if stored is None else str(stored)
        if operator == "~":
            return stored is not None and value in text
        if operator == "!~":
            return value not in text
        if operator == "^":
            return stored is not None and text.startswith(value)
        return stored is not None and text.endswith(value)
    # Numeric comparisons.
    if not _is_number(value):
        raise ApiFailure(400, "parameter_invalid", f"{operator} requires a numeric value")
    if stored is None or not _is_number(stored):
        return False
    assert value is not None  # _is_number said so
    left, right = float(stored), float(value)
    return {
        ">": left > right,
        "<": left < right,
        ">=": left >= right,
        "<=": left <= right,
    }[operator]


def validate_query(query: Any, depth: int = 1) -> None:
    if not isinstance(query, dict):
        raise ApiFailure(400, "parameter_invalid", "query must be an object")
    if query.get("operator") in ("AND", "OR"):
        if depth > 2:
            raise ApiFailure(400, "parameter_invalid", "Search query nesting exceeds 2 levels")
        values = query.get("value")
        if not isinstance(values, list) or not values:
            raise ApiFailure(400, "parameter_invalid", "AND/OR value must be a non-empty array")
        if len(values) > MAX_SEARCH_FILTERS_PER_GROUP:
            raise ApiFailure(
                400, "parameter_invalid", "A search group can contain at most 15 filters"
            )
        for item in values:
            validate_query(item, depth + 1)
    elif "field" not in query:
        raise ApiFailure(400, "parameter_invalid", "Invalid search query")


def matches(state: IntercomState, contact: dict[str, Any], query: dict[str, Any]) -> bool:
    operator = query.get("operator")
    if operator == "AND":
        return all(matches(state, contact, q) for q in query["value"])
    if operator == "OR":
        return any(matches(state, contact, q) for q in query["value"])
    return _match_single(state, contact, query)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, number = base64.urlsafe_b64decode(padded).decode().partition(":")
        if kind != "offset":
            raise ValueError(cursor)
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiFailure(400, "parameter_invalid", "starting_after is invalid") from exc


def paginate(items: list[Any], per_page: int, offset: int) -> tuple[list[Any], dict[str, Any]]:
    """Cursor pagination (``cursor_pages``) over an in-memory list."""
    chunk = items[offset : offset + per_page]
    total_pages = (len(items) + per_page - 1) // per_page
    pages: dict[str, Any] = {
        "type": "pages",
        "page": offset // per_page + 1,
        "per_page": per_page,
        "total_pages": total_pages,
    }
    if offset + per_page < len(items):
        pages["next"] = {"per_page": per_page, "starting_after": encode_cursor(offset + per_page)}
    return chunk, pages
