"""The sidebar for a customer with several live subscriptions (Klara of Weber Design Studio:
Pro monthly and the Priority support add-on): one line each in the summary, a section each in
the details, and every action names the subscription it acts on. Every card is checked against
the Canvas Kit contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from billing.money import format_day, to_datetime
from tests.conftest import STRIPE_KEY, AppClient, Sandbox
from tests.http import HTTP
from tests.inbox.test_inbox import texts as shown
from tests.inbox.test_inbox_refunds import Sidebar, texts


def seen(body: dict[str, Any]) -> str:
    """What the agent reads, tables as "field: value", one line each."""
    return "\n".join(shown(body)).replace("\xa0", " ")


NAMES = {"sub_DemoMultiPlan": "Pro", "sub_DemoMultiAddon": "Priority support"}


@pytest.fixture
def klara(app_client: AppClient, assert_canvas: Callable[[str, dict[str, Any]], None]) -> Sidebar:
    return Sidebar(app_client, assert_canvas, "multi")


def stripe_get(stripe: Sandbox, path: str, **params: Any) -> dict[str, Any]:
    response = HTTP.get(
        f"{stripe.url}{path}", params=params, headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    )
    response.raise_for_status()
    return response.json()


def test_the_summary_shows_each_subscription_on_a_line_of_its_own(klara: Sidebar):
    text = seen(klara.open())
    assert "**Pro** · €79.00 / month · Active" in text
    assert "**Priority support** · €15.00 / month · Active" in text
    # Each line carries its status; the next invoice is the one that comes first (Pro's).
    assert "Status:" not in text
    assert "Next invoice: €79.00 on " in text


def test_the_summary_in_german(
    start_app: Callable[..., AppClient], assert_canvas: Callable[[str, dict[str, Any]], None]
):
    text = seen(Sidebar(start_app(agent_locale="de"), assert_canvas, "multi").open())
    assert "**Pro** · 79,00 € / Monat · Aktiv" in text
    assert "**Priority support** · 15,00 € / Monat · Aktiv" in text


def test_the_details_have_a_section_per_subscription(klara: Sidebar, stripe_sandbox: Sandbox):
    details = klara.press(klara.open(), "details")
    text = seen(details)
    plan = stripe_get(stripe_sandbox, "/v1/subscriptions/sub_DemoMultiPlan")
    assert "**Pro** · sub_DemoMultiPlan" in text
    assert "**Priority support** · sub_DemoMultiAddon" in text
    assert text.count("Cancels at period end: No") == 2
    assert text.count("Period end: ") == 2
    assert "Next invoice: €15.00 on " in text and "Next invoice: €79.00 on " in text
    # Pro's section comes first, and its period end is Stripe's.
    assert text.index("sub_DemoMultiPlan") < text.index("sub_DemoMultiAddon")
    period_end = format_day(to_datetime(plan["items"]["data"][0]["current_period_end"]), "en")
    pro = text.split("**Priority support**")[0]
    assert f"Period end: {period_end}" in pro


def test_a_cancelling_subscription_says_so_in_its_section(klara: Sidebar, stripe_sandbox: Sandbox):
    HTTP.post(
        f"{stripe_sandbox.url}/v1/subscriptions/sub_DemoMultiAddon",
        data={"cancel_at_period_end": "true"},
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
    ).raise_for_status()
    text = seen(klara.press(klara.open(), "details"))
    plan, addon = text.split("**Priority support** · sub_DemoMultiAddon")
    assert "Cancels at period end: No" in plan
    assert "Cancels at period end: Yes" in addon.split("**Last payments**")[0]


def test_the_refund_picker_says_which_subscription_each_payment_was_for(
    klara: Sidebar, stripe_sandbox: Sandbox
):
    picker = klara.press(klara.open(), "refund")
    items = [c for c in picker["canvas"]["content"]["components"] if c["type"] == "list"][0]
    charges = {
        c["id"]: c["amount"]
        for c in stripe_get(stripe_sandbox, "/v1/charges", customer="cus_DemoMulti")["data"]
    }
    for item in items["items"]:
        charge = item["id"].removeprefix("refund:charge:")
        expected = "Pro" if charges[charge] == 7900 else "Priority support"
        assert item["subtitle"].endswith(f"refundable · {expected}"), item

    addon_payment = next(i for i in items["items"] if i["subtitle"].endswith("Priority support"))
    form = klara.press(picker, addon_payment["id"])
    review = klara.press(
        form,
        addon_payment["id"].replace("refund:charge:", "refund:review:"),
        refund_amount="5.00",
    )
    assert "Subscription: Priority support" in texts(review)


def test_a_retry_names_the_failed_invoices_subscription(klara: Sidebar, stripe_sandbox: Sandbox):
    invoice = stripe_sandbox.control(
        "POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoMulti"}
    )
    name = NAMES[invoice["parent"]["subscription_details"]["subscription"]]
    ask = klara.press(klara.open(), f"retry_invoice:{invoice['id']}")
    assert f"Subscription: {name}" in texts(ask)


def test_a_customer_with_one_subscription_keeps_the_single_plan_layout(
    app_client: AppClient, assert_canvas: Callable[[str, dict[str, Any]], None]
):
    text = seen(Sidebar(app_client, assert_canvas, "healthy").open())
    assert "**Pro** · €79.00 / month" in text
    assert "Status: Active" in text
    assert "· Active" not in text
