"""A contact's notes: create and list (newest first, paged)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .contacts import contact_or_404
from .errors import ApiFailure, require_dict, resource_not_found
from .render import html_body, render_note
from .search import DEFAULT_PER_PAGE
from .state import IntercomState


async def create_note(state: IntercomState, request: Request, body: Any) -> Response:
    contact = contact_or_404(state, request.path_params["contact_id"])
    body = require_dict(body)
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


async def list_notes(state: IntercomState, request: Request, body: Any) -> Response:
    contact = contact_or_404(state, request.path_params["contact_id"])
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
