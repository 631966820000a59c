"""The report from real flows: Stripe's own webhooks (delivered by the sandbox, signed) record
what failed, the customer pays by card through our link, and the report counts that invoice as
recovered by the card link — while a declined card renewal stays open."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reporting.report import Report, build_report
from storage import Database
from tests.conftest import WEBHOOK_SECRET
from tests.messenger.driver import Messenger, button, visible
from tests.messenger.test_payment_links import complete

ADMIN_TOKEN = "admin-token-0123456789"


@pytest.fixture
def connected(start_messenger: Callable[..., Messenger]) -> Iterator[Messenger]:
    # No Intercom token: the report's facts are recorded whether or not the automations run.
    messenger = start_messenger(
        admin_tokens=ADMIN_TOKEN, intercom_access_token="", retry_cooldown_minutes=0
    )
    messenger.stripe.control(
        "POST",
        "/_sandbox/webhook_endpoints",
        {"url": f"{messenger.app.url}/webhooks/stripe", "secret": WEBHOOK_SECRET},
    )
    yield messenger
    messenger.stripe.state.webhooks.endpoints.clear()


def report(messenger: Messenger) -> Report:
    async def run() -> Report:
        db = Database(messenger.app.settings.database_url)
        await db.start()
        try:
            return await build_report(db)
        finally:
            await db.stop()

    return asyncio.run(run())


def eventually(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


@pytest.mark.slow
def test_a_returned_debit_paid_by_card_through_our_link_counts_as_recovered_by_the_link(
    connected: Messenger,
) -> None:
    messenger = connected
    invoice = messenger.open_invoice("cus_DemoSepa")
    # The customer retries in the chat; the bank returns the debit again (AM04).
    card = messenger.initialize("sepa", "payment_recovery")
    assert "processing" in visible(messenger.press("sepa", card, "retry_payment"))
    messenger.stripe.control("POST", "/_sandbox/sepa/settle")
    eventually(lambda: report(messenger).failed.count == 1, "the returned debit's webhook")
    # A card renewal of another customer is declined.
    messenger.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})
    eventually(lambda: report(messenger).failed.count == 2, "the declined renewal's webhook")

    # Then the SEPA customer pays by card through the link in the card.
    card = messenger.initialize("sepa", "payment_recovery")
    visit = complete(button(card, "pay_by_card")["action"]["url"])
    assert visit.page.status_code == 200
    done = eventually(lambda: report(messenger).recovered.count == 1 and report(messenger), "paid")

    assert done.failed.count == 2 and done.recovery_rate == 0.5
    assert done.channels["card_link"].count == 1
    assert done.channels["card_link"].amounts == {"eur": invoice["amount_remaining"]}
    assert done.channels["chat_retry"].count == 0  # the chat retry was returned by the bank
    assert done.channels["open"].count == 1
    assert {r.key: r.tally.count for r in done.reasons} == {
        "sepa:AM04": 1,
        "card:insufficient_funds": 1,
    }

    page = messenger.app.http.get(
        "/admin/report", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert page.status_code == 200 and "50.0 %" in page.text
