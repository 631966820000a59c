"""The simulator in headless Chromium: what an engineer sees and clicks.

The first test is the product's story end to end against our real app and both sandboxes; the
others drive the gallery app, which draws every Canvas Kit component.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.simulator.gallery import INJECTION, LONG_VALUE

COMPONENT_TYPES = (
    *("text", "data-table", "spacer", "divider", "image", "list"),
    *("input", "textarea", "dropdown", "single-select", "checkbox", "button"),
)
pytestmark = pytest.mark.slow  # headless Chromium

DEMO_CARD = "options=%7B%22card%22%3A%22demo%22%7D"  # {"card":"demo"}


def open_conversation(page: Any, url: str, contact_id: str) -> Any:
    page.goto(url)
    page.click(f'.sim-conversation[data-contact-id="{contact_id}"]')
    return page.locator("#inbox-frame")


# ---- our app -----------------------------------------------------------------------------------
def test_agent_sends_the_sepa_customer_a_recovery_card_and_retry_shows_processing(
    page, our_app, stripe_sandbox, intercom_sandbox, start_simulator
):
    url = start_simulator(our_app.url, intercom=intercom_sandbox, stripe=stripe_sandbox)
    sidebar = open_conversation(page, url, "contact_sepa")
    expect(sidebar).to_contain_text("insufficient funds (AM04)")

    sidebar.locator('[data-component-id="send_card:payment_recovery"]').click()
    card = page.locator('#thread-body [data-role="inserted-card"][data-card="payment_recovery"]')
    retry = card.locator('[data-component-id="retry_payment"]')
    expect(retry).to_be_visible()
    retry.click()

    expect(card.locator('[data-role="canvas"]')).to_contain_text(re.compile("processing", re.I))
    expect(card.locator('[data-role="warning"]')).to_be_hidden()
    expect(page.locator('.sim-exchange[data-contract="violations"]')).to_have_count(0)


def test_every_demo_conversation_opens_in_the_sidebar_within_the_contract(
    page, our_app, stripe_sandbox, intercom_sandbox, start_simulator
):
    url = start_simulator(our_app.url, intercom=intercom_sandbox, stripe=stripe_sandbox)
    page.goto(url)
    conversations = page.locator(".sim-conversation")
    expect(conversations).to_have_count(10)
    too_tall = {}
    for index in range(10):
        conversations.nth(index).click()
        expect(page.locator("#inbox-frame .ck-canvas")).to_be_visible()
        expect(page.locator("#inbox-frame")).not_to_have_attribute("aria-busy", "true")
        expect(page.locator('#inbox-frame [data-role="warning"]')).to_be_hidden()
        # Intercom cuts the sidebar's first canvas at ~400 px: all of it must fit above.
        height = page.locator("#inbox-frame .ck-canvas").bounding_box()["height"]
        if height > 400:
            too_tall[conversations.nth(index).get_attribute("data-contact-id")] = height
    assert not too_tall, f"first canvas taller than 400 px: {too_tall}"
    expect(page.locator('.sim-exchange[data-flow="inbox initialize"]')).to_have_count(10)
    expect(page.locator('.sim-exchange[data-contract="ok"]')).to_have_count(10)


def test_details_view_and_activity_panel_for_the_healthy_customer(
    page, our_app, stripe_sandbox, intercom_sandbox, start_simulator
):
    url = start_simulator(our_app.url, intercom=intercom_sandbox, stripe=stripe_sandbox)
    sidebar = open_conversation(page, url, "contact_healthy")
    sidebar.locator('[data-component-id="details"]').click()
    expect(sidebar).to_contain_text("cus_DemoHealthy")
    # The submit carried the canvas the agent saw, with its stored_data.
    page.click("#traffic-panel > summary")
    submit = page.locator('.sim-exchange[data-flow="inbox submit"]').first
    submit.locator("summary").click()
    request = json.loads(submit.locator(".sim-json").first.inner_text())
    assert request["headers"]["X-Body-Signature"]
    assert request["body"]["component_id"] == "details"
    assert request["body"]["current_canvas"]["stored_data"]["customer_id"] == "cus_DemoHealthy"
    page.click("#activity-panel > summary")
    expect(page.locator("#activity")).to_contain_text("stripe_id")


# ---- every component (gallery app) --------------------------------------------------------------
def test_components_render_with_intercom_styles(page, gallery, start_simulator):
    sidebar = open_conversation(page, start_simulator(gallery.url), "contact_healthy")
    canvas = sidebar.locator(".ck-canvas")
    expect(canvas).to_be_visible()
    for kind in COMPONENT_TYPES:
        expect(canvas.locator(f'[data-type="{kind}"]').first).to_be_attached()

    def style(selector: str, prop: str) -> str:
        return canvas.locator(selector).first.evaluate(
            f"e => getComputedStyle(e).getPropertyValue('{prop}')"
        )

    assert float(style('[data-component-id="header"]', "font-size")[:-2]) > float(
        style('[data-component-id="md"]', "font-size")[:-2]
    )
    assert style('[data-component-id="error"]', "color") == "rgb(214, 38, 59)"
    assert style('[data-component-id="error"]', "text-align") == "right"
    assert style('[data-component-id="muted"]', "text-align") == "center"
    assert style('[data-component-id="save"]', "background-color") == "rgb(51, 75, 250)"
    assert style('[data-component-id="secondary"]', "border-top-style") == "solid"
    assert style('[data-component-id="open_docs"]', "background-color") == "rgba(0, 0, 0, 0)"
    expect(canvas.locator('[data-component-id="disabled"]')).to_be_disabled()
    heights = {
        size: canvas.locator(f'[data-component-id="spacer_{size}"]').bounding_box()["height"]
        for size in ("xs", "s", "m", "l", "xl")
    }
    assert heights == {"xs": 4, "s": 8, "m": 16, "l": 24, "xl": 32}
    assert canvas.bounding_box()["width"] == 320
    image = canvas.locator('[data-component-id="image"] img').bounding_box()
    assert (image["width"], image["height"]) == (40, 20)


def test_text_is_markdown_bold_and_links_only_and_never_html(page, gallery, start_simulator):
    sidebar = open_conversation(page, start_simulator(gallery.url), "contact_healthy")
    markdown = sidebar.locator('[data-component-id="md"]')
    expect(markdown.locator("strong")).to_have_text("bold")
    expect(markdown.locator("a")).to_have_attribute("href", "https://example.com/doc")
    injection = sidebar.locator('[data-component-id="injection"]')
    expect(injection).to_have_text(INJECTION)
    expect(injection.locator("img, b")).to_have_count(0)
    assert page.evaluate("document.body.dataset.pwned") is None
    expect(sidebar.locator('[data-component-id="js_link"] a')).to_have_count(0)


def test_inbox_truncates_data_tables_with_a_tooltip_and_the_messenger_wraps(
    page, gallery, start_simulator
):
    url = start_simulator(gallery.url)
    sidebar = open_conversation(page, url, "contact_healthy")
    value = sidebar.locator(".ck-table__value", has_text="A value far")
    expect(value).to_have_attribute("title", LONG_VALUE)
    assert value.evaluate("e => e.scrollWidth > e.clientWidth")

    page.goto(f"{url}/?view=messenger&contact=contact_healthy&{DEMO_CARD}")
    messenger_value = page.locator("#messenger-frame .ck-table__value")
    expect(messenger_value).to_have_text(LONG_VALUE)
    assert messenger_value.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert messenger_value.get_attribute("title") is None


def test_submit_sends_input_values_current_canvas_and_stored_data(page, gallery, start_simulator):
    sidebar = open_conversation(page, start_simulator(gallery.url), "contact_healthy")
    sidebar.locator('[data-input-id="note"]').fill("Call back tomorrow")
    sidebar.locator('[data-input-id="long_note"]').fill("Two\nlines")
    sidebar.locator('[data-input-id="reason"]').select_option("other")
    sidebar.locator('[data-option-id="yearly"]').click()
    sidebar.locator('[data-input-id="extras"] input[value="receipt"]').check()
    sidebar.locator('[data-component-id="save"]').click()
    expect(sidebar.locator('[data-component-id="pressed"]')).to_have_text("Pressed save")

    sent = gallery.received.last("/canvas/inbox/submit")
    assert sent["component_id"] == "save"
    assert sent["input_values"] == {
        "note": "Call back tomorrow",
        "long_note": "Two\nlines",
        "reason": "other",
        "interval": "yearly",
        "extras": ["receipt"],
    }
    assert sent["current_canvas"]["stored_data"] == {"step": 1}
    assert sent["contact"]["id"] == "contact_healthy"
    assert sent["conversation"]["id"] == "conv_healthy"
    assert sent["admin"]["id"] == "admin_1"


def test_list_items_submit_and_disabled_ones_do_not(page, gallery, start_simulator):
    sidebar = open_conversation(page, start_simulator(gallery.url), "contact_healthy")
    sidebar.locator('[data-component-id="item_two"]').click()
    sidebar.locator('[data-component-id="item_one"]').click()
    expect(sidebar.locator('[data-component-id="pressed"]')).to_have_text("Pressed item_one")
    assert gallery.received.paths().count("/canvas/inbox/submit") == 1


def test_url_actions_open_the_link_and_sheets_say_they_are_not_simulated(
    page, gallery, start_simulator
):
    sidebar = open_conversation(page, start_simulator(gallery.url), "contact_healthy")
    with page.expect_popup() as popup:
        sidebar.locator('[data-component-id="open_docs"]').click()
    assert popup.value.url == f"{gallery.url}/docs"
    sidebar.locator('[data-component-id="sheet"]').click()
    expect(sidebar.locator(".sim-frame__notice")).to_contain_text("Sheets are not simulated yet")
    expect(sidebar.locator('[data-role="warning"]')).to_contain_text(
        "sheet actions work only in the Messenger"
    )


def test_a_response_breaking_the_contract_is_flagged(page, gallery, start_simulator):
    sidebar = open_conversation(page, start_simulator(gallery.url), "contact_healthy")
    sidebar.locator('[data-component-id="broken"]').click()
    warning = sidebar.locator('[data-role="warning"]')
    expect(warning).to_contain_text("fails the Canvas Kit contract (submit_response)")
    expect(warning).to_contain_text("'label' is a required property")
    expect(page.locator('.sim-exchange[data-contract="violations"]')).to_have_count(1)
    expect(page.locator("#traffic-warnings")).to_have_text("⚠ 1 failing the contract")


def test_messenger_runs_configure_initialize_live_canvas_and_submit(page, gallery, start_simulator):
    page.goto(f"{start_simulator(gallery.url)}/?view=messenger")
    page.click('.sim-conversation[data-contact-id="contact_trial"]')
    page.locator('#configure-frame [data-component-id="card:demo"]').click()
    expect(page.locator("#configure-results")).to_contain_text('{"card":"demo"}')
    card = page.locator("#messenger-frame")
    expect(card.locator('[data-component-id="live"]')).to_have_text("Live demo for Jonas Schmidt")
    assert gallery.received.paths() == [
        "/canvas/messenger/configure",
        "/canvas/messenger/configure",
        "/canvas/messenger/initialize",
        "/canvas/messenger/content",
    ]
    assert gallery.received.last("/canvas/messenger/initialize")["card_creation_options"] == {
        "card": "demo"
    }

    card.locator('[data-component-id="press"]').click()
    expect(card.locator('[data-component-id="pressed"]')).to_have_text("Pressed press")
    expect(card).to_contain_text("event: completed")
    sent = gallery.received.last("/canvas/messenger/submit")
    assert sent["current_canvas"]["stored_data"] == {"card": "demo"}
    assert sent["current_canvas"]["content"]["components"][0]["id"] == "live"

    page.select_option("#messenger-locale", "de")
    expect(card.locator('[data-component-id="locale"]')).to_have_text("Locale de")


def test_an_inbox_answer_with_card_creation_options_inserts_the_card_into_the_conversation(
    page, gallery, start_simulator
):
    sidebar = open_conversation(page, start_simulator(gallery.url), "contact_sepa")
    sidebar.locator('[data-component-id="send_card"]').click()
    card = page.locator('#thread-body [data-role="inserted-card"][data-card="demo"]')
    expect(card.locator('[data-component-id="live"]')).to_have_text(
        "Live demo for Müller Maschinenbau GmbH"
    )
    assert gallery.received.last("/canvas/messenger/initialize")["card_creation_options"] == {
        "card": "demo",
        "from": "inbox",
    }
