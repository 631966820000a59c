"""The sidebar's "Refund a payment": pick a payment, choose the amount, review, confirm. The same
policy as Fin's minus the per-customer count, the same single-use token: a second press of the
confirm button never refunds twice. Every card is checked against the Canvas Kit contract."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from inbox.refunds import parse_amount
from sandbox.canvas_requests import demo_contact, inbox_initialize, inbox_submit
from storage import Database
from storage.actions import ActionStore, AuditEntry
from tests.conftest import STRIPE_KEY, AppClient, Sandbox
from tests.http import HTTP
from tests.inbox.sidebar import clickable, components


class Sidebar:
    """One demo conversation's sidebar, driven the way Intercom drives it."""

    def __init__(self, app: AppClient, check: Callable[[str, dict[str, Any]], None], key: str):
        self.app, self.check, self.key = app, check, key

    def open(self) -> dict[str, Any]:
        payload = inbox_initialize(demo_contact(self.key), f"conv_{self.key}")
        return self._post("/canvas/inbox/initialize", payload, "initialize_response")

    def press(self, body: dict[str, Any], component_id: str, **inputs: str) -> dict[str, Any]:
        assert component_id in clickable(body), texts(body)
        payload = inbox_submit(
            demo_contact(self.key), f"conv_{self.key}", component_id, body["canvas"], inputs
        )
        return self._post("/canvas/inbox/submit", payload, "submit_response")

    def _post(self, path: str, payload: dict[str, Any], schema: str) -> dict[str, Any]:
        response = self.app.canvas(path, payload)
        assert response.status_code == 200, response.text
        body = response.json()
        self.check(schema, body)
        return body


def texts(body: dict[str, Any]) -> str:
    parts = []
    for c in components(body):
        parts += [str(c[k]) for k in ("text", "label", "title", "subtitle", "value") if c.get(k)]
    return "\n".join(parts).replace("\xa0", " ")


def refunds(stripe: Sandbox, charge: str) -> list[dict[str, Any]]:
    response = HTTP.get(
        f"{stripe.url}/v1/refunds",
        params={"charge": charge},
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
    )
    return response.json()["data"]


def audit(app: AppClient) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        db = Database(app.settings.database_url)
        await db.start()
        try:
            return await ActionStore(db).entries()
        finally:
            await db.stop()

    return asyncio.run(read())


@pytest.fixture
def sidebar(start_app: Callable[..., AppClient], assert_canvas) -> Callable[..., Sidebar]:
    def open_for(key: str, **settings: Any) -> Sidebar:
        return Sidebar(start_app(**settings), assert_canvas, key)

    return open_for


def to_review(bar: Sidebar, charge_index: int = 0) -> tuple[dict[str, Any], str]:
    summary = bar.open()
    listing = bar.press(summary, "refund")
    charge_ids = [
        i.removeprefix("refund:charge:")
        for i in clickable(listing)
        if i.startswith("refund:charge:")
    ]
    charge = charge_ids[charge_index]
    return bar.press(listing, f"refund:charge:{charge}"), charge


def test_the_summary_offers_a_refund_only_when_a_payment_can_be_refunded(sidebar) -> None:
    assert "refund" in clickable(sidebar("healthy").open())
    assert "refund" not in clickable(sidebar("trial").open())  # only a 0 € trial invoice


def test_an_agent_refunds_part_of_a_payment_after_confirming(
    sidebar, stripe_sandbox: Sandbox
) -> None:
    bar = sidebar("healthy")
    form, charge = to_review(bar)
    assert "Refund the payment of" in texts(form)
    amount_input = next(c for c in components(form) if c.get("id") == "refund_amount")
    assert amount_input["value"] == "79.00"

    review = bar.press(
        form, f"refund:review:{charge}", refund_amount="12,50", refund_reason="charged twice"
    )
    assert "Refund €12.50?" in texts(review)
    assert "Yes, refund €12.50" in texts(review)
    assert refunds(stripe_sandbox, charge) == []  # nothing moves before the confirmation

    done = bar.press(review, "refund:confirm")

    [refund] = refunds(stripe_sandbox, charge)
    assert "€12.50 refunded" in texts(done) and refund["id"] in texts(done)
    assert refund["amount"] == 1250
    assert refund["metadata"]["requested_by"] == "admin:admin_1"
    assert refund["metadata"]["intercom_conversation_id"] == "conv_healthy"
    [entry] = audit(bar.app)
    assert (entry.actor_type, entry.actor_id, entry.conversation_id) == (
        "admin",
        "admin_1",
        "conv_healthy",
    )
    assert (entry.outcome, entry.stripe_id, entry.reason) == (
        "succeeded",
        refund["id"],
        "charged twice",
    )


def test_the_steps_speak_the_agents_language(sidebar) -> None:
    bar = sidebar("healthy", agent_locale="de")
    form, charge = to_review(bar)
    amount_input = next(c for c in components(form) if c.get("id") == "refund_amount")

    review = bar.press(form, f"refund:review:{charge}", refund_amount=amount_input["value"])

    assert amount_input["value"] == "79,00"
    assert "79,00 € erstatten?" in texts(review)
    assert "Ja, 79,00 € erstatten" in texts(review)


def test_pressing_confirm_twice_refunds_once(sidebar, stripe_sandbox: Sandbox) -> None:
    bar = sidebar("healthy")
    form, charge = to_review(bar)
    review = bar.press(form, f"refund:review:{charge}", refund_amount="5")

    first = bar.press(review, "refund:confirm")
    second = bar.press(review, "refund:confirm")

    assert len(refunds(stripe_sandbox, charge)) == 1
    assert "already been made" not in texts(first)
    assert "already been made; no money moved again" in texts(second)


def test_the_policy_maximum_applies_to_agents_too(sidebar, stripe_sandbox: Sandbox) -> None:
    bar = sidebar("vip")
    form, charge = to_review(bar)  # a 199 € payment, the default maximum is 100 €

    review = bar.press(form, f"refund:review:{charge}", refund_amount="199.00")

    assert "at most €100.00 can be refunded here" in texts(review)
    assert "refund:confirm" not in clickable(review)


def test_fins_per_customer_count_does_not_limit_agents(sidebar, stripe_sandbox: Sandbox) -> None:
    bar = sidebar("healthy", refund_max_per_customer=0)
    form, charge = to_review(bar)
    review = bar.press(form, f"refund:review:{charge}", refund_amount="1")

    done = bar.press(review, "refund:confirm")

    assert "€1.00 refunded" in texts(done)


def test_an_amount_that_is_not_one_asks_again(sidebar) -> None:
    bar = sidebar("healthy")
    form, charge = to_review(bar)

    again = bar.press(form, f"refund:review:{charge}", refund_amount="twelve")

    assert "Enter an amount like 12.50." in texts(again)
    assert f"refund:review:{charge}" in clickable(again)


def test_stripe_not_confirming_offers_a_safe_retry_that_refunds_once(
    sidebar, stripe_sandbox: Sandbox
) -> None:
    bar = sidebar("healthy")
    form, charge = to_review(bar)
    review = bar.press(form, f"refund:review:{charge}", refund_amount="3")
    stripe_sandbox.control(
        "POST", "/_sandbox/faults", {"status": 500, "path_prefix": "/v1/refunds", "count": 1}
    )

    failed = bar.press(review, "refund:confirm")
    retried = bar.press(failed, "refund:confirm")

    assert "Trying again is safe" in texts(failed)
    assert "€3.00 refunded" in texts(retried)
    assert len(refunds(stripe_sandbox, charge)) == 1


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("12,50", "eur", 1250),
        ("12.50 €", "eur", 1250),
        ("12,5", "eur", 1250),
        ("1.234,56", "eur", 123456),
        ("1,234.56", "eur", 123456),
        ("1,234", "eur", 123400),
        ("€ 7", "eur", 700),
        ("500", "jpy", 500),
        ("1,500", "jpy", 1500),
    ],
)
def test_amounts_are_read_as_agents_type_them(typed: str, currency: str, minor: int) -> None:
    assert parse_amount(typed, currency) == minor


@pytest.mark.parametrize("typed", ["", "abc", "0", "0,00", "-", ","])
def test_what_is_not_a_positive_amount_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(typed, "eur")
