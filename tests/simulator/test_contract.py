"""The contract check the simulator shows: the official schema, readable complaints, and the
documented limits the schema leaves out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.contracts import CANVAS_KIT
from sandbox.simulator.contract import CanvasContract
from tests.simulator.gallery import button, every_component, options


@pytest.fixture(scope="module")
def contract() -> CanvasContract:
    return CanvasContract(CANVAS_KIT)


def response(*components, **canvas):
    return {"canvas": {"content": {"components": list(components)}, **canvas}}


def test_a_canvas_using_every_component_passes(contract):
    report = contract.check(
        "initialize_response", response(*every_component("https://g.example")), surface="messenger"
    )
    assert report.available and report.errors == [] and report.limit_warnings == []


def test_a_missing_field_names_the_component_and_the_field(contract):
    report = contract.check(
        "submit_response",
        response({"type": "button", "id": "b", "action": {"type": "submit"}}),
        surface="inbox",
    )
    assert report.errors == ["canvas.content.components[0]: 'label' is a required property"]


def test_an_unknown_component_or_action_type_lists_the_known_ones(contract):
    report = contract.check(
        "initialize_response",
        response(
            {"type": "carousel"},
            {"type": "button", "id": "b", "label": "B", "action": {"type": "email"}},
        ),
        surface="inbox",
    )
    assert report.errors[0].startswith("canvas.content.components[0]: unknown component type")
    assert report.errors[1] == (
        "canvas.content.components[1].action.type: 'email' is not one of sheet, submit, url"
    )


def test_each_flow_has_its_own_schema(contract):
    live: dict[str, Any] = {"content": {"components": []}}
    assert contract.check("live_canvas_response", live, surface="messenger").errors == []
    results = {"results": {"card": "trial"}}
    assert contract.check("configure_response", results, surface="configure").errors == []
    wrapped = contract.check("live_canvas_response", response(), surface="messenger")
    assert wrapped.errors == ["(body): 'content' is a required property"]


def test_limits_the_schema_leaves_out(contract):
    report = contract.check(
        "initialize_response",
        response(
            {"type": "dropdown", "id": "d", "options": options("a")},
            button("d", "Sheet", {"type": "sheet", "url": "https://s.example"}),
            stored_data={"blob": "x" * 70_000},
        ),
        surface="inbox",
    )
    assert report.limit_warnings == [
        "stored_data is 68 KB; at most 64 KB",
        "components[0] (dropdown): 1 options; Canvas Kit takes 2 to 10",
        "components[1] (button): id 'd' is used twice; input_values would collide",
        "components[1] (button): sheet actions work only in the Messenger",
    ]


def test_without_the_schema_file_the_check_says_so(tmp_path: Path):
    report = CanvasContract(tmp_path / "absent.json").check(
        "initialize_response", response(), surface="inbox"
    )
    assert not report.available
    assert report.note.startswith("contract not available:")
    assert report.errors == []
