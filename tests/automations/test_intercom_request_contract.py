"""Every request body the automations send to Intercom, checked against the official REST API
2.14 description (contracts/intercom-api-2.14.yaml).

One documented gap in that description: its schema types event metadata values as strings,
while the same operation's description (the table of metadata types in `POST /events`) also
defines numbers (a JSON number), dates (a key ending in `_date` with a Unix timestamp), the rich
link `{url, value}` and the monetary amount `{amount, currency}`. We send those on purpose (a
count, a percentage or a date a Workflow rule can compare, an amount, an invoice link an agent
can click); any other deviation fails the test, and each must have exactly the documented shape.
Numbers and dates are never sent as strings.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.contracts import INTERCOM_API
from sandbox.intercom_api.contract import load_spec, validate_request
from tests.automations.conftest import Loop

# A string that is really a number or a timestamp (Workflow rules could not compare it).
NUMBER_OR_DATE = re.compile(r"-?\d+(\.\d+)?|\d{4}-\d{2}-\d{2}T[\d:.]+Z?")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec(INTERCOM_API)


def documented_metadata_value(key: str, value: Any) -> bool:
    """One of the non-string metadata types of Intercom's `POST /events` description."""
    if key.endswith("_date"):
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    if not isinstance(value, dict):
        return False
    if set(value) == {"amount", "currency"}:
        return isinstance(value["amount"], int) and isinstance(value["currency"], str)
    if set(value) == {"url", "value"}:
        return isinstance(value["url"], str) and value["url"].startswith(("http://", "https://"))
    return False


def contract_problems(entry: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    problems = validate_request(entry["method"], entry["path"], entry["body"], spec)
    if entry["path"] != "/events":
        return problems
    metadata = (entry["body"] or {}).get("metadata") or {}
    return [
        problem
        for problem in problems
        if not any(
            f": metadata/{key}:" in problem and documented_metadata_value(key, value)
            for key, value in metadata.items()
        )
    ]


@pytest.mark.slow
def test_every_request_body_we_send_matches_the_2_14_contract(
    make_loop, spec: dict[str, Any]
) -> None:
    loop: Loop = make_loop(setup=False)
    loop.cli("intercom-setup")
    loop.connect_webhooks()
    # Churn preventer and SEPA return, then the invoice paid (tag removed, VIP note).
    loop.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoHealthy"})
    loop.wait_for(lambda: loop.events("contact_healthy", "stripe-payment-failed"))
    loop.stripe.control("POST", "/_sandbox/demo/fail_payment", {"customer": "cus_DemoSepa"})
    loop.wait_for(lambda: loop.events("contact_sepa", "stripe-sepa-debit-returned"))
    invoice = loop.stripe_api("/v1/invoices", {"customer": "cus_DemoHealthy", "status": "open"})
    loop.stripe_post(f"/v1/invoices/{invoice['data'][0]['id']}/pay", {})
    loop.wait_for(lambda: loop.notes("contact_healthy"))
    # Usage alert, trial warning, escalation (sweep), a contact found by search.
    loop.stripe.control(
        "POST",
        "/_sandbox/billing_alerts/trigger",
        {"customer": "cus_DemoUsage", "meter": "mtr_ApiCalls", "value": 9000},
    )
    loop.wait_for(lambda: loop.events("contact_usage", "stripe-usage-threshold"))
    loop.cli("sweep", escalation_delay_hours=24)
    nobody = loop.stripe_post("/v1/customers", {"email": "nobody@example.com"})
    loop.deliver(loop.event("customer.updated", nobody))

    log = loop.requests()
    sent = {(entry["method"], entry["path"].split("/")[1]) for entry in log}
    assert {("POST", "data_attributes"), ("PUT", "contacts"), ("POST", "events")} <= sent
    assert {("POST", "tags"), ("DELETE", "contacts"), ("POST", "contacts")} <= sent
    problems = {
        f"{entry['method']} {entry['path']}": found
        for entry in log
        if (found := contract_problems(entry, spec))
    }
    assert problems == {}
    events = [entry["body"] for entry in log if entry["path"] == "/events"]
    assert all(len(body["metadata"]) <= 10 for body in events)
    strings = [
        (body["event_name"], key, value)
        for body in events
        for key, value in body["metadata"].items()
        if isinstance(value, str)
    ]
    assert [s for s in strings if NUMBER_OR_DATE.fullmatch(s[2]) or s[1].endswith("_date")] == []
    by_name = {body["event_name"]: body["metadata"] for body in events}
    failed = by_name["stripe-payment-failed"]
    assert isinstance(failed["attempt"], int) and failed["attempt"] >= 1
    assert isinstance(failed["next_payment_attempt_date"], int)
    usage = by_name["stripe-usage-threshold"]
    assert (usage["used"], usage["limit"], usage["percent"]) == (9000, 10000, 90)
    assert isinstance(usage["period_end_date"], int)
