"""Canvas Kit content → HTML: Intercom's Markdown subset, escaping, and each component's markup."""

from __future__ import annotations

import re

import pytest

from sandbox.simulator.rendering import markdown, render_content
from tests.simulator.gallery import INJECTION, button, every_component, options


def html_of(*components, surface="inbox") -> str:
    return render_content({"components": list(components)}, surface=surface)


# ---- markdown ----------------------------------------------------------------------------------
def test_bold_and_links_are_the_only_markdown():
    assert markdown("**Pro** · [Stripe](https://dashboard.stripe.com/x)") == (
        "<strong>Pro</strong> · "
        '<a href="https://dashboard.stripe.com/x" target="_blank" rel="noopener noreferrer">'
        "Stripe</a>"
    )
    assert markdown("_italic_ `code` # heading") == "_italic_ `code` # heading"


def test_bold_inside_a_link_and_a_link_inside_bold():
    assert markdown("[**x**](https://a.example)").count("<strong>x</strong>") == 1
    assert '<strong><a href="https://a.example"' in markdown("**[x](https://a.example)**")


def test_html_in_card_text_is_escaped_never_interpreted():
    rendered = markdown(INJECTION)
    assert "<img" not in rendered and "<b>" not in rendered
    assert "&lt;img src=x onerror=" in rendered


def test_links_intercom_would_not_open_show_only_their_label():
    assert markdown("[click](javascript:void)") == "click"
    assert markdown("[rel](/relative)") == "rel"
    assert 'href="mailto:a@b.example"' in markdown("[mail](mailto:a@b.example)")


def test_link_urls_are_escaped_in_the_attribute():
    assert 'href="https://a.example/?a=1&amp;b=&#34;2&#34;"' in markdown(
        '[q](https://a.example/?a=1&b="2")'
    )


# ---- components --------------------------------------------------------------------------------
def test_every_component_type_renders_with_its_canvas_kit_id():
    html = html_of(*every_component("https://gallery.example"))
    for component_id in ("header", "md", "save", "open_docs", "item_one", "spacer_xl", "image"):
        assert f'data-component-id="{component_id}"' in html
    for input_id in ("note", "long_note", "reason", "interval", "extras"):
        assert f'data-input-id="{input_id}"' in html
    assert 'data-type="unknown"' not in html


def test_text_styles_and_alignment_become_classes():
    html = html_of({"type": "text", "text": "x", "style": "error", "align": "right"})
    assert "ck-text--error" in html and "ck-align--right" in html


def test_unknown_style_values_fall_back_to_the_default():
    html = html_of({"type": "text", "text": "x", "style": "<script>", "align": "middle"})
    assert "ck-text--paragraph" in html and "ck-align--left" in html
    assert "<script>" not in html


def test_buttons_carry_their_action_and_disabled_state():
    html = html_of(
        button("go", "Go"),
        button("no", "No", disabled=True),
        button("web", "Web", {"type": "url", "url": "javascript:alert(1)"}, style="link"),
    )
    assert re.search(r'data-component-id="go" data-action="submit"', html)
    disabled = html[html.index('data-component-id="no"') :].split(">", 1)[0]
    assert "disabled" in disabled and "data-action" not in disabled
    assert 'data-url=""' in html  # a non-http URL is never put in the page


def test_data_table_truncates_with_a_tooltip_in_the_inbox_and_wraps_in_the_messenger():
    table = {"type": "data-table", "items": [{"type": "field-value", "field": "F", "value": "V"}]}
    inbox = html_of(table, surface="inbox")
    messenger = html_of(table, surface="messenger")
    assert "ck-table--truncate" in inbox and 'title="V"' in inbox
    assert "ck-table--truncate" not in messenger and "title=" not in messenger


@pytest.mark.parametrize("size", ["xs", "s", "m", "l", "xl"])
def test_spacer_sizes(size):
    assert f"ck-spacer--{size}" in html_of({"type": "spacer", "size": size})


def test_bottom_margin_none_removes_the_margin():
    assert "ck-c--flush" in html_of({"type": "text", "text": "x", "bottom_margin": "none"})
    assert "ck-c--flush" in html_of({"type": "divider", "bottom_margin": "none"})


def test_list_items_show_images_subtitle_and_tertiary_text():
    gallery_list = next(
        c for c in every_component("https://gallery.example") if c["type"] == "list"
    )
    html = html_of(gallery_list)
    assert 'src="https://gallery.example/pixel.png" width="32" height="32"' in html
    assert "sub • third" in html
    assert "ck-list__image is-rounded" in html


def test_inputs_keep_values_and_states():
    html = html_of(
        {"type": "input", "id": "a", "value": "v", "save_state": "saved"},
        {"type": "dropdown", "id": "d", "value": "two", "options": options("one", "two")},
        {"type": "checkbox", "id": "c", "label": "C", "value": ["y"], "option": options("x", "y")},
    )
    assert 'value="v" placeholder="" disabled' in html and "✓ Saved" in html
    assert '<option value="two" selected>' in html
    assert 'value="y" checked' in html and 'value="x" checked' not in html


def test_malformed_content_renders_a_visible_problem_not_an_exception():
    html = html_of({"type": "carousel"}, "just a string", {"no": "type"})
    assert html.count('data-type="unknown"') == 3
    assert "This canvas has no components." in render_content({}, surface="inbox")
