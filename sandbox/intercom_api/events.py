"""``/events``: data events (duplicates ignored, metadata keys beyond the tenth dropped) and
a contact's event list or summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import ApiFailure, require_dict, user_not_found
from .state import IntercomState

MAX_EVENT_METADATA_KEYS = 10


def _event_contact(state: IntercomState, body: dict[str, Any]) -> dict[str, Any]:
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


async def create_event(state: IntercomState, request: Request, body: Any) -> Response:
    body = require_dict(body)
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
            raise ApiFailure(400, "parameter_invalid", f"metadata '{key}' must not be nested JSON")
    contact = _event_contact(state, body)
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


async def list_events(state: IntercomState, request: Request, body: Any) -> Response:
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
