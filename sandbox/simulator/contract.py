"""Checks a Canvas Kit response the way a careful reviewer would: against the official schema
(`intercom-canvas-kit-2.11.json`, read in place) and against the documented limits the schema
does not encode (64 KB, option counts, sheets outside the Messenger, duplicate ids)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

# Each component type's own schema: a failed `oneOf` over all components says only "not valid
# under any of the given schemas", so a failing component is re-checked against its own type.
COMPONENT_SCHEMAS = {
    "button": "button_component",
    "checkbox": "checkbox_component",
    "dropdown": "dropdown_component",
    "input": "input_component",
    "list": "list_component",
    "single-select": "single_select_component",
    "textarea": "text_area_component",
    "data-table": "data_table_component",
    "divider": "divider_component",
    "image": "image_component",
    "spacer": "spacer_component",
    "text": "text_component",
}
MAX_BYTES = 64 * 1024
MAX_MESSAGE = 240


@dataclass
class ContractReport:
    """The outcome for one response: `available` is False when the schema file is missing."""

    schema: str
    available: bool
    errors: list[str] = field(default_factory=list)
    limit_warnings: list[str] = field(default_factory=list)
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "available": self.available,
            "errors": self.errors,
            "limit_warnings": self.limit_warnings,
            "note": self.note,
        }


class CanvasContract:
    """The Canvas Kit schemas, loaded once; `check()` answers for one response body."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._components: dict[str, Any] | None = None
        self._validators: dict[str, Any] = {}
        self.unavailable_reason = ""
        if path is None:
            self.unavailable_reason = "contract not available: no schema file configured"
            return
        if not path.exists():
            self.unavailable_reason = f"contract not available: {path} not found"
            return
        try:
            from jsonschema.exceptions import best_match
            from openapi_schema_validator import OAS30Validator
        except ImportError:
            self.unavailable_reason = (
                "contract not available: install the test extras (openapi-schema-validator)"
            )
            return
        self._validator_class = OAS30Validator
        self._best_match = best_match
        self._components = json.loads(path.read_text())["components"]

    @property
    def available(self) -> bool:
        return self._components is not None

    def check(self, schema: str, body: Any, *, surface: str) -> ContractReport:
        report = ContractReport(schema=schema, available=self.available)
        report.limit_warnings = list(limit_warnings(body, surface=surface))
        if not self.available:
            report.note = self.unavailable_reason
            return report
        report.errors = self._schema_errors(schema, body)
        return report

    def _validator(self, schema: str) -> Any:
        if schema not in self._validators:
            self._validators[schema] = self._validator_class(
                {"$ref": f"#/components/schemas/{schema}", "components": self._components}
            )
        return self._validators[schema]

    def _schema_errors(self, schema: str, body: Any) -> list[str]:
        return self._describe(self._validator(schema).iter_errors(body), [])

    def _describe(self, errors: Iterable[ValidationError], base: list[Any]) -> list[str]:
        """Readable messages: which component, which field, what is wrong with it."""
        out: list[str] = []
        for error in errors:
            path = base + list(error.relative_path)
            if error.validator == "oneOf" and not error.context and path[-2:-1] == ["items"]:
                # Upstream quirk: `list_item_without_image` does not forbid an image, so an item
                # with one matches both `oneOf` branches. Matching both still means valid.
                continue
            if error.validator == "oneOf" and path[-2:-1] == ["components"]:
                out.extend(self._component_errors(error.instance, path))
            elif error.validator in ("oneOf", "anyOf") and error.context:
                out.extend(
                    _wrong_type(error, path)
                    or self._describe([self._best_match(error.context)], path)
                )
            else:
                out.append(f"{_path_label(path)}: {_short(error.message)}")
        return out

    def _component_errors(self, component: Any, path: list[Any]) -> list[str]:
        kind = component.get("type") if isinstance(component, dict) else None
        own_schema = COMPONENT_SCHEMAS.get(kind) if isinstance(kind, str) else None
        if own_schema is None:
            known = ", ".join(sorted(COMPONENT_SCHEMAS))
            return [f"{_path_label(path)}: unknown component type {kind!r} (known: {known})"]
        return self._describe(self._validator(own_schema).iter_errors(component), path)


def _wrong_type(error: ValidationError, path: list[Any]) -> list[str]:
    """When every `oneOf` branch rejects the object's `type`, say which types exist."""
    rejections = [
        e
        for e in error.context or []
        if e.validator == "enum" and list(e.relative_path) == ["type"]
    ]
    branches = error.validator_value
    if not isinstance(branches, list) or len({e.schema_path[0] for e in rejections}) < len(
        branches
    ):
        return []
    allowed = sorted(
        {
            str(value)
            for e in rejections
            if isinstance(e.validator_value, list)
            for value in e.validator_value
        }
    )
    given = error.instance.get("type") if isinstance(error.instance, dict) else None
    return [f"{_path_label([*path, 'type'])}: {given!r} is not one of {', '.join(allowed)}"]


def limit_warnings(body: Any, *, surface: str) -> Iterator[str]:
    """Documented Canvas Kit rules the schema leaves out."""
    if not isinstance(body, dict):
        return
    canvas = body.get("canvas") if isinstance(body.get("canvas"), dict) else None
    content = canvas.get("content") if canvas else body.get("content")
    if content is not None and _size(content) > MAX_BYTES:
        yield f"content is {_size(content) // 1024} KB; Intercom accepts at most 64 KB"
    if (
        canvas
        and canvas.get("stored_data") is not None
        and _size(canvas["stored_data"]) > MAX_BYTES
    ):
        yield f"stored_data is {_size(canvas['stored_data']) // 1024} KB; at most 64 KB"
    components = content.get("components") if isinstance(content, dict) else None
    if not isinstance(components, list):
        return
    seen: set[str] = set()
    for index, component in enumerate(components):
        if not isinstance(component, dict):
            continue
        where = f"components[{index}] ({component.get('type')})"
        component_id = component.get("id")
        if isinstance(component_id, str):
            if component_id in seen:
                yield f"{where}: id {component_id!r} is used twice; input_values would collide"
            seen.add(component_id)
        kind = component.get("type")
        if kind in ("dropdown", "single-select"):
            count = len(component.get("options") or [])
            if not 2 <= count <= 10:
                yield f"{where}: {count} options; Canvas Kit takes 2 to 10"
        if kind == "checkbox" and not component.get("option"):
            yield f"{where}: needs at least one option (the key is spelled `option`)"
        if surface != "messenger":
            for action in _actions(component):
                if action.get("type") == "sheet":
                    yield f"{where}: sheet actions work only in the Messenger"


def _actions(component: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if isinstance(component.get("action"), dict):
        yield component["action"]
    for item in component.get("items") or []:
        if isinstance(item, dict) and isinstance(item.get("action"), dict):
            yield item["action"]


def _path_label(path: list[Any]) -> str:
    label = ""
    for key in path:
        label += f"[{key}]" if isinstance(key, int) else (f".{key}" if label else str(key))
    return label or "(body)"


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
