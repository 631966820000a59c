"""``/tags`` and a contact's tags: create, list, attach, detach."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .contacts import contact_or_404
from .errors import ApiFailure, require_dict, resource_not_found, user_not_found
from .render import render_applied_tag
from .state import IntercomState


async def create_tag(state: IntercomState, request: Request, body: Any) -> Response:
    body = require_dict(body)
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
            attach(state, user["id"], tag["id"])
    return JSONResponse({"type": "tag", "id": tag["id"], "name": tag["name"]})


async def list_tags(state: IntercomState, request: Request, body: Any) -> Response:
    return JSONResponse(
        {
            "type": "list",
            "data": [
                {"type": "tag", "id": t["id"], "name": t["name"]} for t in state.tags.values()
            ],
        }
    )


def attach(state: IntercomState, contact_id: str, tag_id: str) -> dict[str, Any]:
    applied = state.contact_tags.setdefault(contact_id, {})
    if tag_id not in applied:
        applied[tag_id] = {"applied_at": state.now(), "applied_by": state.token_admin_id}
        state.record_activity(
            contact_id, "tag_added", {"tag_id": tag_id, "tag_name": state.tags[tag_id]["name"]}
        )
    return applied[tag_id]


async def attach_tag(state: IntercomState, request: Request, body: Any) -> Response:
    contact = contact_or_404(state, request.path_params["contact_id"])
    body = require_dict(body)
    tag_id = body.get("id")
    if tag_id is None:
        raise ApiFailure(400, "parameter_not_found", "id is a required parameter")
    tag_id = str(tag_id)
    if tag_id not in state.tags:
        raise resource_not_found()
    applied = attach(state, contact["id"], tag_id)
    return JSONResponse(render_applied_tag(state, tag_id, applied))


async def detach_tag(state: IntercomState, request: Request, body: Any) -> Response:
    contact = contact_or_404(state, request.path_params["contact_id"])
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


async def list_contact_tags(state: IntercomState, request: Request, body: Any) -> Response:
    contact = contact_or_404(state, request.path_params["contact_id"])
    applied = state.contact_tags.get(contact["id"], {})
    return JSONResponse(
        {
            "type": "list",
            "data": [render_applied_tag(state, tid, a) for tid, a in applied.items()],
        }
    )
