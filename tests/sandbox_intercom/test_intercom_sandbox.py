"""Behaviour of the sandbox Intercom, exercised through the official python-intercom SDK over HTTP."""

from __future__ import annotations

import time

import httpx
import pytest
from intercom import AsyncIntercom
from intercom.core.api_error import ApiError
from intercom.errors import BadRequestError, UnauthorizedError
from intercom.types import (
    AdminReplyConversationRequest,
    CreateOrUpdateTagRequest,
    MultipleFilterSearchRequest,
    SingleFilterSearchRequest,
    SingleFilterSearchRequestValue,
    StartingAfterPaging,
)

from tests.http import async_client

from .conftest import RunningSandbox


def single(
    field: str, operator: str, value: SingleFilterSearchRequestValue
) -> SingleFilterSearchRequest:
    return SingleFilterSearchRequest(field=field, operator=operator, value=value)


# ---- contacts: search and lookup ------------------------------------------------------------
async def test_search_by_email_returns_seeded_contact(intercom: AsyncIntercom) -> None:
    pager = await intercom.contacts.search(query=single("email", "=", "anna@example.com"))
    assert [c.id for c in pager.items] == ["contact_healthy"]
    contact = pager.items[0]
    assert contact.external_id == "usr_anna"
    assert contact.custom_attributes == {"stripe_id": "cus_DemoHealthy"}
    assert pager.response.total_count == 1


async def test_search_email_equality_is_exact(intercom: AsyncIntercom) -> None:
    # Documented sandbox choice: "=" is case-sensitive (Intercom does not document case folding).
    pager = await intercom.contacts.search(query=single("email", "=", "ANNA@example.com"))
    assert pager.items == []


async def test_search_shared_email_is_ambiguous(intercom: AsyncIntercom) -> None:
    pager = await intercom.contacts.search(query=single("email", "=", "shared@agency.example"))
    assert sorted(c.id for c in pager.items) == ["contact_shared_a", "contact_shared_b"]


async def test_search_by_external_id_and_stripe_id(intercom: AsyncIntercom) -> None:
    by_external = await intercom.contacts.search(query=single("external_id", "=", "usr_lena"))
    assert [c.id for c in by_external.items] == ["contact_vip"]
    by_stripe = await intercom.contacts.search(
        query=single("custom_attributes.stripe_id", "=", "cus_DemoHealthy")
    )
    assert [c.id for c in by_stripe.items] == ["contact_healthy"]


async def test_search_nested_or_and_string_operators(intercom: AsyncIntercom) -> None:
    # A group holds either only filters or only groups (spec oneOf; the SDK model enforces it),
    # so "role=user AND (A OR B)" is AND[OR[role], OR[A, B]].
    query = MultipleFilterSearchRequest(
        operator="AND",
        value=[
            MultipleFilterSearchRequest(operator="OR", value=[single("role", "=", "user")]),
            MultipleFilterSearchRequest(
                operator="OR",
                value=[single("email", "^", "jonas@"), single("email", "~", "wagner-cloud")],
            ),
        ],
    )
    pager = await intercom.contacts.search(query=query)
    assert sorted(c.id for c in pager.items) == ["contact_trial", "contact_usage"]
    pager = await intercom.contacts.search(query=single("id", "IN", ["contact_vip", "nope"]))
    assert [c.id for c in pager.items] == ["contact_vip"]


async def test_search_pagination_with_starting_after(intercom: AsyncIntercom) -> None:
    # Only the first page is read from the pager: in python-intercom 5.0.1 the search pager's
    # get_next re-sends the *same* pagination, so `async for` over >1 page would loop forever.
    first = await intercom.contacts.search(
        query=single("role", "=", "user"), pagination=StartingAfterPaging(per_page=3)
    )
    assert len(first.items) == 3 and first.response.total_count == 10
    cursor = first.response.pages.next.starting_after
    second = await intercom.contacts.search(
        query=single("role", "=", "user"),
        pagination=StartingAfterPaging(per_page=3, starting_after=cursor),
    )
    assert {c.id for c in first.items}.isdisjoint({c.id for c in second.items})
    assert second.response.pages.page == 2


async def test_search_undefined_custom_attribute_is_rejected(intercom: AsyncIntercom) -> None:
    with pytest.raises(ApiError) as info:
        await intercom.contacts.search(query=single("custom_attributes.nope", "=", "x"))
    assert info.value.status_code == 400


async def test_find_contact_by_id_and_external_id(intercom: AsyncIntercom) -> None:
    contact = await intercom.contacts.find(contact_id="contact_sepa")
    assert contact.email == "buchhaltung@mueller-maschinenbau.de"
    # python-intercom 5.0.1: contacts.show_contact_by_external_id() -> GET
    # /contacts/find_by_external_id/{external_id}, returning ShowContactByExternalIdResponse (a Contact).
    found = await intercom.contacts.show_contact_by_external_id(external_id="usr_beta")
    assert found.id == "contact_shared_b"
    with pytest.raises(ApiError) as info:
        await intercom.contacts.show_contact_by_external_id(external_id="usr_missing")
    # Only 401 is mapped to a subclass here; a 404 surfaces as the base ApiError.
    assert info.value.status_code == 404
    assert info.value.body["errors"][0] == {"code": "not_found", "message": "User Not Found"}


# ---- contacts: custom attributes ------------------------------------------------------------
async def test_update_defined_custom_attribute_merges(
    intercom: AsyncIntercom, running_intercom: RunningSandbox
) -> None:
    await intercom.data_attributes.create(
        request={"name": "plan_seats", "model": "contact", "data_type": "integer"}
    )
    updated = await intercom.contacts.update(
        contact_id="contact_healthy", custom_attributes={"plan_seats": 5}
    )
    assert updated.custom_attributes == {"stripe_id": "cus_DemoHealthy", "plan_seats": 5}
    timeline = running_intercom.state.activity["contact_healthy"]
    assert timeline[-1]["kind"] == "custom_attributes"
    assert timeline[-1]["changes"]["plan_seats"] == {"old": None, "new": 5}


async def test_update_undefined_custom_attribute_is_400(intercom: AsyncIntercom) -> None:
    with pytest.raises(ApiError) as info:
        await intercom.contacts.update(
            contact_id="contact_healthy", custom_attributes={"stripe_plan": "Pro"}
        )
    # contacts.update maps only 401 to a subclass, so a 400 is the base ApiError (not BadRequestError).
    assert type(info.value) is ApiError
    assert info.value.status_code == 400
    assert info.value.body["errors"][0]["code"] == "parameter_invalid"
    contact = await intercom.contacts.find(contact_id="contact_healthy")
    assert "stripe_plan" not in contact.custom_attributes


async def test_update_wrong_type_is_400(intercom: AsyncIntercom) -> None:
    with pytest.raises(ApiError) as info:
        await intercom.contacts.update(
            contact_id="contact_trial", custom_attributes={"stripe_id": 42}
        )
    assert info.value.status_code == 400


# ---- tags -----------------------------------------------------------------------------------
async def test_tag_create_is_idempotent_and_attach_detach(intercom: AsyncIntercom) -> None:
    first = await intercom.tags.create(request=CreateOrUpdateTagRequest(name="Stripe: past due"))
    again = await intercom.tags.create(request=CreateOrUpdateTagRequest(name="stripe: PAST DUE"))
    assert again.id == first.id and again.name == "Stripe: past due"
    listed = await intercom.tags.list()
    assert [t.id for t in listed.data] == [first.id]

    applied = await intercom.tags.tag_contact(contact_id="contact_sepa", tag_id=first.id)
    assert applied.applied_by.id == "admin_1" and applied.applied_at
    on_contact = await intercom.contacts.list_attached_tags(contact_id="contact_sepa")
    assert [t.id for t in on_contact.data] == [first.id]

    await intercom.tags.untag_contact(contact_id="contact_sepa", tag_id=first.id)
    on_contact = await intercom.contacts.list_attached_tags(contact_id="contact_sepa")
    assert on_contact.data == []


async def test_tag_errors(intercom: AsyncIntercom) -> None:
    with pytest.raises(BadRequestError):
        await intercom.tags.create(request={"name": ""})
    with pytest.raises(ApiError) as info:
        await intercom.tags.tag_contact(contact_id="contact_sepa", tag_id="999999")
    assert info.value.status_code == 404


# ---- events ---------------------------------------------------------------------------------
async def test_event_create_202_and_dedup(
    intercom: AsyncIntercom, running_intercom: RunningSandbox, control: httpx.AsyncClient
) -> None:
    event = {
        "event_name": "invoice-payment-failed",
        "created_at": 1_700_000_000,
        "user_id": "usr_mueller",
        "metadata": {
            "invoice": {"url": "https://dashboard.stripe.com/invoices/in_1", "value": "in_1"},
            "amount": {"amount": 2900, "currency": "eur"},
            "reason": "insufficient_funds",
        },
    }
    assert await intercom.events.create(request=event) is None
    await intercom.events.create(request=event)  # same contact/name/created_at: ignored
    await intercom.events.create(request={**event, "created_at": 1_700_000_001})
    log = (await control.get("/_sandbox/requests", params={"path_prefix": "/events"})).json()
    assert [r["status"] for r in log["data"]] == [202, 202, 202]
    assert log["data"][0]["response"] is None  # empty body

    listed = await intercom.events.list(type="user", intercom_user_id="contact_sepa")
    assert len(listed.events) == 2
    summary = await intercom.events.list(type="user", user_id="usr_mueller", summary=True)
    assert summary.events[0].name == "invoice-payment-failed" and summary.events[0].count == 2
    activity = (await control.get("/_sandbox/contacts/contact_sepa/activity")).json()
    kinds = [a["kind"] for a in activity["timeline"]]
    assert kinds == ["event", "event_duplicate_ignored", "event"]


async def test_event_unknown_user_is_404_and_metadata_limits(
    intercom: AsyncIntercom, running_intercom: RunningSandbox
) -> None:
    with pytest.raises(ApiError) as info:
        await intercom.events.create(
            request={"event_name": "x", "created_at": 1, "user_id": "usr_ghost"}
        )
    assert info.value.status_code == 404
    with pytest.raises(ApiError) as info:
        await intercom.events.create(
            request={
                "event_name": "x",
                "created_at": 1,
                "id": "contact_vip",
                "metadata": {"a": {"b": 1}},
            }
        )
    assert info.value.status_code == 400
    # More than 10 keys: Intercom keeps the first 10 and ignores the rest (the sandbox records which).
    metadata = {f"k{i}": str(i) for i in range(12)}
    await intercom.events.create(
        request={
            "event_name": "x",
            "created_at": 2,
            "email": "lena@fischer-digital.example",
            "metadata": metadata,
        }
    )
    stored = running_intercom.state.events[-1]
    assert len(stored["metadata"]) == 10 and stored["ignored_metadata_keys"] == ["k10", "k11"]


# ---- notes ----------------------------------------------------------------------------------
async def test_notes_create_and_list(intercom: AsyncIntercom) -> None:
    note = await intercom.notes.create(
        contact_id="contact_vip", body="Refunded 20 € as goodwill", admin_id="admin_1"
    )
    assert note.body == "<p>Refunded 20 € as goodwill</p>"
    assert note.author.name == "Sam Support"
    # Pass page=1: with page=None the SDK's notes pager computes None + 1 when iterating.
    pager = await intercom.notes.list(contact_id="contact_vip", page=1)
    assert [n.id for n in pager.items] == [note.id]
    with pytest.raises(ApiError) as info:
        await intercom.notes.create(contact_id="contact_vip", body="x", admin_id="admin_404")
    assert info.value.status_code == 404


# ---- data attributes ------------------------------------------------------------------------
async def test_data_attributes_only_stripe_id_is_custom(intercom: AsyncIntercom) -> None:
    listed = await intercom.data_attributes.list(model="contact")
    custom = [a.name for a in listed.data if a.custom]
    assert custom == ["stripe_id"]
    assert {"email", "external_id", "name"} <= {a.name for a in listed.data if not a.custom}


async def test_data_attribute_create_and_duplicate(intercom: AsyncIntercom) -> None:
    created = await intercom.data_attributes.create(
        request={
            "name": "stripe_mrr",
            "model": "contact",
            "data_type": "float",
            "description": "Monthly recurring revenue in EUR",
            "messenger_writable": False,
        }
    )
    assert created.full_name == "custom_attributes.stripe_mrr" and created.custom
    with pytest.raises(BadRequestError) as info:
        await intercom.data_attributes.create(
            request={"name": "stripe_id", "model": "contact", "data_type": "string"}
        )
    assert info.value.status_code == 400
    assert info.value.body["errors"][0]["message"] == (
        "You already have 'stripe_id' in your people data. "
        "To save this as new people data, use a different name."
    )
    with pytest.raises(BadRequestError):
        await intercom.data_attributes.create(
            request={"name": "x", "model": "contact", "data_type": "mithril"}
        )


async def test_messenger_writable_is_stored_returned_and_updatable(
    intercom: AsyncIntercom, running_intercom: RunningSandbox
) -> None:
    # As the spec's create example: not writable from the Messenger unless asked for.
    plain = await intercom.data_attributes.create(
        request={"name": "stripe_plan", "model": "contact", "data_type": "string"}
    )
    writable = await intercom.data_attributes.create(
        request={
            "name": "favourite_colour",
            "model": "contact",
            "data_type": "string",
            "messenger_writable": True,
        }
    )
    assert (plain.messenger_writable, writable.messenger_writable) == (False, True)
    listed = {a.name: a for a in (await intercom.data_attributes.list(model="contact")).data}
    assert listed["stripe_id"].messenger_writable is False  # seeded protected
    assert listed["favourite_colour"].messenger_writable is True

    assert writable.id is not None
    updated = await intercom.data_attributes.update(
        writable.id, request={"messenger_writable": False}
    )

    assert updated.messenger_writable is False and updated.name == "favourite_colour"
    listed = {a.name: a for a in (await intercom.data_attributes.list(model="contact")).data}
    assert listed["favourite_colour"].messenger_writable is False
    auth = {"Authorization": "Bearer tok_test_sandbox"}
    async with async_client(base_url=running_intercom.base_url, headers=auth) as api:
        missing = await api.put("/data_attributes/999999", json={"messenger_writable": False})
        wrong = await api.put(f"/data_attributes/{writable.id}", json={"messenger_writable": "no"})
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "field_not_found"
    assert wrong.status_code == 400


# ---- conversations, admin -------------------------------------------------------------------
async def test_conversation_reply_note_and_me(
    intercom: AsyncIntercom, control: httpx.AsyncClient
) -> None:
    me = await intercom.admins.identify()
    assert me.id == "admin_1" and me.email == "sam@support.example"
    conversation = await intercom.conversations.reply(
        conversation_id="conv_sepa",
        request=AdminReplyConversationRequest(
            message_type="note", admin_id=me.id, body="Payment retried via Stripe"
        ),
    )
    parts = conversation.conversation_parts.conversation_parts
    assert parts[-1].part_type == "note" and parts[-1].body == "<p>Payment retried via Stripe</p>"
    fetched = await intercom.conversations.find(conversation_id="conv_sepa")
    assert fetched.contacts.contacts[0].id == "contact_sepa"
    assert len(fetched.conversation_parts.conversation_parts) == 1
    activity = (await control.get("/_sandbox/contacts/contact_sepa/activity")).json()
    assert activity["timeline"][-1]["kind"] == "conversation_reply"


# ---- auth, rate limits, faults --------------------------------------------------------------
async def test_wrong_token_is_401(running_intercom: RunningSandbox) -> None:
    bad = AsyncIntercom(token="tok_wrong", base_url=running_intercom.base_url)
    with pytest.raises(UnauthorizedError) as info:
        await bad.contacts.find(contact_id="contact_healthy")
    assert info.value.status_code == 401
    assert info.value.body.errors[0].code == "unauthorized"
    async with async_client(base_url=running_intercom.base_url) as raw:
        response = await raw.get("/me")
    assert response.status_code == 401
    assert response.json()["errors"] == [
        {"code": "unauthorized", "message": "Access Token Invalid"}
    ]


async def test_rate_limit_429_without_and_with_sdk_retries(
    intercom: AsyncIntercom, control: httpx.AsyncClient
) -> None:
    # python-intercom 5.0.1 (core/http_client.py) retries 429/408/409/5xx only when the caller passes
    # request_options={"max_retries": N}; the default is 0, i.e. no retry. Quirk: the recursion
    # starts at retries=2 and retries while max_retries > retries, so max_retries=3 means ONE
    # retry. The wait is Retry-After (seconds, capped at 60), else X-RateLimit-Reset, else
    # exponential backoff from 1 s. contacts.* maps no 429 subclass, so the error is a plain
    # ApiError (TooManyRequestsError exists but is raised only by a few endpoints).
    await control.post("/_sandbox/rate_limit", json={"count": 1, "retry_after": 1})
    with pytest.raises(ApiError) as info:
        await intercom.contacts.find(contact_id="contact_healthy")
    error = info.value
    assert error.status_code == 429
    assert error.body["errors"][0]["code"] == "rate_limit_exceeded"
    assert error.headers is not None
    assert error.headers["retry-after"] == "1"
    assert error.headers["x-ratelimit-remaining"] == "0"
    assert int(error.headers["x-ratelimit-reset"]) >= int(time.time())

    await control.post("/_sandbox/rate_limit", json={"count": 1, "retry_after": 1})
    started = time.monotonic()
    contact = await intercom.contacts.find(
        contact_id="contact_healthy", request_options={"max_retries": 3}
    )
    assert contact.id == "contact_healthy"
    assert time.monotonic() - started >= 0.9
    log = (await control.get("/_sandbox/requests")).json()["data"]
    assert [r["status"] for r in log] == [429, 429, 200]


async def test_faults_and_latency(intercom: AsyncIntercom, control: httpx.AsyncClient) -> None:
    await control.post(
        "/_sandbox/faults", json={"status": 500, "count": 1, "path_prefix": "/contacts"}
    )
    await intercom.tags.list()  # not under the prefix: unaffected
    with pytest.raises(ApiError) as info:
        await intercom.contacts.find(contact_id="contact_healthy")
    assert info.value.status_code == 500
    assert info.value.body["type"] == "error.list"
    await intercom.contacts.find(contact_id="contact_healthy")  # fault consumed

    await control.post("/_sandbox/latency", json={"ms": 50})
    started = time.monotonic()
    await intercom.admins.identify()
    assert time.monotonic() - started >= 0.05
    await control.post("/_sandbox/latency", json={"ms": 0})


async def test_request_log_records_version_and_body(
    intercom: AsyncIntercom, control: httpx.AsyncClient, running_intercom: RunningSandbox
) -> None:
    await intercom.contacts.search(query=single("email", "=", "anna@example.com"))
    # The SDK does not send Intercom-Version on its own; without headers= the log shows None.
    plain = AsyncIntercom(token="tok_test_sandbox", base_url=running_intercom.base_url)
    await plain.admins.identify()
    log = (await control.get("/_sandbox/requests")).json()
    first, second = log["data"]
    assert first["method"] == "POST" and first["path"] == "/contacts/search"
    assert first["body"]["query"] == {
        "field": "email",
        "operator": "=",
        "value": "anna@example.com",
    }
    assert first["intercom_version"] == "2.14" and second["intercom_version"] is None
    assert log["intercom_versions_seen"] == {"2.14": 1, "<missing>": 1}
    assert (await control.delete("/_sandbox/requests")).status_code == 200
    assert (await control.get("/_sandbox/requests")).json()["data"] == []


async def test_reset_reseeds(intercom: AsyncIntercom, control: httpx.AsyncClient) -> None:
    await intercom.data_attributes.create(
        request={"name": "temp_attr", "model": "contact", "data_type": "string"}
    )
    response = await control.post("/_sandbox/reset")
    assert response.json() == {"reset": True, "contacts": 10}
    listed = await intercom.data_attributes.list(model="contact")
    assert [a.name for a in listed.data if a.custom] == ["stripe_id"]
