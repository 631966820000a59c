"""Starlette app that answers like Intercom's REST API 2.14 for the calls our product makes.

Response bodies follow ``intercom-api-2.14.yaml`` (shapes copied from its schemas, not its text) so
the official ``python-intercom`` SDK parses them. Error bodies use Intercom's ``error.list`` shape and
the codes/messages from the spec examples where the spec has one. ``/_sandbox/*`` is a control plane
for tests and the demo (no auth): rate limits, faults, latency, request log, per-contact activity.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .state import CUSTOM_DATA_TYPES, WORKSPACE_ID, Fault, IntercomState, new_request_id

Handler = Callable[[Request, Any], Awaitable[Response]]

RATE_LIMIT_PER_WINDOW = 1667  # 10,000/min private-app limit, reported per 10-second window
RATE_WINDOW_SECONDS = 10
MAX_SEARCH_FILTERS_PER_GROUP = 15
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 150
MAX_EVENT_METADATA_KEYS = 10

SERVER_ERROR_BODIES: dict[int, tuple[str, str]] = {
    500: ("server_error", "Server Error"),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("service_unavailable", "Service Unavailable"),
    504: ("gateway_timeout", "Gateway Timeout"),
}

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
ATTRIBUTE_NAME_RE = re.compile(r"^[\w \-$€£¥₹]+$")
MODEL_LABEL = {"contact": "people", "company": "company"}


class ApiFailure(Exception):
    """Raised by handlers to answer with an Intercom ``error.list`` body."""

    def __init__(self, status: int, code: str, message: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code: str, message: str | None) -> dict[str, Any]:
    """The ``error`` schema: ``{"type": "error.list", "request_id", "errors": [...]}``."""
    return {
        "type": "error.list",
        "request_id": new_request_id(),
        "errors": [{"code": code, "message": message}],
    }


def user_not_found() -> ApiFailure:
    return ApiFailure(404, "not_found", "User Not Found")


def resource_not_found() -> ApiFailure:
    return ApiFailure(404, "not_found", "Resource Not Found")


def html_body(text: str | None) -> str | None:
    """Intercom stores plain-text note/reply bodies as a paragraph."""
    if text is None:
        return None
    return text if text.lstrip().startswith("<") else f"<p>{text}</p>"


# ---- rendering ------------------------------------------------------------------------------
def render_contact(state: IntercomState, contact: dict[str, Any]) -> dict[str, Any]:
    """Full ``contact`` object as GET /contacts/{id} returns it in 2.14."""
    cid = contact["id"]
    email = contact["email"]
    tag_ids = list(state.contact_tags.get(cid, {}))
    note_ids = [n["id"] for n in state.notes if n["contact_id"] == cid]

    def sub_list(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "type": "list",
            "data": items,
            "url": f"/contacts/{cid}/{kind}",
            "total_count": len(items),
            "has_more": False,
        }

    return {
        "type": "contact",
        "id": cid,
        "workspace_id": WORKSPACE_ID,
        "external_id": contact["external_id"],
        "role": contact["role"],
        "email": email,
        "email_domain": email.split("@", 1)[1] if email and "@" in email else None,
        "phone": contact["phone"],
        "name": contact["name"],
        "avatar": None,
        "owner_id": contact["owner_id"],
        "social_profiles": {"type": "list", "data": []},
        "has_hard_bounced": False,
        "marked_email_as_spam": False,
        "unsubscribed_from_emails": contact["unsubscribed_from_emails"],
        "created_at": contact["created_at"],
        "updated_at": contact["updated_at"],
        "signed_up_at": contact["signed_up_at"],
        "last_seen_at": contact["last_seen_at"],
        "last_replied_at": contact["last_replied_at"],
        "last_contacted_at": contact["last_contacted_at"],
        "last_email_opened_at": None,
        "last_email_clicked_at": None,
        "language_override": None,
        "browser": None,
        "browser_version": None,
        "browser_language": None,
        "os": None,
        "location": {
            "type": "location",
            "country": None,
            "region": None,
            "city": None,
            "country_code": None,
            "continent_code": None,
        },
        "android_app_name": None,
        "android_app_version": None,
        "android_device": None,
        "android_os_version": None,
        "android_sdk_version": None,
        "android_last_seen_at": None,
        "ios_app_name": None,
        "ios_app_version": None,
        "ios_device": None,
        "ios_os_version": None,
        "ios_sdk_version": None,
        "ios_last_seen_at": None,
        "custom_attributes": dict(contact["custom_attributes"]),
        "tags": sub_list(
            "tags", [{"type": "tag", "id": tid, "url": f"/tags/{tid}"} for tid in tag_ids]
        ),
        "notes": sub_list(
            "notes", [{"type": "note", "id": nid, "url": f"/notes/{nid}"} for nid in note_ids]
        ),
        "companies": sub_list("companies", []),
        "opted_out_subscription_types": sub_list("subscriptions", []),
        "opted_in_subscription_types": sub_list("subscriptions", []),
        "utm_campaign": None,
        "utm_content": None,
        "utm_medium": None,
        "utm_source": None,
        "utm_term": None,
        "referrer": None,
        "enabled_push_messaging": None,
    }


def render_applied_tag(
    state: IntercomState, tag_id: str, applied: dict[str, Any]
) -> dict[str, Any]:
    """``tag`` schema including when and by whom it was applied to a contact."""
    tag = state.tags[tag_id]
    return {
        "type": "tag",
        "id": tag["id"],
        "name": tag["name"],
        "applied_at": applied["applied_at"],
        "applied_by": {"type": "admin", "id": applied["applied_by"]},
    }


def render_data_attribute(attribute: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attribute.items() if k != "requested_data_type"}


def render_note(state: IntercomState, note: dict[str, Any]) -> dict[str, Any]:
    author = state.admins.get(note["admin_id"])
    return {
        "type": "note",
        "id": note["id"],
        "created_at": note["created_at"],
        "contact": {"type": "contact", "id": note["contact_id"]},
        "author": author,
        "body": note["body"],
    }


def render_admin_with_app(state: IntercomState, admin: dict[str, Any]) -> dict[str, Any]:
    rendered = {k: v for k, v in admin.items() if k != "avatar"}
    rendered["avatar"] = {"type": "avatar", "image_url": None}
    rendered["email_verified"] = True
    rendered["app"] = dict(state.app) or None
    return rendered


def render_conversation(state: IntercomState, conversation: dict[str, Any]) -> dict[str, Any]:
    """``conversation`` object with its parts, shaped like the 2.14 examples."""
    contact = state.contacts.get(conversation["contact_id"], {})
    user_author = {
        "type": contact.get("role", "user"),
        "id": conversation["contact_id"],
        "name": contact.get("name"),
        "email": contact.get("email"),
    }
    first_reply = next((p for p in conversation["parts"] if p["author"]["type"] != "admin"), None)
    state_name = conversation["state"]
    return {
        "type": "conversation",
        "id": conversation["id"],
        "title": None,
        "created_at": conversation["created_at"],
        "updated_at": conversation["updated_at"],
        "waiting_since": conversation["waiting_since"],
        "snoozed_until": None,
        "open": state_name == "open",
        "state": state_name,
        "read": conversation["read"],
        "priority": "not_priority",
        "admin_assignee_id": None,
        "team_assignee_id": None,
        "tags": {"type": "tag.list", "tags": []},
        "conversation_rating": None,
        "source": {
            "type": "conversation",
            "id": conversation["source_id"],
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": html_body(conversation["source_body"]),
            "author": user_author,
            "attachments": [],
            "url": None,
            "redacted": False,
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {
                    "type": "contact",
                    "id": conversation["contact_id"],
                    "external_id": contact.get("external_id"),
                }
            ],
        },
        "teammates": None,
        "custom_attributes": {},
        "topics": {},
        "ticket": None,
        "first_contact_reply": (
            {"created_at": first_reply["created_at"], "type": "conversation", "url": None}
            if first_reply
            else None
        ),
        "sla_applied": None,
        "statistics": None,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "ai_agent_participated": False,
        "conversation_parts": {
            "type": "conversation_part.list",
            "conversation_parts": list(conversation["parts"]),
            "total_count": len(conversation["parts"]),
        },
    }


# ---- search ---------------------------------------------------------------------------------
_MISSING = object()


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


def _validate_query(query: Any, depth: int = 1) -> None:
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
            _validate_query(item, depth + 1)
    elif "field" not in query:
        raise ApiFailure(400, "parameter_invalid", "Invalid search query")


def _matches(state: IntercomState, contact: dict[str, Any], query: dict[str, Any]) -> bool:
    operator = query.get("operator")
    if operator == "AND":
        return all(_matches(state, contact, q) for q in query["value"])
    if operator == "OR":
        return any(_matches(state, contact, q) for q in query["value"])
    return _match_single(state, contact, query)


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, number = base64.urlsafe_b64decode(padded).decode().partition(":")
        if kind != "offset":
            raise ValueError(cursor)
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiFailure(400, "parameter_invalid", "starting_after is invalid") from exc


def _page(items: list[Any], per_page: int, offset: int) -> tuple[list[Any], dict[str, Any]]:
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
        pages["next"] = {"per_page": per_page, "starting_after": _encode_cursor(offset + per_page)}
    return chunk, pages


# ---- validation helpers ------------------------------------------------------------------------
def _check_custom_value(name: str, data_type: str, value: Any, options: list[str] | None) -> Any:
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


def _require_dict(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiFailure(400, "parameter_invalid", "Request body must be a JSON object")
    return body


# ---- the app --------------------------------------------------------------------------------
def create_intercom_app(state: IntercomState, *, access_token: str) -> Starlette:
    """Build the ASGI app serving ``state``; requests must carry ``Bearer <access_token>``."""
    window = {"start": 0, "count": 0}

    def rate_headers(now: float) -> dict[str, str]:
        start = int(now // RATE_WINDOW_SECONDS * RATE_WINDOW_SECONDS)
        if window["start"] != start:
            window["start"], window["count"] = start, 0
        window["count"] += 1
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT_PER_WINDOW),
            "X-RateLimit-Remaining": str(max(RATE_LIMIT_PER_WINDOW - window["count"], 0)),
            "X-RateLimit-Reset": str(start + RATE_WINDOW_SECONDS),
        }

    def fail(exc: ApiFailure, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), exc.status, headers=headers)

    def take_fault(method: str, path: str) -> Fault | None:
        for fault in state.faults:
            if path.startswith(fault.path_prefix) and fault.method in (None, method):
                fault.count -= 1
                if fault.count <= 0:
                    state.faults.remove(fault)
                return fault
        return None

    def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap an API handler with latency, auth, version recording, 429s, faults and logging."""

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            body: Any = None
            body_error = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body, body_error = raw.decode("utf-8", "replace"), True
            version = request.headers.get("intercom-version")
            entry: dict[str, Any] = {
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "body": body,
                "intercom_version": version,
                "time": time.time(),
            }
            if state.latency_ms:
                await asyncio.sleep(state.latency_ms / 1000)
            response = await dispatch(request, handler, body, body_error)
            entry["status"] = response.status_code
            entry["response"] = json.loads(bytes(response.body)) if response.body else None
            with state.lock:
                entry["id"] = len(state.requests) + 1
                state.requests.append(entry)
                key = version or "<missing>"
                state.intercom_versions_seen[key] = state.intercom_versions_seen.get(key, 0) + 1
            return response

        return endpoint

    async def dispatch(
        request: Request, handler: Handler, body: Any, body_error: bool | None
    ) -> Response:
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {access_token}":
            return fail(ApiFailure(401, "unauthorized", "Access Token Invalid"))
        now = time.time()
        with state.lock:
            if state.rate_limit_remaining > 0:
                state.rate_limit_remaining -= 1
                reset = int(now) + state.rate_limit_retry_after
                return fail(
                    ApiFailure(429, "rate_limit_exceeded", "Rate Limit Exceeded"),
                    {
                        "X-RateLimit-Limit": str(RATE_LIMIT_PER_WINDOW),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": str(reset),
                        "Retry-After": str(state.rate_limit_retry_after),
                    },
                )
            headers = rate_headers(now)
            fault = take_fault(request.method, request.url.path)
        if fault is not None:
            code, message = SERVER_ERROR_BODIES.get(fault.status, ("server_error", "Server Error"))
            return fail(ApiFailure(fault.status, code, message), headers)
        if body_error:
            return fail(ApiFailure(400, "parameter_invalid", "Request body is not valid JSON"))
        try:
            with state.lock:
                response = await handler(request, body)
        except ApiFailure as exc:
            return fail(exc, headers)
        response.headers.update(headers)
        return response

    def contact_or_404(contact_id: str) -> dict[str, Any]:
        contact = state.contacts.get(contact_id)
        if contact is None:
            raise user_not_found()
        return contact

    # ---- contacts ----
    async def search_contacts(request: Request, body: Any) -> Response:
        body = _require_dict(body)
        query = body.get("query")
        if query is None:
            raise ApiFailure(400, "parameter_not_found", "query is a required parameter")
        _validate_query(query)
        pagination = body.get("pagination") or {}
        per_page = pagination.get("per_page") or DEFAULT_PER_PAGE
        if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
            raise ApiFailure(400, "parameter_invalid", "per_page must be between 1 and 150")
        cursor = pagination.get("starting_after")
        offset = _decode_cursor(cursor) if cursor else 0
        found = [c for c in state.contacts.values() if _matches(state, c, query)]
        chunk, pages = _page(found, per_page, offset)
        return JSONResponse(
            {
                "type": "list",
                "data": [render_contact(state, c) for c in chunk],
                "total_count": len(found),
                "pages": pages,
            }
        )

    async def get_contact(request: Request, body: Any) -> Response:
        contact = contact_or_404(request.path_params["contact_id"])
        return JSONResponse(render_contact(state, contact))

    async def find_by_external_id(request: Request, body: Any) -> Response:
        contact = state.contact_by_external_id(request.path_params["external_id"])
        if contact is None:
            raise user_not_found()
        return JSONResponse(render_contact(state, contact))

    async def update_contact(request: Request, body: Any) -> Response:
        contact = contact_or_404(request.path_params["contact_id"])
        body = _require_dict(body)
        if "role" in body and body["role"] not in ("user", "lead"):
            raise ApiFailure(400, "parameter_invalid", "role must be user or lead")
        custom = body.get("custom_attributes")
        if custom is not None and not isinstance(custom, dict):
            raise ApiFailure(400, "parameter_invalid", "custom_attributes must be an object")
        cleaned: dict[str, Any] = {}
        for name, value in (custom or {}).items():
            attribute = state.custom_attribute(name)
            if attribute is None:
                raise ApiFailure(
                    400, "parameter_invalid", f"Custom attribute '{name}' does not exist"
                )
            cleaned[name] = _check_custom_value(
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

    # ---- tags ----
    async def create_tag(request: Request, body: Any) -> Response:
        body = _require_dict(body)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiFailure(400, "parameter_invalid", "invalid tag parameters")
        if body.get("companies"):
            raise ApiFailure(404, "company_not_found", "Company Not Found")
        users = body.get("users")
        if users is not None:
            ids = [u.get("id") for u in users if isinstance(u, dict)]
            if any(i not in state.contacts for i in ids):
                raise user_not_found()
        if body.get("id") is not None:
            tag = state.tags.get(str(body["id"]))
            if tag is None:
                raise resource_not_found()
            tag["name"] = name
        else:
            tag = state.create_tag(name)
        for user in users or []:
            if not isinstance(user, dict):
                continue
            if user.get("untag"):
                state.contact_tags.setdefault(user["id"], {}).pop(tag["id"], None)
            else:
                attach(user["id"], tag["id"])
        return JSONResponse({"type": "tag", "id": tag["id"], "name": tag["name"]})

    async def list_tags(request: Request, body: Any) -> Response:
        return JSONResponse(
            {
                "type": "list",
                "data": [
                    {"type": "tag", "id": t["id"], "name": t["name"]} for t in state.tags.values()
                ],
            }
        )

    def attach(contact_id: str, tag_id: str) -> dict[str, Any]:
        applied = state.contact_tags.setdefault(contact_id, {})
        if tag_id not in applied:
            applied[tag_id] = {"applied_at": state.now(), "applied_by": state.token_admin_id}
            state.record_activity(
                contact_id, "tag_added", {"tag_id": tag_id, "tag_name": state.tags[tag_id]["name"]}
            )
        return applied[tag_id]

    async def attach_tag(request: Request, body: Any) -> Response:
        contact = contact_or_404(request.path_params["contact_id"])
        body = _require_dict(body)
        tag_id = body.get("id")
        if tag_id is None:
            raise ApiFailure(400, "parameter_not_found", "id is a required parameter")
        tag_id = str(tag_id)
        if tag_id not in state.tags:
            raise resource_not_found()
        applied = attach(contact["id"], tag_id)
        return JSONResponse(render_applied_tag(state, tag_id, applied))

    async def detach_tag(request: Request, body: Any) -> Response:
        contact = contact_or_404(request.path_params["contact_id"])
        tag_id = request.path_params["tag_id"]
        if tag_id not in state.tags:
            raise resource_not_found()
        applied = state.contact_tags.setdefault(contact["id"], {}).pop(tag_id, None)
        if applied is not None:
            state.record_activity(
                contact["id"],
                "tag_removed",
                {"tag_id": tag_id, "tag_name": state.tags[tag_id]["name"]},
            )
        applied = applied or {"applied_at": None, "applied_by": state.token_admin_id}
        return JSONResponse(render_applied_tag(state, tag_id, applied))

    async def list_contact_tags(request: Request, body: Any) -> Response:
        contact = contact_or_404(request.path_params["contact_id"])
        applied = state.contact_tags.get(contact["id"], {})
        return JSONResponse(
            {
                "type": "list",
                "data": [render_applied_tag(state, tid, a) for tid, a in applied.items()],
            }
        )

    # ---- events ----
    def resolve_event_contact(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("id") is not None:
            contact = state.contacts.get(str(body["id"]))
        elif body.get("user_id") is not None:
            contact = state.contact_by_external_id(str(body["user_id"]))
        elif body.get("email") is not None:
            contact = state.contact_by_email(str(body["email"]))
        else:
            raise ApiFailure(400, "parameter_not_found", "One of id, user_id or email is required")
        if contact is None:
            raise user_not_found()
        return contact

    async def create_event(request: Request, body: Any) -> Response:
        body = _require_dict(body)
        name = body.get("event_name")
        if not isinstance(name, str) or not name:
            raise ApiFailure(400, "parameter_not_found", "event_name is a required parameter")
        created_at = body.get("created_at")
        if isinstance(created_at, bool) or not isinstance(created_at, int):
            raise ApiFailure(400, "parameter_invalid", "created_at must be a Unix timestamp")
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ApiFailure(400, "parameter_invalid", "metadata must be an object")
        for key, value in metadata.items():
            if isinstance(value, dict):
                if set(value) not in ({"url", "value"}, {"url"}, {"amount", "currency"}):
                    raise ApiFailure(
                        400, "parameter_invalid", f"metadata '{key}' must not be nested JSON"
                    )
            elif isinstance(value, list):
                raise ApiFailure(
                    400, "parameter_invalid", f"metadata '{key}' must not be nested JSON"
                )
        contact = resolve_event_contact(body)
        keys = list(metadata)
        kept = {k: metadata[k] for k in keys[:MAX_EVENT_METADATA_KEYS]}
        ignored = keys[MAX_EVENT_METADATA_KEYS:]
        duplicate = any(
            e["contact_id"] == contact["id"]
            and e["event_name"] == name
            and e["created_at"] == created_at
            for e in state.events
        )
        if duplicate:
            state.record_activity(
                contact["id"],
                "event_duplicate_ignored",
                {"event_name": name, "created_at": created_at},
            )
            return Response(status_code=202)
        event = {
            "type": "event",
            "id": str(state.next_id("event", 5001)),
            "event_name": name,
            "created_at": created_at,
            "contact_id": contact["id"],
            "user_id": contact["external_id"],
            "email": contact["email"],
            "metadata": kept,
            "ignored_metadata_keys": ignored,
        }
        state.events.append(event)
        state.record_activity(
            contact["id"],
            "event",
            {
                "event_name": name,
                "created_at": created_at,
                "metadata": kept,
                "ignored_metadata_keys": ignored,
            },
        )
        return Response(status_code=202)

    async def list_events(request: Request, body: Any) -> Response:
        params = request.query_params
        if params.get("type") != "user":
            raise ApiFailure(400, "parameter_invalid", "type must be user")
        if params.get("intercom_user_id"):
            contact = state.contacts.get(params["intercom_user_id"])
        elif params.get("user_id"):
            contact = state.contact_by_external_id(params["user_id"])
        elif params.get("email"):
            contact = state.contact_by_email(params["email"])
        else:
            raise ApiFailure(
                400, "parameter_not_found", "One of user_id, intercom_user_id or email is required"
            )
        if contact is None:
            raise user_not_found()
        mine = [e for e in state.events if e["contact_id"] == contact["id"]]
        base = {
            "email": contact["email"],
            "intercom_user_id": contact["id"],
            "user_id": contact["external_id"],
        }
        if params.get("summary") == "true":
            summary: dict[str, dict[str, Any]] = {}
            for event in mine:
                item = summary.setdefault(
                    event["event_name"],
                    {"name": event["event_name"], "first": None, "last": None, "count": 0},
                )
                stamp = datetime.fromtimestamp(event["created_at"], UTC).isoformat(
                    timespec="milliseconds"
                )
                item["first"] = min(filter(None, [item["first"], stamp]))
                item["last"] = max(filter(None, [item["last"], stamp]))
                item["count"] += 1
            return JSONResponse({"type": "event.summary", **base, "events": list(summary.values())})
        per_page = int(params.get("per_page") or 15)
        newest_first = sorted(mine, key=lambda e: (e["created_at"], e["id"]), reverse=True)
        return JSONResponse(
            {
                # Spec: data_event_summary ("event.summary"); the live API labels this "event.list".
                "type": "event.summary",
                **base,
                "events": [
                    {
                        "type": "event",
                        "id": e["id"],
                        "event_name": e["event_name"],
                        "created_at": e["created_at"],
                        "user_id": e["user_id"],
                        "intercom_user_id": e["contact_id"],
                        "email": e["email"],
                        "metadata": e["metadata"],
                    }
                    for e in newest_first[:per_page]
                ],
                "pages": {"next": None},
            }
        )

    # ---- notes ----
    async def create_note(request: Request, body: Any) -> Response:
        contact = contact_or_404(request.path_params["contact_id"])
        body = _require_dict(body)
        text = body.get("body")
        if not isinstance(text, str) or not text:
            raise ApiFailure(400, "parameter_not_found", "body is a required parameter")
        admin_id = body.get("admin_id")
        admin_id = str(admin_id) if admin_id is not None else state.token_admin_id
        if admin_id not in state.admins:
            raise resource_not_found()
        note = {
            "id": str(state.next_id("note", 301)),
            "contact_id": contact["id"],
            "admin_id": admin_id,
            "created_at": state.now(),
            "body": html_body(text),
        }
        state.notes.append(note)
        state.record_activity(
            contact["id"],
            "note",
            {"note_id": note["id"], "body": note["body"], "admin_id": admin_id},
        )
        return JSONResponse(render_note(state, note))

    async def list_notes(request: Request, body: Any) -> Response:
        contact = contact_or_404(request.path_params["contact_id"])
        mine = [n for n in state.notes if n["contact_id"] == contact["id"]]
        mine.sort(key=lambda n: (n["created_at"], int(n["id"])), reverse=True)
        per_page = int(request.query_params.get("per_page") or DEFAULT_PER_PAGE)
        page = int(request.query_params.get("page") or 1)
        chunk = mine[(page - 1) * per_page : page * per_page]
        total_pages = max((len(mine) + per_page - 1) // per_page, 1)
        return JSONResponse(
            {
                "type": "list",
                "data": [render_note(state, n) for n in chunk],
                "total_count": len(mine),
                "pages": {
                    "type": "pages",
                    "next": None,
                    "page": page,
                    "per_page": per_page,
                    "total_pages": total_pages,
                },
            }
        )

    # ---- data attributes ----
    async def list_data_attributes(request: Request, body: Any) -> Response:
        model = request.query_params.get("model")
        if model is not None and model not in ("contact", "company", "conversation"):
            raise ApiFailure(400, "parameter_invalid", "model must be contact or company")
        include_archived = request.query_params.get("include_archived") == "true"
        data = [
            render_data_attribute(a)
            for a in state.data_attributes
            if (model is None or a["model"] == model) and (include_archived or not a["archived"])
        ]
        return JSONResponse({"type": "list", "data": data})

    async def create_data_attribute(request: Request, body: Any) -> Response:
        body = _require_dict(body)
        name = body.get("name")
        model = body.get("model")
        data_type = body.get("data_type")
        if model not in ("contact", "company"):
            raise ApiFailure(
                400,
                "parameter_invalid",
                "The Data Attribute model field must be either contact or company",
            )
        if not isinstance(name, str) or not name or not ATTRIBUTE_NAME_RE.match(name):
            raise ApiFailure(
                400,
                "parameter_invalid",
                "Your name for this attribute must only contain alphanumeric characters, "
                "currency symbols, and hyphens",
            )
        options = body.get("options")
        if data_type == "options":
            if not isinstance(options, list) or len(options) < 2:
                raise ApiFailure(
                    400, "parameter_invalid", "Options must contain at least two values"
                )
        elif data_type not in CUSTOM_DATA_TYPES:
            raise ApiFailure(400, "parameter_invalid", "Data Type isn't an option")
        for other_model in ("contact", "company"):
            existing = state.find_attribute(name, other_model)
            if existing is not None:
                raise ApiFailure(
                    400,
                    "parameter_invalid",
                    f"You already have '{name}' in your {MODEL_LABEL[other_model]} data. "
                    f"To save this as new {MODEL_LABEL[model]} data, use a different name.",
                )
        attribute = state.define_attribute(
            name,
            data_type,
            model=model,
            description=body.get("description"),
            messenger_writable=bool(body.get("messenger_writable", False)),
        )
        if data_type == "options":
            attribute["options"] = [str(o.get("value")) for o in options if isinstance(o, dict)]
        return JSONResponse(render_data_attribute(attribute))

    async def update_data_attribute(request: Request, body: Any) -> Response:
        """`PUT /data_attributes/{id}`: archive, describe, set `messenger_writable` or the
        options of a custom attribute (the data type cannot change)."""
        body = _require_dict(body)
        raw_id = request.path_params["data_attribute_id"]
        with state.lock:
            attribute = next(
                (
                    a
                    for a in state.data_attributes
                    if a.get("custom") and str(a.get("id")) == raw_id
                ),
                None,
            )
            if attribute is None:
                raise ApiFailure(
                    404, "field_not_found", "We couldn't find that data attribute to update"
                )
            if "options" in body:
                options = body["options"]
                if not isinstance(options, list):
                    raise ApiFailure(400, "parameter_invalid", "Options isn't an array")
                attribute["options"] = [str(o.get("value")) for o in options if isinstance(o, dict)]
            for key in ("archived", "messenger_writable"):
                if key in body:
                    if not isinstance(body[key], bool):
                        raise ApiFailure(400, "parameter_invalid", f"{key} must be a boolean")
                    attribute[key] = body[key]
            if "description" in body:
                attribute["description"] = body["description"]
            attribute["updated_at"] = state.now()
            return JSONResponse(render_data_attribute(attribute))

    # ---- conversations & admins ----
    async def get_conversation(request: Request, body: Any) -> Response:
        conversation = state.conversations.get(request.path_params["conversation_id"])
        if conversation is None:
            raise resource_not_found()
        return JSONResponse(render_conversation(state, conversation))

    async def reply_conversation(request: Request, body: Any) -> Response:
        body = _require_dict(body)
        conversation_id = request.path_params["conversation_id"]
        reply_type = body.get("type")
        message_type = body.get("message_type")
        now = state.now()
        if reply_type == "admin":
            if message_type not in ("comment", "note", "quick_reply"):
                raise ApiFailure(400, "parameter_invalid", "message_type is invalid")
            admin = state.admins.get(str(body.get("admin_id")))
            if admin is None:
                raise ApiFailure(404, "admin_not_found", "Admin not found")
            author = {
                "id": admin["id"],
                "type": "admin",
                "name": admin["name"],
                "email": admin["email"],
            }
        elif reply_type == "user":
            if message_type not in ("comment", "quick_reply"):
                raise ApiFailure(400, "parameter_invalid", "message_type is invalid")
            if body.get("intercom_user_id"):
                contact = state.contacts.get(str(body["intercom_user_id"]))
            elif body.get("user_id"):
                contact = state.contact_by_external_id(str(body["user_id"]))
            elif body.get("email"):
                contact = state.contact_by_email(str(body["email"]))
            else:
                raise ApiFailure(
                    400,
                    "parameter_not_found",
                    "One of intercom_user_id, user_id or email is required",
                )
            if contact is None:
                raise user_not_found()
            if conversation_id == "last":
                mine = [c for c in state.conversations.values() if c["contact_id"] == contact["id"]]
                if not mine:
                    raise resource_not_found()
                conversation_id = max(mine, key=lambda c: c["updated_at"])["id"]
            author = {
                "id": contact["id"],
                "type": contact["role"],
                "name": contact["name"],
                "email": contact["email"],
            }
        else:
            raise ApiFailure(400, "parameter_invalid", "type must be admin or user")
        conversation = state.conversations.get(conversation_id)
        if conversation is None:
            raise resource_not_found()
        part = {
            "type": "conversation_part",
            "id": str(state.next_id("conversation_part", 1001)),
            "part_type": message_type,
            "body": html_body(body.get("body")),
            "created_at": now,
            "updated_at": now,
            "notified_at": now,
            "author": author,
            "attachments": [],
            "external_id": None,
            "redacted": False,
            "metadata": {},
            "app_package_code": None,
        }
        conversation["parts"].append(part)
        conversation["updated_at"] = now
        if reply_type == "user":
            conversation["waiting_since"] = now
            conversation["state"] = "open"
        elif message_type != "note":
            conversation["waiting_since"] = None
        state.record_activity(
            conversation["contact_id"],
            "conversation_reply",
            {
                "conversation_id": conversation_id,
                "part_id": part["id"],
                "message_type": message_type,
                "author_type": author["type"],
                "body": part["body"],
            },
        )
        return JSONResponse(render_conversation(state, conversation))

    async def identify_admin(request: Request, body: Any) -> Response:
        admin = state.admins.get(state.token_admin_id or "")
        if admin is None:
            return JSONResponse(None)
        return JSONResponse(render_admin_with_app(state, admin))

    async def unknown_route(request: Request, body: Any) -> Response:
        raise resource_not_found()

    # ---- control plane ----
    async def control_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        return data if isinstance(data, dict) else {}

    async def ctl_rate_limit(request: Request) -> Response:
        data = await control_body(request)
        with state.lock:
            state.rate_limit_remaining = int(data.get("count", 1))
            state.rate_limit_retry_after = int(data.get("retry_after", 1))
        return JSONResponse(
            {"count": state.rate_limit_remaining, "retry_after": state.rate_limit_retry_after}
        )

    async def ctl_faults(request: Request) -> Response:
        if request.method == "DELETE":
            with state.lock:
                state.faults.clear()
        elif request.method == "POST":
            data = await control_body(request)
            fault = Fault(
                status=int(data.get("status", 500)),
                count=int(data.get("count", 1)),
                path_prefix=str(data.get("path_prefix", "/")),
                method=(str(data["method"]).upper() if data.get("method") else None),
            )
            with state.lock:
                state.faults.append(fault)
        return JSONResponse({"faults": [vars(f) for f in state.faults]})

    async def ctl_latency(request: Request) -> Response:
        data = await control_body(request)
        state.latency_ms = max(int(data.get("ms", 0)), 0)
        return JSONResponse({"ms": state.latency_ms})

    async def ctl_requests(request: Request) -> Response:
        with state.lock:
            if request.method == "DELETE":
                state.requests.clear()
                return JSONResponse({"deleted": True})
            prefix = request.query_params.get("path_prefix", "")
            method = request.query_params.get("method")
            data = [
                r
                for r in state.requests
                if r["path"].startswith(prefix)
                and (method is None or r["method"] == method.upper())
            ]
            return JSONResponse(
                {"data": data, "intercom_versions_seen": dict(state.intercom_versions_seen)}
            )

    async def ctl_contacts(request: Request) -> Response:
        with state.lock:
            return JSONResponse(
                {"data": [render_contact(state, c) for c in state.contacts.values()]}
            )

    async def ctl_activity(request: Request) -> Response:
        contact_id = request.path_params["contact_id"]
        with state.lock:
            contact = state.contacts.get(contact_id)
            if contact is None:
                return JSONResponse(error_body("not_found", "User Not Found"), 404)
            applied = state.contact_tags.get(contact_id, {})
            return JSONResponse(
                {
                    "contact_id": contact_id,
                    "email": contact["email"],
                    "external_id": contact["external_id"],
                    "custom_attributes": dict(contact["custom_attributes"]),
                    "tags": [render_applied_tag(state, tid, a) for tid, a in applied.items()],
                    "events": [
                        {k: v for k, v in e.items() if k != "type"}
                        for e in state.events
                        if e["contact_id"] == contact_id
                    ],
                    "notes": [
                        render_note(state, n) for n in state.notes if n["contact_id"] == contact_id
                    ],
                    "timeline": list(state.activity.get(contact_id, [])),
                }
            )

    async def ctl_reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"reset": True, "contacts": len(state.contacts)})

    routes = [
        Route("/_sandbox/rate_limit", ctl_rate_limit, methods=["POST"]),
        Route("/_sandbox/faults", ctl_faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/latency", ctl_latency, methods=["POST"]),
        Route("/_sandbox/requests", ctl_requests, methods=["GET", "DELETE"]),
        Route("/_sandbox/contacts", ctl_contacts, methods=["GET"]),
        Route("/_sandbox/contacts/{contact_id}/activity", ctl_activity, methods=["GET"]),
        Route("/_sandbox/reset", ctl_reset, methods=["POST"]),
        Route("/contacts/search", api(search_contacts), methods=["POST"]),
        Route(
            "/contacts/find_by_external_id/{external_id:path}",
            api(find_by_external_id),
            methods=["GET"],
        ),
        Route("/contacts/{contact_id}/tags", api(attach_tag), methods=["POST"]),
        Route("/contacts/{contact_id}/tags", api(list_contact_tags), methods=["GET"]),
        Route("/contacts/{contact_id}/tags/{tag_id}", api(detach_tag), methods=["DELETE"]),
        Route("/contacts/{contact_id}/notes", api(create_note), methods=["POST"]),
        Route("/contacts/{contact_id}/notes", api(list_notes), methods=["GET"]),
        Route("/contacts/{contact_id}", api(get_contact), methods=["GET"]),
        Route("/contacts/{contact_id}", api(update_contact), methods=["PUT"]),
        Route("/tags", api(create_tag), methods=["POST"]),
        Route("/tags", api(list_tags), methods=["GET"]),
        Route("/events", api(create_event), methods=["POST"]),
        Route("/events", api(list_events), methods=["GET"]),
        Route("/data_attributes", api(list_data_attributes), methods=["GET"]),
        Route("/data_attributes", api(create_data_attribute), methods=["POST"]),
        Route("/data_attributes/{data_attribute_id}", api(update_data_attribute), methods=["PUT"]),
        Route("/conversations/{conversation_id}", api(get_conversation), methods=["GET"]),
        Route("/conversations/{conversation_id}/reply", api(reply_conversation), methods=["POST"]),
        Route("/me", api(identify_admin), methods=["GET"]),
        Route(
            "/{rest:path}",
            api(unknown_route),
            methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
        ),
    ]
    app = Starlette(routes=routes)
    app.state.intercom = state
    return app
