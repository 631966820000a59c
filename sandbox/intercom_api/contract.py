"""Validate request bodies we send to Intercom against the official 2.14 OpenAPI description.

The description travels with the repo (``contracts/intercom-api-2.14.yaml``); it is loaded
once per path and cached because it is ~900 KB. Matching accepts either a path template
(``/contacts/{contact_id}``) or a concrete path (``/contacts/contact_healthy``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from openapi_schema_validator import OAS30Validator

from sandbox.contracts import INTERCOM_API

DEFAULT_SPEC_PATH = INTERCOM_API
_ERROR_SCHEMA: Mapping[str, Any] = {"$ref": "#/components/schemas/error"}


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)  # `loader` is a SafeLoader subclass


def load_spec(path: str | Path = DEFAULT_SPEC_PATH) -> dict[str, Any]:
    """Parse (once) and return the OpenAPI document."""
    return _load(str(Path(path).resolve()))


@functools.lru_cache(maxsize=1024)
def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}$")


def find_operation(
    method: str, path_template_or_path: str, spec: Mapping[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """Return ``(template, operation)``; literal segments win over ``{param}`` segments."""
    method = method.lower()
    path = urlsplit(path_template_or_path).path or "/"
    paths: Mapping[str, Any] = spec["paths"]
    if path in paths and method in paths[path]:
        return path, paths[path][method]
    candidates = []
    for template, item in paths.items():
        if method in item and _template_regex(template).match(path):
            # Fewer parameters = more specific (/contacts/search beats /contacts/{contact_id}).
            candidates.append((template.count("{"), template))
    if not candidates:
        return None
    template = min(candidates)[1]
    return template, paths[template][method]


_VALIDATORS: dict[tuple[int, int], tuple[Any, Any, OAS30Validator]] = {}


def _validator(schema: Mapping[str, Any], spec: Mapping[str, Any]) -> OAS30Validator:
    """One validator per (spec, schema object); building one over ~900 KB of components is slow."""
    key = (id(spec), id(schema))
    cached = _VALIDATORS.get(key)
    if cached is not None and cached[0] is spec and cached[1] is schema:
        return cached[2]
    # allOf keeps "#/components/..." refs resolvable against our wrapper document.
    validator = OAS30Validator({"allOf": [schema], "components": spec.get("components", {})})
    _VALIDATORS[key] = (spec, schema, validator)
    return validator


def validate_request(
    method: str,
    path_template_or_path: str,
    body: Any,
    spec: Mapping[str, Any] | str | Path | None = None,
) -> list[str]:
    """Return human-readable problems with ``body`` for this operation (empty list = valid)."""
    if spec is None or isinstance(spec, str | Path):
        spec = load_spec(spec or DEFAULT_SPEC_PATH)
    found = find_operation(method, path_template_or_path, spec)
    if found is None:
        return [f"no operation {method.upper()} {path_template_or_path} in the spec"]
    template, operation = found
    request_body = operation.get("requestBody")
    if request_body is None:
        if body not in (None, b"", "", {}):
            return [f"{method.upper()} {template} takes no request body"]
        return []
    if "$ref" in request_body:
        name = request_body["$ref"].rsplit("/", 1)[-1]
        request_body = spec["components"]["requestBodies"][name]
    content = request_body.get("content", {})
    media = content.get("application/json")
    if media is None or "schema" not in media:
        return [f"{method.upper()} {template} has no application/json request schema"]
    if body is None:
        return (
            [f"{method.upper()} {template} requires a JSON body"]
            if request_body.get("required")
            else []
        )
    errors = sorted(_validator(media["schema"], spec).iter_errors(body), key=lambda e: e.path)
    return [
        f"{method.upper()} {template}: {'/'.join(str(p) for p in error.absolute_path) or '<body>'}: "
        f"{error.message}"
        for error in errors
    ]


def validate_response(
    method: str,
    path_template_or_path: str,
    status: int,
    body: Any,
    spec: Mapping[str, Any] | str | Path | None = None,
) -> list[str]:
    """Check a response body against the operation's schema for ``status`` (sandbox self-check).

    Statuses the spec does not describe for the operation (e.g. 429, 500) are checked against the
    generic ``error`` schema when the body is an ``error.list``.
    """
    if spec is None or isinstance(spec, str | Path):
        spec = load_spec(spec or DEFAULT_SPEC_PATH)
    found = find_operation(method, path_template_or_path, spec)
    if found is None:
        return [f"no operation {method.upper()} {path_template_or_path} in the spec"]
    template, operation = found
    response = operation.get("responses", {}).get(str(status))
    schema: Mapping[str, Any] | None = None
    if response is not None:
        schema = response.get("content", {}).get("application/json", {}).get("schema")
    elif isinstance(body, dict) and body.get("type") == "error.list":
        schema = _ERROR_SCHEMA
    else:
        return [f"{method.upper()} {template}: status {status} is not described"]
    if schema is None:
        return [] if body in (None, b"", "") else [f"{template} {status} has no body in the spec"]
    errors = sorted(_validator(schema, spec).iter_errors(body), key=lambda e: e.path)
    return [
        f"{method.upper()} {template} {status}: "
        f"{'/'.join(str(p) for p in error.absolute_path) or '<body>'}: {error.message[:200]}"
        for error in errors
    ]
