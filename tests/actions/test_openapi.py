"""`/fin/openapi.json` describes every Fin endpoint (`PATHS`) from its models, tells Fin when to
call each, and matches what each endpoint really answers."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator

from tests.actions.conftest import who
from tests.conftest import AppClient

PATHS = {
    "/fin/billing-status",
    "/fin/next-invoice",
    "/fin/upgrade-quote",
    "/fin/refunds/preview",
    "/fin/refunds",
    "/fin/invoices",
    "/fin/billing-details",
    "/fin/cancellation/preview",
    "/fin/cancellation",
}
# Endpoints that move money or change the customer: they need a verified identity (403).
VERIFIED_ONLY = {
    "/fin/refunds/preview",
    "/fin/refunds",
    "/fin/billing-details",
    "/fin/cancellation/preview",
    "/fin/cancellation",
}


@pytest.fixture
def document(fin: AppClient) -> dict[str, Any]:
    response = fin.http.get("/fin/openapi.json")  # public: a description, no data
    assert response.status_code == 200
    return response.json()


def validator(document: dict[str, Any], ref: str) -> OAS31Validator:
    return OAS31Validator({"$ref": ref, "components": document["components"]})


def test_it_is_openapi_3_1_with_every_endpoint_behind_bearer_auth(
    document: dict[str, Any], fin: AppClient
) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": fin.settings.public_url}]
    assert set(document["paths"]) == PATHS
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "One of the server's FIN_ACTION_TOKENS.",
    }
    for path, item in document["paths"].items():
        operation = item["post"]
        assert operation["security"] == [{"bearerAuth": []}], path
        assert operation["requestBody"]["required"] is True
        expected = {"200", "400", "401", "404", "409", "422", "503"}
        if path in VERIFIED_ONLY:
            expected.add("403")  # money needs a verified identity (user_id or stripe_id)
        assert set(operation["responses"]) == expected, path
        assert len(operation["description"]) > 150, f"{path} needs a 'when to call' description"


def test_the_descriptions_tell_fin_when_to_call_and_to_confirm_refunds(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    assert "when is my next invoice" in paths["/fin/next-invoice"]["post"]["description"].lower()
    assert "What would Business cost me?" in paths["/fin/upgrade-quote"]["post"]["description"]
    assert "moves no money" in paths["/fin/refunds/preview"]["post"]["description"]
    execute = paths["/fin/refunds"]["post"]["description"]
    assert "explicitly confirmed the previewed amount" in execute
    assert "Never call it without that confirmation" in execute
    for path in ("/fin/refunds/preview", "/fin/refunds"):
        operation = paths[path]["post"]
        assert "verified_identity_required" in operation["description"], path
        assert "verified_identity_required" in operation["responses"]["403"]["description"]


def test_every_schema_is_valid_and_every_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name, schema in schemas.items():
        OAS31Validator.check_schema(schema)
        assert schema.get("type") == "object" or "enum" in schema, name
    refs = list(_refs(document))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref


def test_the_request_schemas_require_an_identity_and_the_actions_fields(
    document: dict[str, Any],
) -> None:
    quote = validator(document, "#/components/schemas/UpgradeQuoteRequest")
    refund = validator(document, "#/components/schemas/RefundRequest")

    assert quote.is_valid(who("healthy", target_plan="Business", interval="year"))
    assert not quote.is_valid(who("healthy"))  # no target_plan
    assert not quote.is_valid({"target_plan": "Business"})  # nobody to quote for
    assert refund.is_valid({"user_id": "usr_anna", "confirmation_token": "abc"})
    assert not refund.is_valid({"email": "anna@example.com", "confirmation_token": 5})


def test_the_subscription_a_payment_or_an_invoice_list_is_for_is_documented(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    charge = schemas["ChargeOut"]["properties"]
    invoices = validator(document, "#/components/schemas/InvoicesRequest")

    assert {"subscription_id", "subscription_name"} <= set(charge)
    assert "null when the payment was for no" in charge["subscription_id"]["description"]
    assert {"subscription_id", "subscription_name"} <= set(
        schemas["InvoicesResponse"]["properties"]
    )
    assert invoices.is_valid(who("multi", subscription_id="sub_DemoMultiAddon"))
    assert not invoices.is_valid(who("multi", subscription_id="cus_DemoMulti"))
    invoices_call = document["paths"]["/fin/invoices"]["post"]
    assert "subscription_not_found" in invoices_call["description"]
    assert "subscription_not_found" in invoices_call["responses"]["404"]["description"]
    assert "subscription_name" in document["paths"]["/fin/refunds/preview"]["post"]["description"]


def test_real_answers_match_the_documented_response_schemas(
    document: dict[str, Any], fin: AppClient
) -> None:
    preview = fin.fin("/fin/refunds/preview", who("healthy", amount=500)).json()
    offers = fin.fin("/fin/cancellation/preview", who("vip")).json()["offers"]
    answers = {
        "/fin/billing-status": [fin.fin("/fin/billing-status", who("sepa"))],
        "/fin/next-invoice": [fin.fin("/fin/next-invoice", who("usage"))],
        "/fin/upgrade-quote": [fin.fin("/fin/upgrade-quote", who("trial", target_plan="Business"))],
        "/fin/refunds/preview": [
            fin.fin("/fin/refunds/preview", who("vip")),  # refused, for a subscription
            fin.fin("/fin/refunds/preview", who("multi")),  # eligible, names the add-on
            fin.fin("/fin/refunds/preview", {"stripe_id": "cus_DemoLoyal"}),  # no subscription
        ],
        "/fin/refunds": [
            fin.fin(
                "/fin/refunds", who("healthy", confirmation_token=preview["confirmation_token"])
            )
        ],
        "/fin/invoices": [
            fin.fin("/fin/invoices", who("healthy")),
            fin.fin("/fin/invoices", who("multi", subscription_id="sub_DemoMultiAddon")),
            fin.fin("/fin/invoices", {"email": "anna@example.com", "limit": 1}),  # no links
        ],
        "/fin/billing-details": [fin.fin("/fin/billing-details", who("multi"))],
        "/fin/cancellation/preview": [fin.fin("/fin/cancellation/preview", who("usage"))],
        "/fin/cancellation": [
            fin.fin(
                "/fin/cancellation", who("vip", confirmation_token=offers[0]["confirmation_token"])
            )
        ],
    }
    assert set(answers) == PATHS  # every endpoint is checked
    for path, responses in answers.items():
        ref = document["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]
        for response in responses:
            assert response.status_code == 200, (path, response.text)
            errors = [
                e.message
                for e in validator(document, ref["schema"]["$ref"]).iter_errors(response.json())
            ]
            assert errors == [], path

    error = fin.fin("/fin/billing-status", who("nobody")).json()
    assert validator(document, "#/components/schemas/ErrorResponse").is_valid(error)


def _refs(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_no_two_response_models_share_a_schema_name() -> None:
    # The document's components are keyed by model name: two models with one name would
    # silently describe one endpoint with the other's schema.
    from pydantic import BaseModel

    import actions.cancellation_schemas
    import actions.document_schemas
    import actions.refund_schemas
    import actions.schemas

    names: dict[str, type] = {}
    modules = (
        actions.schemas,
        actions.refund_schemas,
        actions.document_schemas,
        actions.cancellation_schemas,
    )
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
                assert names.setdefault(value.__name__, value) is value, value.__name__
