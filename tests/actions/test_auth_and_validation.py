"""The Fin endpoints refuse what is not Fin and explain client mistakes precisely: 401 without
the bearer token, 400 for a body that is not JSON, 422 naming the bad fields. Never a 500, and
no Stripe call before the caller is known."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.actions.conftest import Stripe, who
from tests.conftest import FIN_TOKEN, AppClient

ENDPOINTS = [
    "/fin/billing-status",
    "/fin/next-invoice",
    "/fin/upgrade-quote",
    "/fin/refunds/preview",
    "/fin/refunds",
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_request_without_a_token_is_refused_before_stripe_is_asked(
    fin: AppClient, stripe: Stripe, path: str
) -> None:
    response = fin.http.post(path, json=who("healthy", target_plan="Business"))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert stripe.requests() == []


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wrong-token",
        f"Basic {FIN_TOKEN}",
        FIN_TOKEN,
        "Bearer",
        f"Bearer {FIN_TOKEN}2",
        f"Bearer {FIN_TOKEN[:-1]}",
    ],
)
def test_a_wrong_token_or_scheme_is_refused(fin: AppClient, header: str) -> None:
    response = fin.http.post(
        "/fin/billing-status", json=who("healthy"), headers={"Authorization": header}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_every_configured_token_is_accepted_so_tokens_can_be_rotated(
    start_app: Callable[..., AppClient],
) -> None:
    app = start_app(fin_action_tokens="old-token-0123456789, new-token-0123456789")

    old = app.fin("/fin/billing-status", who("healthy"), token="old-token-0123456789")
    new = app.fin("/fin/billing-status", who("healthy"), token="new-token-0123456789")

    assert (old.status_code, new.status_code) == (200, 200)


def test_without_configured_tokens_fin_is_switched_off(start_app: Callable[..., AppClient]) -> None:
    app = start_app(fin_action_tokens="")

    response = app.fin("/fin/billing-status", who("healthy"), token="anything")

    assert response.status_code == 401
    assert "not enabled" in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_a_400(fin: AppClient, body: bytes) -> None:
    response = fin.http.post(
        "/fin/next-invoice",
        content=body,
        headers={"Authorization": f"Bearer {FIN_TOKEN}", "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_a_request_without_email_or_user_id_is_a_422(fin: AppClient, stripe: Stripe) -> None:
    response = fin.fin("/fin/billing-status", {"email": "", "user_id": "", "locale": "de"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "email, user_id or stripe_id" in error["details"][0]["message"]
    assert stripe.requests() == []


def test_wrong_types_and_missing_fields_are_named_in_the_422(fin: AppClient) -> None:
    response = fin.fin(
        "/fin/refunds/preview", {"email": 42, "user_id": "usr_anna", "amount": "ten euros"}
    )

    error = response.json()["error"]
    assert response.status_code == 422
    assert {d["field"] for d in error["details"]} == {"email", "amount"}
    assert "amount" in error["message"] and "email" in error["message"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/fin/upgrade-quote", who("healthy"), "target_plan"),
        ("/fin/upgrade-quote", who("healthy", target_plan="Pro", interval="fortnight"), "interval"),
        ("/fin/refunds", who("healthy"), "confirmation_token"),
        ("/fin/refunds/preview", who("healthy", amount=0), "amount"),
        ("/fin/refunds/preview", who("healthy", amount=12.5), "amount"),
    ],
)
def test_each_endpoint_validates_its_own_fields(
    fin: AppClient, path: str, body: dict, field: str
) -> None:
    response = fin.fin(path, body)

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_a_get_is_not_allowed(fin: AppClient) -> None:
    response = fin.http.get("/fin/next-invoice", headers={"Authorization": f"Bearer {FIN_TOKEN}"})

    assert response.status_code == 405


def test_an_oversized_body_is_refused_without_reading_it(fin: AppClient) -> None:
    response = fin.fin("/fin/billing-status", {**who("healthy"), "padding": "x" * 1_100_000})

    assert response.status_code == 413
