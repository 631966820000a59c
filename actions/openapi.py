"""`GET /fin/openapi.json`: an OpenAPI 3.1 description of the Fin endpoints, generated from
their pydantic models, so a data connector can be set up (and Fin told when to call what) from
one document that cannot drift from the code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from actions.schemas import ErrorResponse

ERROR_DESCRIPTIONS = {
    400: "The body is not a JSON object (`invalid_json`).",
    401: "Missing or wrong bearer token (`unauthorized`).",
    403: "Money needs a verified contact: the request names the customer by email only, or its "
    "`user_id` / `stripe_id` matched nobody (`verified_identity_required`); relay `message` "
    "(the customer should sign in) and move no money. For /fin/refunds and /fin/cancellation "
    "also a confirmation token that grants nothing: not one we signed, for another customer "
    "(`invalid_confirmation_token`) or expired (`confirmation_token_expired`); relay `message` "
    "and preview again.",
    404: "No Stripe customer matches the contact (`customer_not_found`), the `subscription_id` "
    "is not one of theirs (`subscription_not_found`), or for /fin/invoices no invoice of the "
    "customer has the `number` asked for (`invoice_not_found`); relay `message`.",
    409: "Several Stripe customers match and money must not move (`ambiguous_customer`), or "
    "the customer has several live subscriptions and none was named (`subscription_required`: "
    "ask which of `subscriptions` is meant, call again with its `subscription_id`), or "
    "the refund is refused now (`refund_*`, `refunded_already`) or already running "
    "(`refund_in_progress`), or Stripe refused the request it led to (`stripe_rejected`); "
    "for the cancel flow: several subscriptions and none named (`subscription_required`, "
    "listed in `details`), the subscription changed since the preview (`offer_not_available`) "
    "or the change is running (`cancellation_in_progress`); relay `message`.",
    422: "Missing or invalid fields (`invalid_request`, with `details`).",
    503: "Stripe is unavailable (`stripe_unavailable`); relay `message`, retry later. For "
    "/fin/refunds and /fin/cancellation, retrying with the same confirmation_token is safe.",
}


class Endpoint(Protocol):
    """What the document needs of an endpoint (read-only, so frozen dataclasses qualify)."""

    @property
    def path(self) -> str: ...
    @property
    def request(self) -> type[BaseModel]: ...
    @property
    def response(self) -> type[BaseModel]: ...
    @property
    def summary(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def errors(self) -> tuple[int, ...]: ...


def openapi_document(endpoints: Iterable[Endpoint], *, server_url: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    error_ref = ref(ErrorResponse, "serialization")
    paths: dict[str, Any] = {}
    for endpoint in endpoints:
        responses: dict[str, Any] = {
            "200": {
                "description": endpoint.summary,
                "content": {
                    "application/json": {"schema": ref(endpoint.response, "serialization")}
                },
            }
        }
        for status in endpoint.errors:
            responses[str(status)] = {
                "description": ERROR_DESCRIPTIONS[status],
                "content": {"application/json": {"schema": error_ref}},
            }
        paths[endpoint.path] = {
            "post": {
                "operationId": endpoint.path.removeprefix("/fin/")
                .replace("/", "_")
                .replace("-", "_"),
                "summary": endpoint.summary,
                "description": endpoint.description,
                "security": [{"bearerAuth": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": ref(endpoint.request, "validation")}
                    },
                },
                "responses": responses,
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Stripe billing for Fin",
            "version": "1.0.0",
            "description": "Data connectors for Intercom's Fin: billing status, next invoice, "
            "upgrade quotes, refunds with guardrails and cancel-or-save (pause, a retention "
            "discount, a cheaper plan, or cancel at period end), answered from Stripe. Identify the "
            "customer with the contact's `email`, `user_id` and `stripe_id` as Intercom knows them "
            "(reads may use the email alone; refunds and cancellations need `user_id` or "
            "`stripe_id`); every "
            "answer carries a `message` to say in the customer's language (`locale`). A refund "
            "is two calls: preview, then — only after the customer explicitly confirmed the "
            "previewed amount — execute with the preview's confirmation_token.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "One of the server's FIN_ACTION_TOKENS.",
                }
            },
        },
    }
