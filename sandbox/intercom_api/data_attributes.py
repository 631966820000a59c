"""``/data_attributes``: list, create (names and types checked as Intercom does), update."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import ApiFailure, require_dict
from .render import render_data_attribute
from .state import CUSTOM_DATA_TYPES, IntercomState

ATTRIBUTE_NAME_RE = re.compile(r"^[\w \-$€£¥₹]+$")
MODEL_LABEL = {"contact": "people", "company": "company"}


async def list_data_attributes(state: IntercomState, request: Request, body: Any) -> Response:
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


async def create_data_attribute(state: IntercomState, request: Request, body: Any) -> Response:
    body = require_dict(body)
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
            raise ApiFailure(400, "parameter_invalid", "Options must contain at least two values")
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


async def update_data_attribute(state: IntercomState, request: Request, body: Any) -> Response:
    """`PUT /data_attributes/{id}`: archive, describe, set `messenger_writable` or the
    options of a custom attribute (the data type cannot change)."""
    body = require_dict(body)
    raw_id = request.path_params["data_attribute_id"]
    with state.lock:
        attribute = next(
            (a for a in state.data_attributes if a.get("custom") and str(a.get("id")) == raw_id),
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
