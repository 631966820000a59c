"""Canvas Kit components and responses as typed models.

They serialise (`.dump()`) to exactly what Intercom accepts: the shapes of
`intercom-canvas-kit-2.11.json`, optional fields left out rather than sent as null. Card builders
compose these; nothing else in the app writes Canvas Kit JSON by hand.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TextStyle = Literal["header", "paragraph", "muted", "error"]
Align = Literal["left", "center", "right"]
SpacerSize = Literal["xs", "s", "m", "l", "xl"]
ButtonStyle = Literal["primary", "secondary", "link"]
SaveState = Literal["unsaved", "saved", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# --- actions ---
class SubmitAction(_Model):
    type: Literal["submit"] = "submit"


class UrlAction(_Model):
    type: Literal["url"] = "url"
    url: str


class SheetAction(_Model):
    type: Literal["sheet"] = "sheet"
    url: str


Action = Annotated[SubmitAction | UrlAction | SheetAction, Field(discriminator="type")]


# --- presentation ---
class Text(_Model):
    """One line of text. Canvas Kit renders only **bold** and [links](url); one component per line."""

    type: Literal["text"] = "text"
    text: str
    id: str | None = None
    style: TextStyle | None = None
    align: Align | None = None
    bottom_margin: Literal["none"] | None = None


class FieldValue(_Model):
    type: Literal["field-value"] = "field-value"
    field: str
    value: str


class DataTable(_Model):
    type: Literal["data-table"] = "data-table"
    items: list[FieldValue]


class Image(_Model):
    type: Literal["image"] = "image"
    url: str
    width: int
    height: int
    id: str | None = None
    align: Literal["left", "center", "right", "full_width"] | None = None
    rounded: bool | None = None
    bottom_margin: Literal["none"] | None = None
    action: UrlAction | None = None


class Spacer(_Model):
    type: Literal["spacer"] = "spacer"
    size: SpacerSize | None = None
    id: str | None = None


class Divider(_Model):
    type: Literal["divider"] = "divider"
    id: str | None = None
    bottom_margin: Literal["none"] | None = None


# --- interactive ---
class Button(_Model):
    type: Literal["button"] = "button"
    id: str
    label: str
    action: Action = Field(default_factory=SubmitAction)
    style: ButtonStyle | None = None
    disabled: bool | None = None


class ListItem(_Model):
    """A list row. Without an action Intercom doesn't make it clickable, so it submits by
    default (like a button)."""

    type: Literal["item"] = "item"
    id: str
    title: str
    subtitle: str | None = None
    tertiary_text: str | None = None
    disabled: bool | None = None
    action: Action = Field(default_factory=SubmitAction)


class ListComponent(_Model):
    type: Literal["list"] = "list"
    items: list[ListItem]
    disabled: bool | None = None


class Option(_Model):
    type: Literal["option"] = "option"
    id: str
    text: str
    disabled: bool | None = None


class Input(_Model):
    type: Literal["input"] = "input"
    id: str
    label: str | None = None
    placeholder: str | None = None
    value: str | None = None
    action: Action | None = None
    save_state: SaveState | None = None
    disabled: bool | None = None


class TextArea(_Model):
    type: Literal["textarea"] = "textarea"
    id: str
    label: str | None = None
    placeholder: str | None = None
    value: str | None = None
    error: bool | None = None
    disabled: bool | None = None


class Dropdown(_Model):
    type: Literal["dropdown"] = "dropdown"
    id: str
    options: Annotated[list[Option], Field(min_length=2, max_length=10)]
    label: str | None = None
    value: str | None = None
    save_state: SaveState | None = None
    disabled: bool | None = None


class SingleSelect(_Model):
    type: Literal["single-select"] = "single-select"
    id: str
    options: Annotated[list[Option], Field(min_length=2, max_length=10)]
    label: str | None = None
    value: str | None = None
    action: Action | None = None
    save_state: SaveState | None = None
    disabled: bool | None = None


class Checkbox(_Model):
    type: Literal["checkbox"] = "checkbox"
    id: str
    label: str
    # Canvas Kit really spells the options list `option`.
    option: Annotated[list[Option], Field(min_length=1)]
    value: list[str] | None = None
    save_state: SaveState | None = None
    disabled: bool | None = None


Component = Annotated[
    Text
    | DataTable
    | Image
    | Spacer
    | Divider
    | Button
    | ListComponent
    | Input
    | TextArea
    | Dropdown
    | SingleSelect
    | Checkbox,
    Field(discriminator="type"),
]


# --- canvas and responses ---
class Content(_Model):
    components: list[Component]


class Canvas(_Model):
    """A static canvas (`content`) or a live one (`content_url`, with `content` as the first paint:
    the 2.11 contract requires `content` on every canvas)."""

    content: Content
    content_url: str | None = None
    stored_data: dict[str, Any] | None = None


def canvas(*components: Component, stored_data: dict[str, Any] | None = None) -> Canvas:
    return Canvas(content=Content(components=list(components)), stored_data=stored_data or None)


def canvas_response(
    canvas_: Canvas,
    *,
    completed: bool = False,
    card_creation_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of an initialize or submit response."""
    body: dict[str, Any] = {"canvas": canvas_.dump()}
    if completed:
        body["event"] = {"type": "completed"}
    if card_creation_options is not None:
        body["card_creation_options"] = card_creation_options
    return body


def content_response(components: list[Component]) -> dict[str, Any]:
    """The body of a live-canvas (`content_url`) response."""
    return {"content": Content(components=components).dump()}


def results_response(results: dict[str, Any]) -> dict[str, Any]:
    """The body of a configure response that ends configuration."""
    return {"results": results}
