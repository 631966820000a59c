"""Request bodies the SDK sends (as recorded by the sandbox) must satisfy the official 2.14 spec.

The spec travels with the repository (contracts/intercom-api-2.14.yaml, provenance in its README).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from intercom import AsyncIntercom
from intercom.types import (
    AdminReplyConversationRequest,
    CreateOrUpdateTagRequest,
    MultipleFilterSearchRequest,
    SingleFilterSearchRequest,
    StartingAfterPaging,
)

from sandbox.contracts import INTERCOM_API
from sandbox.intercom_api.contract import (
    find_operation,
    load_spec,
    validate_request,
    validate_response,
)
from tests.http import async_client


def template_of(method: str, path: str, spec: dict[str, Any]) -> str:
    """The spec's path template for a request; the operation must exist."""
    found = find_operation(method, path, spec)
    assert found is not None, f"no operation {method} {path} in the spec"
    return found[0]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec(INTERCOM_API)


@pytest.mark.slow
async def test_sdk_request_bodies_match_spec(
    spec: dict[str, Any], intercom: AsyncIntercom, control: httpx.AsyncClient
) -> None:
    await control.delete("/_sandbox/requests")
    await intercom.contacts.search(
        query=SingleFilterSearchRequest(field="email", operator="=", value="anna@example.com"),
        pagination=StartingAfterPaging(per_page=5),
    )
    await intercom.contacts.search(
        query=MultipleFilterSearchRequest(
            operator="OR",
            value=[
                SingleFilterSearchRequest(field="external_id", operator="=", value="usr_anna"),
                SingleFilterSearchRequest(
                    field="custom_attributes.stripe_id", operator="=", value="cus_DemoHealthy"
                ),
            ],
        )
    )
    await intercom.contacts.show_contact_by_external_id(external_id="usr_anna")
    await intercom.data_attributes.create(
        request={
            "name": "stripe_plan",
            "model": "contact",
            "data_type": "string",
            "description": "Current Stripe plan",
            "messenger_writable": False,
        }
    )
    await intercom.contacts.update(
        contact_id="contact_healthy", custom_attributes={"stripe_plan": "Pro monthly"}
    )
    tag = await intercom.tags.create(request=CreateOrUpdateTagRequest(name="Stripe: VIP"))
    await intercom.tags.tag_contact(contact_id="contact_vip", tag_id=tag.id)
    await intercom.tags.untag_contact(contact_id="contact_vip", tag_id=tag.id)
    await intercom.events.create(
        request={
            "event_name": "stripe-invoice-paid",
            "created_at": 1_700_000_000,
            "user_id": "usr_lena",
            "metadata": {"invoice_id": "in_123", "amount": "199.00 EUR"},
        }
    )
    await intercom.notes.create(contact_id="contact_vip", body="VIP", admin_id="admin_1")
    await intercom.conversations.reply(
        conversation_id="conv_vip",
        request=AdminReplyConversationRequest(message_type="note", admin_id="admin_1", body="hi"),
    )
    await intercom.admins.identify()

    log = (await control.get("/_sandbox/requests")).json()["data"]
    assert len(log) == 12 and all(entry["status"] < 300 for entry in log)
    problems = {
        f"{entry['method']} {entry['path']}": validate_request(
            entry["method"], entry["path"], entry["body"], spec
        )
        for entry in log
    }
    assert all(not errors for errors in problems.values()), problems
    # The sandbox's own answers must match the response schemas too (what makes it a fair stand-in).
    answers = {
        f"{e['method']} {e['path']}": validate_response(
            e["method"], e["path"], e["status"], e["response"], spec
        )
        for e in log
    }
    assert all(not errors for errors in answers.values()), answers
    templates = {template_of(e["method"], e["path"], spec) for e in log}
    assert "/contacts/find_by_external_id/{external_id}" in templates
    assert "/contacts/{contact_id}/tags/{tag_id}" in templates


def test_wrong_bodies_fail_validation(spec: dict[str, Any]) -> None:
    wrong_search = {"query": {"field": "email", "operator": "LIKE", "value": "a@b.c"}}
    assert validate_request("POST", "/contacts/search", wrong_search, spec)
    assert validate_request("POST", "/contacts/contact_vip/tags", {"tag_id": "1"}, spec)
    assert validate_request("POST", "/data_attributes", {"name": "x", "model": "contact"}, spec)
    # The spec types event metadata as string-valued only, so numbers/rich objects are flagged:
    # our product should send metadata values as strings.
    errors = validate_request(
        "POST",
        "/events",
        {"event_name": "e", "created_at": 1, "id": "c", "metadata": {"n": 1}},
        spec,
    )
    assert errors and "metadata/n" in errors[0]


def test_operation_lookup(spec: dict[str, Any]) -> None:
    assert template_of("post", "/contacts/search", spec) == "/contacts/search"
    assert template_of("PUT", "/contacts/abc?x=1", spec) == "/contacts/{contact_id}"
    assert find_operation("GET", "/no/such/thing", spec) is None
    assert validate_request("GET", "/no/such/thing", None, spec) == [
        "no operation GET /no/such/thing in the spec"
    ]


async def test_sandbox_error_and_list_responses_match_spec(
    spec: dict[str, Any], running_intercom: Any, control: httpx.AsyncClient
) -> None:
    auth = {"Authorization": "Bearer tok_test_sandbox", "Intercom-Version": "2.14"}
    async with async_client(base_url=running_intercom.base_url, headers=auth) as api:
        await api.get("/contacts/contact_nope")
        await api.put("/contacts/contact_vip", json={"custom_attributes": {"undefined": 1}})
        await api.post("/data_attributes", json={"name": "stripe_id", "model": "contact"})
        await api.post("/events", json={"event_name": "e", "created_at": 1, "id": "contact_vip"})
        await api.get("/events", params={"type": "user", "intercom_user_id": "contact_vip"})
        await api.get("/events", params={"type": "user", "user_id": "usr_lena", "summary": "true"})
        await api.post("/contacts/contact_vip/notes", json={"body": "n"})
        await api.get("/contacts/contact_vip/notes")
        await api.get("/data_attributes", params={"model": "contact"})
        await api.put("/data_attributes/101", json={"messenger_writable": False})
        await api.get("/conversations/conv_trial")
        await api.post(
            "/conversations/last/reply",
            json={"type": "user", "message_type": "comment", "intercom_user_id": "contact_trial"},
        )
        await control.post("/_sandbox/rate_limit", json={"count": 1})
        await api.get("/me")
        await control.post("/_sandbox/faults", json={"status": 503, "count": 1})
        await api.get("/me")
    async with async_client(base_url=running_intercom.base_url) as anonymous:
        await anonymous.get("/tags")
    log = (await control.get("/_sandbox/requests")).json()["data"]
    statuses = [e["status"] for e in log]
    assert statuses == [404, 400, 400, 202, 200, 200, 200, 200, 200, 200, 200, 200, 429, 503, 401]
    answers = {
        f"{e['method']} {e['path']} {e['status']}": validate_response(
            e["method"], e["path"], e["status"], e["response"], spec
        )
        for e in log
    }
    assert all(not errors for errors in answers.values()), answers
