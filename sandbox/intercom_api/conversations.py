"""``/conversations``: get and reply (as an admin or as the contact); ``/me``: the token's admin."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import ApiFailure, require_dict, resource_not_found, user_not_found
from .render import html_body, render_admin_with_app, render_conversation
from .state import IntercomState


async def get_conversation(state: IntercomState, request: Request, body: Any) -> Response:
    conversation = state.conversations.get(request.path_params["conversation_id"])
    if conversation is None:
        raise resource_not_found()
    return JSONResponse(render_conversation(state, conversation))


async def reply_conversation(state: IntercomState, request: Request, body: Any) -> Response:
    body = require_dict(body)
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


async def identify_admin(state: IntercomState, request: Request, body: Any) -> Response:
    admin = state.admins.get(state.token_admin_id or "")
    if admin is None:
        return JSONResponse(None)
    return JSONResponse(render_admin_with_app(state, admin))
