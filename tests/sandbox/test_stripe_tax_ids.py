"""Customer tax ids and billing address: created, verified, listed, expanded, deleted, and
the webhooks that say so."""

from __future__ import annotations

import pytest
import stripe

ANNA = "cus_DemoHealthy"


async def _events(client: stripe.StripeClient, type_: str) -> list[stripe.Event]:
    return (await client.v1.events.list_async({"type": type_})).data


async def test_a_german_vat_number_is_pending_then_verified(client: stripe.StripeClient) -> None:
    created = await client.v1.customers.tax_ids.create_async(
        ANNA, {"type": "eu_vat", "value": "DE 298 765 431"}
    )
    assert created.value == "DE298765431" and created.country == "DE"
    assert created.customer == ANNA and created.owner is not None
    assert created.owner.type == "customer" and created.owner.customer == ANNA
    assert created.verification is not None and created.verification.status == "pending"
    again = await client.v1.customers.tax_ids.retrieve_async(ANNA, created.id)
    assert again.verification is not None and again.verification.status == "verified"
    assert again.verification.verified_name == "Anna Becker"
    [made] = await _events(client, "customer.tax_id.created")
    [updated] = await _events(client, "customer.tax_id.updated")
    assert made.data.object.id == created.id
    assert updated.data.previous_attributes is not None
    assert updated.data.previous_attributes.to_dict()["verification"]["status"] == "pending"


async def test_the_unverified_test_number_is_unverified(client: stripe.StripeClient) -> None:
    txi = await client.v1.customers.tax_ids.create_async(
        ANNA, {"type": "eu_vat", "value": "DE111111111"}
    )
    txi = await client.v1.customers.tax_ids.retrieve_async(ANNA, txi.id)
    assert txi.verification is not None and txi.verification.status == "unverified"


@pytest.mark.parametrize(
    ("type_", "value"),
    [("eu_vat", "DE12345"), ("eu_vat", "XX123456789"), ("gb_vat", "123456789"), ("us_ein", "1")],
)
async def test_a_malformed_number_is_tax_id_invalid(
    client: stripe.StripeClient, type_: str, value: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.customers.tax_ids.create_async(ANNA, {"type": type_, "value": value})
    assert ei.value.http_status == 400 and ei.value.code == "tax_id_invalid"
    assert ei.value.param == "value" and str(ei.value.user_message) == f"Invalid value for {type_}."
    assert (await client.v1.customers.tax_ids.list_async(ANNA)).data == []


async def test_tax_ids_are_listed_expanded_and_deleted(client: stripe.StripeClient) -> None:
    first = await client.v1.customers.tax_ids.create_async(
        ANNA, {"type": "eu_vat", "value": "ATU12345678"}
    )
    second = await client.v1.customers.tax_ids.create_async(
        ANNA, {"type": "ch_vat", "value": "CHE-123.456.789 MWST"}
    )
    assert second.verification is not None and second.verification.status == "unavailable"
    listed = await client.v1.customers.tax_ids.list_async(ANNA)
    assert [t.id for t in listed.data] == [second.id, first.id]
    cus = await client.v1.customers.retrieve_async(ANNA, {"expand": ["tax_ids"]})
    assert cus.tax_ids is not None and [t.value for t in cus.tax_ids.data] == [
        "CHE-123.456.789 MWST",
        "ATU12345678",
    ]
    page = await client.v1.customers.list_async(
        {"email": "anna@example.com", "expand": ["data.tax_ids"]}
    )
    assert page.data[0].tax_ids is not None and len(page.data[0].tax_ids.data) == 2
    gone = await client.v1.customers.tax_ids.delete_async(ANNA, first.id)
    assert gone.deleted is True and gone.id == first.id
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.customers.tax_ids.retrieve_async(ANNA, first.id)
    assert ei.value.http_status == 404
    [deleted] = await _events(client, "customer.tax_id.deleted")
    assert deleted.data.object.id == first.id
    with pytest.raises(stripe.InvalidRequestError):  # another customer's tax id is not Anna's
        await client.v1.customers.tax_ids.retrieve_async("cus_DemoMulti", second.id)


async def test_the_seeded_vat_number_is_verified_and_on_every_invoice(
    client: stripe.StripeClient,
) -> None:
    [txi] = (await client.v1.customers.tax_ids.list_async("cus_DemoMulti")).data
    assert txi.value == "DE123456789" and txi.verification is not None
    assert txi.verification.status == "verified"
    invoices = (await client.v1.invoices.list_async({"customer": "cus_DemoMulti"})).data
    assert invoices and all(
        [(t.type, t.value) for t in inv.customer_tax_ids or []] == [("eu_vat", "DE123456789")]
        for inv in invoices
    )


async def test_an_address_update_reports_the_old_values_of_the_changed_keys(
    client: stripe.StripeClient,
) -> None:
    before = await client.v1.customers.retrieve_async("cus_DemoMulti")
    assert before.address is not None and before.address.city == "Berlin"
    cus = await client.v1.customers.update_async(
        "cus_DemoMulti",
        {
            "address": {
                "line1": "Marienplatz 1",
                "postal_code": "80331",
                "city": "München",
                "country": "DE",
            }
        },
    )
    assert cus.address is not None and cus.address.city == "München"
    [evt] = await _events(client, "customer.updated")
    assert evt.data.previous_attributes is not None
    assert evt.data.previous_attributes.to_dict() == {
        "address": {"city": "Berlin", "line1": "Friedrichstraße 123", "postal_code": "10117"}
    }
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.customers.update_async("cus_DemoMulti", {"address": {"country": "Germany"}})
    assert ei.value.param == "address[country]"
