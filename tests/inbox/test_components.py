"""Every Canvas Kit component we can build serialises to what the 2.11 contract accepts."""

import pytest
from pydantic import ValidationError

from canvas_kit.components import (
    Button,
    Checkbox,
    Component,
    DataTable,
    Divider,
    Dropdown,
    FieldValue,
    Image,
    Input,
    ListComponent,
    ListItem,
    Option,
    SingleSelect,
    Spacer,
    Text,
    TextArea,
    UrlAction,
    canvas,
    canvas_response,
    content_response,
    results_response,
)

OPTIONS = [Option(id="a", text="A"), Option(id="b", text="B", disabled=True)]
EVERY_COMPONENT: list[Component] = [
    Text(text="**Bold** and [a link](https://example.com)", style="header", align="center"),
    Text(text="muted", style="muted", bottom_margin="none"),
    DataTable(items=[FieldValue(field="Plan", value="Pro")]),
    Image(url="https://example.com/a.png", width=100, height=40, align="full_width", rounded=True),
    Spacer(size="xl"),
    Divider(bottom_margin="none"),
    Button(id="b1", label="Primary"),
    Button(id="b2", label="Open", style="link", action=UrlAction(url="https://example.com")),
    Button(id="b3", label="Off", style="secondary", disabled=True),
    ListComponent(items=[ListItem(id="i1", title="Title", subtitle="Sub", tertiary_text="3rd")]),
    Input(id="in", label="Amount", placeholder="0.00", save_state="unsaved"),
    TextArea(id="ta", label="Note", error=False),
    Dropdown(id="dd", label="Pick", options=OPTIONS, value="a"),
    SingleSelect(id="ss", label="Pick one", options=OPTIONS),
    Checkbox(id="cb", label="Confirm", option=[Option(id="yes", text="Yes")], value=["yes"]),
]


def test_every_component_passes_the_contract(assert_canvas):
    body = canvas_response(canvas(*EVERY_COMPONENT, stored_data={"k": 1}), completed=True)
    assert_canvas("submit_response", body)
    assert_canvas("live_canvas_response", content_response(EVERY_COMPONENT))
    assert_canvas("configure_response", results_response({"card": "savings"}))


def test_optional_fields_are_left_out_not_null():
    assert Text(text="hi").dump() == {"type": "text", "text": "hi"}
    assert Button(id="x", label="X").dump() == {
        "type": "button",
        "id": "x",
        "label": "X",
        "action": {"type": "submit"},
    }


def test_invalid_components_are_refused_when_built():
    with pytest.raises(ValidationError):
        Dropdown(id="d", options=[Option(id="only", text="One")])  # Intercom needs 2–10
    with pytest.raises(ValidationError):
        Text.model_validate({"text": "x", "style": "shouting"})  # not a TextStyle
