"""The simulator's server side, over HTTP: it plays Intercom (shapes, signs, sends, checks) and
keeps the client secret to itself."""

from __future__ import annotations

import json

import pytest

from sandbox.canvas_requests import sign
from sandbox.simulator import SimulatorConfig
from tests.conftest import CLIENT_SECRET, INTERCOM_TOKEN
from tests.http import HTTP, client


def post(url: str, path: str, payload: dict) -> dict:
    response = HTTP.post(f"{url}{path}", json=payload, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_page_lists_one_conversation_per_demo_contact(
    intercom_sandbox, gallery, start_simulator
):
    url = start_simulator(gallery.url, intercom=intercom_sandbox)
    listed = HTTP.get(f"{url}/api/conversations").json()["data"]
    assert [c["contact_id"] for c in listed] == [
        "contact_healthy",
        "contact_sepa",
        "contact_trial",
        "contact_vip",
        "contact_usage",
        "contact_shared_a",
        "contact_shared_b",
        "contact_loyal",
        "contact_multi",
        "contact_nobody",
    ]
    assert listed[1]["conversation_id"] == "conv_sepa"
    assert listed[1]["opening"] == "Warum ist unsere letzte Lastschrift fehlgeschlagen?"
    page = HTTP.get(url).text
    assert 'data-contact-id="contact_sepa"' in page and CLIENT_SECRET not in page


def test_inbox_initialize_is_signed_and_shaped_like_intercom(
    our_app, stripe_sandbox, intercom_sandbox, start_simulator
):
    url = start_simulator(our_app.url, intercom=intercom_sandbox, stripe=stripe_sandbox)
    result = post(url, "/api/inbox/initialize", {"contact_id": "contact_sepa"})
    request = result["request"]
    assert request["admin"]["id"] == "admin_1"
    assert request["contact"]["id"] == "contact_sepa"
    assert request["contact"]["email"] == "buchhaltung@mueller-maschinenbau.de"
    assert request["conversation"]["id"] == "conv_sepa"
    body = json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()
    assert result["request_headers"]["X-Body-Signature"] == sign(body, CLIENT_SECRET)
    assert result["status"] == 200 and result["error"] is None
    assert result["contract"]["available"] and result["contract_errors"] == []
    assert "insufficient funds (AM04)" in result["html"]
    assert result["canvas"]["stored_data"]["customer_id"] == "cus_DemoSepa"


def test_the_messenger_can_be_opened_by_a_lead_claiming_a_customers_email(
    our_app, stripe_sandbox, intercom_sandbox, start_simulator
):
    url = start_simulator(our_app.url, intercom=intercom_sandbox, stripe=stripe_sandbox)
    options = {"contact_id": "contact_trial", "card_creation_options": {"card": "trial"}}

    as_user = post(url, "/api/messenger/initialize", options)
    as_lead = post(url, "/api/messenger/initialize", {**options, "viewer": "lead"})

    assert as_user["request"]["contact"]["role"] == "user"
    lead = as_lead["request"]["contact"]
    assert (lead["role"], lead["email"], lead["external_id"]) == (
        "lead",
        "jonas@startup.example",
        None,
    )
    assert as_lead["request"]["user"] == lead
    assert as_lead["contract_errors"] == [] and as_user["contract_errors"] == []
    assert "Add a payment method" in as_user["html"]
    assert "Sign in to see your billing" in as_lead["html"]
    assert "/l/" not in json.dumps(as_lead["response"])
    refused = HTTP.post(f"{url}/api/messenger/initialize", json={**options, "viewer": "admin"})
    assert refused.status_code == 400 and "viewer" in refused.json()["error"]


def test_without_a_sandbox_intercom_the_seeded_contacts_are_used(gallery, start_simulator):
    url = start_simulator(gallery.url)
    assert len(HTTP.get(f"{url}/api/conversations").json()["data"]) == 10
    result = post(url, "/api/inbox/initialize", {"contact_id": "contact_healthy"})
    assert result["request"]["contact"]["custom_attributes"] == {"stripe_id": "cus_DemoHealthy"}


def test_an_app_that_is_down_is_reported_not_raised(start_simulator):
    url = start_simulator("http://127.0.0.1:9")
    result = post(url, "/api/inbox/initialize", {"contact_id": "contact_healthy"})
    assert result["status"] is None and result["html"] is None
    assert result["error"].startswith("Could not reach the app")


def test_an_error_status_is_shown_with_what_intercom_would_do(gallery, start_simulator):
    url = start_simulator(gallery.url, client_secret="not-the-apps-secret")
    result = post(url, "/api/inbox/initialize", {"contact_id": "contact_healthy"})
    assert result["status"] == 401
    assert result["response"] == {"error": "bad signature"}
    assert "Intercom would show the app as failed to load" in result["error"]
    assert result["contract"] is None


def test_a_live_canvas_url_off_the_apps_origin_is_not_called(gallery, start_simulator):
    url = start_simulator(gallery.url)
    result = post(
        url,
        "/api/messenger/content",
        {
            "contact_id": "contact_healthy",
            "canvas": {"content_url": "https://elsewhere.example/content", "stored_data": {}},
        },
    )
    assert result["status"] is None
    assert "not on the app's origin" in result["error"]
    assert gallery.received.requests == []


def test_without_the_contract_file_responses_are_shown_unchecked(
    gallery, start_simulator, tmp_path
):
    url = start_simulator(gallery.url, contract_path=tmp_path / "absent.json")
    result = post(url, "/api/inbox/initialize", {"contact_id": "contact_healthy"})
    assert result["contract"]["available"] is False
    assert result["contract"]["note"].startswith("contract not available")
    assert result["html"]
    assert "contract not available" in HTTP.get(url).text


@pytest.mark.parametrize(
    ("path", "payload", "complaint"),
    [
        ("/api/inbox/initialize", {}, "contact_id must be a non-empty string"),
        (
            "/api/inbox/submit",
            {"contact_id": "contact_healthy", "component_id": "x"},
            "current_canvas must be an object",
        ),
        (
            "/api/messenger/initialize",
            {"contact_id": "contact_healthy", "card_creation_options": {}, "locale": "fr"},
            "locale must be one of en, de",
        ),
        (
            "/api/messenger/content",
            {"contact_id": "contact_healthy", "canvas": {}},
            "the canvas has no content_url",
        ),
    ],
)
def test_malformed_page_requests_are_a_400(gallery, start_simulator, path, payload, complaint):
    response = HTTP.post(f"{start_simulator(gallery.url)}{path}", json=payload)
    assert response.status_code == 400
    assert response.json() == {"error": complaint}


def test_an_unknown_contact_is_a_502_naming_the_sandbox(intercom_sandbox, gallery, start_simulator):
    url = start_simulator(gallery.url, intercom=intercom_sandbox)
    response = HTTP.post(f"{url}/api/inbox/initialize", json={"contact_id": "contact_ghost"})
    assert response.status_code == 502
    assert "sandbox Intercom answered 404" in response.json()["error"]


def test_activity_shows_what_the_app_wrote_to_the_contact(
    intercom_sandbox, gallery, start_simulator
):
    api = client(
        base_url=intercom_sandbox.url, headers={"Authorization": f"Bearer {INTERCOM_TOKEN}"}
    )
    tag = api.post("/tags", json={"name": "Billing-Issue"}).json()
    api.post("/contacts/contact_healthy/tags", json={"id": tag["id"]}).raise_for_status()
    url = start_simulator(gallery.url, intercom=intercom_sandbox)
    data = HTTP.get(f"{url}/api/contacts/contact_healthy/activity").json()
    assert data["activity"]["custom_attributes"] == {"stripe_id": "cus_DemoHealthy"}
    assert 'data-tag="Billing-Issue"' in data["html"]
    assert "stripe_id" in data["html"] and "cus_DemoHealthy" in data["html"]


def test_settling_sepa_goes_to_the_sandbox_stripe(stripe_sandbox, gallery, start_simulator):
    url = start_simulator(gallery.url, stripe=stripe_sandbox)
    response = HTTP.post(f"{url}/api/stripe/settle-sepa")
    assert response.status_code == 200 and response.json() == {"settled": []}
    assert HTTP.post(f"{start_simulator(gallery.url)}/api/stripe/settle-sepa").status_code == 404


def test_config_refuses_what_cannot_work():
    with pytest.raises(ValueError, match="app_url must be an http"):
        SimulatorConfig(app_url="localhost:8000", client_secret="s")
    with pytest.raises(ValueError, match="client_secret is required"):
        SimulatorConfig(app_url="http://127.0.0.1:8000", client_secret="")
    assert SimulatorConfig(app_url="http://a.example/", client_secret="s").app_url == (
        "http://a.example"
    )


def test_an_unreachable_sandbox_intercom_falls_back_to_the_seed_with_a_warning(
    gallery, start_simulator
):
    url = start_simulator(gallery.url, intercom_url="http://127.0.0.1:9", intercom_token="t")
    page = HTTP.get(url).text
    assert "sandbox Intercom unreachable" in page
    assert page.count('class="sim-conversation"') == 10


def test_contact_ids_cannot_reach_other_sandbox_paths(intercom_sandbox, gallery, start_simulator):
    url = start_simulator(gallery.url, intercom=intercom_sandbox)
    response = HTTP.post(f"{url}/api/inbox/initialize", json={"contact_id": "../_sandbox/reset"})
    assert response.status_code == 502
    assert gallery.received.requests == []


def test_the_cancel_card_can_be_picked_and_shown_in_the_simulator(
    our_app, stripe_sandbox, intercom_sandbox, start_simulator
):
    url = start_simulator(our_app.url, intercom=intercom_sandbox, stripe=stripe_sandbox)

    configure = post(url, "/api/messenger/configure", {})
    shown = post(
        url,
        "/api/messenger/initialize",
        {"contact_id": "contact_healthy", "card_creation_options": {"card": "cancel"}},
    )

    assert 'data-component-id="card:cancel"' in configure["html"]
    assert shown["contract_errors"] == []
    assert "Cancel Pro?" in shown["html"] and "Cancel at period end" in shown["html"]


def pick_and_show(url: str, card: str, contact: str) -> tuple[dict, dict]:
    """The admin's configure screen, their click on `card` (what the app answered), then the
    card as `contact` sees it, started with the results of that click."""
    screen = post(url, "/api/messenger/configure", {})
    assert f'data-component-id="card:{card}"' in screen["html"]
    picked = post(
        url,
        "/api/messenger/configure",
        {"component_id": f"card:{card}", "current_canvas": screen["canvas"]},
    )
    shown = post(
        url,
        "/api/messenger/initialize",
        {"contact_id": contact, "card_creation_options": picked["results"]},
    )
    return picked, shown


def test_the_invoices_card_can_be_picked_and_shown_in_the_simulator(
    our_app, stripe_sandbox, intercom_sandbox, start_simulator
):
    url = start_simulator(our_app.url, intercom=intercom_sandbox, stripe=stripe_sandbox)

    picked, shown = pick_and_show(url, "invoices", "contact_healthy")

    assert picked["results"] == {"card": "invoices"} and picked["contract_errors"] == []
    assert shown["contract_errors"] == []
    assert "<strong>Your invoices</strong>" in shown["html"]
    assert shown["html"].count(" · €79.00 · Paid · ") == 5
    assert shown["html"].count(f'<a href="{stripe_sandbox.url}/invoices/') == 10  # page + PDF


def test_the_billing_details_card_can_be_picked_and_shown_in_the_simulator(
    our_app, stripe_sandbox, intercom_sandbox, start_simulator
):
    url = start_simulator(our_app.url, intercom=intercom_sandbox, stripe=stripe_sandbox)

    picked, shown = pick_and_show(url, "billing_details", "contact_multi")

    assert picked["results"] == {"card": "billing_details"} and picked["contract_errors"] == []
    assert shown["contract_errors"] == []
    assert "<strong>Your billing details</strong>" in shown["html"]
    assert "Tax ID: EU VAT number DE123456789 · verified" in shown["html"]
    assert f'data-url="{our_app.url}/l/' in shown["html"]
    assert "Update billing details" in shown["html"]
