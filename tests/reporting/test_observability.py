"""What the monitoring stack sees: `/metrics` after a known sequence of requests, JSON log lines
with the request id, and `/readyz`; plus the payment facts a webhook records for the report."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import stripe
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import create_async_engine

from kernel.logs import JsonFormatter, RequestContextFilter
from storage import Database
from storage.actions import ActionStore, Actor, Attempt
from storage.webhook_events import EventLedger
from tests.automations.conftest import Loop
from tests.conftest import FIN_TOKEN, AppClient
from tests.storage.postgres import SERVER_URL

ADMIN_TOKEN = "admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


def in_app_db(app: AppClient, work: Callable[[Database], Awaitable[object]]) -> None:
    async def run() -> None:
        db = Database(app.settings.database_url)
        await db.start()
        try:
            await work(db)
        finally:
            await db.stop()

    asyncio.run(run())


def sepa_invoice(loop: Loop) -> dict:
    return loop.stripe_api("/v1/invoices", {"customer": "cus_DemoSepa", "status": "open"})["data"][
        0
    ]


def test_metrics_after_a_known_sequence_of_requests(make_loop: Callable[..., Loop]) -> None:
    loop = make_loop(admin_tokens=ADMIN_TOKEN)
    http = loop.app.http
    assert http.get("/metrics").status_code == 401
    assert http.get("/metrics", headers={"Authorization": f"Bearer {FIN_TOKEN}"}).status_code == 401

    for _ in range(2):
        assert http.get("/healthz").status_code == 200
    link_token = "secret-link-token-" + secrets.token_hex(8)
    link_status = http.get(f"/l/{link_token}").status_code
    http.get("/no/such/page")
    assert http.post("/healthz").status_code == 405
    failure_event = loop.event("invoice.payment_failed", sepa_invoice(loop))
    assert loop.deliver(failure_event).status_code == 200
    assert loop.deliver(failure_event).json()["status"] == "duplicate"
    assert loop.deliver(loop.event("invoice.created", sepa_invoice(loop))).status_code == 200
    for _ in range(2):  # the second one finds the customer in the cache
        answer = loop.app.fin("/fin/billing-status", {"stripe_id": "cus_DemoHealthy"})
        assert answer.status_code == 200

    async def backlog_and_audit(db: Database) -> None:
        ledger = EventLedger(db)
        await ledger.receive(
            "evt_stuck", "invoice.paid", "cus_x", now=datetime.now(UTC) - timedelta(seconds=120)
        )
        audit = ActionStore(db)
        slot = await audit.begin(Attempt(Actor("fin"), "refund", "cus_x", "ch_x", 500, "eur"))
        await audit.finish(slot.entry_id, "succeeded", stripe_id="re_x")

    in_app_db(loop.app, backlog_and_audit)
    response = http.get("/metrics", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert link_token not in response.text and "/no/such/page" not in response.text
    m = samples(response.text)

    requests = "canvas_http_requests_total"
    assert value(m, requests, method="GET", route="/healthz", status="200") == 2
    assert value(m, requests, method="GET", route="/l/{token}", status=str(link_status)) == 1
    assert value(m, requests, method="GET", route="unmatched", status="404") == 1
    assert value(m, requests, method="POST", route="/healthz", status="405") == 1
    assert value(m, requests, method="POST", route="/webhooks/stripe", status="200") == 3
    assert value(m, requests, method="POST", route="/fin/billing-status", status="200") == 2
    assert (
        value(m, "canvas_http_request_duration_seconds_count", method="GET", route="/healthz") == 2
    )

    webhooks = "canvas_webhook_events_total"
    assert value(m, webhooks, type="invoice.payment_failed", outcome="handled") == 1
    assert value(m, webhooks, type="invoice.payment_failed", outcome="duplicate") == 1
    assert value(m, webhooks, type="invoice.created", outcome="ignored") == 1
    assert 120 <= value(m, "canvas_webhook_oldest_unhandled_age_seconds") < 600

    stripe_calls = "canvas_stripe_requests_total"
    assert value(m, stripe_calls, operation="InvoicePayment.list", status="ok") >= 1
    assert value(m, stripe_calls, operation="Customer.retrieve", status="ok") >= 1
    assert (
        value(m, "canvas_stripe_request_duration_seconds_count", operation="Customer.retrieve") >= 1
    )
    assert all("cus_" not in key[0] and all("cus_" not in v for _, v in key[1]) for key in m)

    assert value(m, "canvas_cache_lookups_total", cache="resolution", result="miss") >= 1
    assert value(m, "canvas_cache_lookups_total", cache="resolution", result="hit") >= 1
    intercom_writes = [
        v
        for (name, labels), v in m.items()
        if name == "canvas_intercom_requests_total" and ("kind", "write") in labels
    ]
    assert sum(intercom_writes) >= 1  # the churn preventer tagged the contact
    assert value(m, "canvas_money_actions", action="refund", outcome="succeeded") == 1


def test_webhooks_record_the_failed_payment_and_its_end_for_the_report(loop: Loop) -> None:
    invoice = sepa_invoice(loop)
    assert loop.deliver(loop.event("invoice.payment_failed", invoice)).status_code == 200
    row = failure_row(loop, invoice["id"])
    assert row["customer_id"] == "cus_DemoSepa" and row["currency"] == "eur"
    assert row["amount"] == invoice["amount_remaining"] > 0
    assert (row["method_type"], row["failure_code"]) == ("sepa_debit", "insufficient_funds")
    assert row["failures"] == 1 and row["resolution"] is None

    redelivered = loop.event("invoice.payment_failed", invoice)
    loop.deliver(redelivered)
    loop.deliver(redelivered)  # a duplicate of a handled event changes nothing
    assert failure_row(loop, invoice["id"])["failures"] == 2

    paid = {**invoice, "status": "paid", "amount_paid": invoice["amount_remaining"]}
    assert loop.deliver(loop.event("invoice.paid", paid)).status_code == 200
    row = failure_row(loop, invoice["id"])
    assert row["resolution"] == "paid" and row["amount_paid"] == invoice["amount_remaining"]


def test_an_invoice_that_never_failed_is_not_followed(loop: Loop) -> None:
    invoice = loop.stripe_api("/v1/invoices", {"customer": "cus_DemoHealthy"})["data"][0]
    assert loop.deliver(loop.event("invoice.paid", invoice)).status_code == 200
    assert maybe_failure_row(loop, invoice["id"]) is None


def failure_row(loop: Loop, invoice_id: str) -> dict:
    row = maybe_failure_row(loop, invoice_id)
    assert row is not None, f"no payment_failures row for {invoice_id}"
    return row


def maybe_failure_row(loop: Loop, invoice_id: str) -> dict | None:
    path = loop.app.settings.database_url.split(":///", 1)[1]
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute(
            "SELECT * FROM payment_failures WHERE invoice_id = ?", (invoice_id,)
        ).fetchone()
    return dict(row) if row is not None else None


def request_log_line(out: io.StringIO, request_id: str) -> dict[str, Any]:
    """The request's summary line. It is written once the response has gone out, so the client
    may read the response a moment before the server thread logs it: wait briefly."""
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        found = [
            line
            for line in lines
            if line["logger"] == "canvas_app.request" and line["request_id"] == request_id
        ]
        if found or time.monotonic() > deadline:
            assert found, f"no request line for {request_id}"
            return found[0]
        time.sleep(0.02)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Log lines as LOG_FORMAT=json prints them (our formatter and filter on a root handler)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def test_json_logs_carry_the_request_id_route_status_and_customer(
    loop: Loop, json_log: io.StringIO
) -> None:
    event = loop.event("invoice.payment_failed", sepa_invoice(loop))
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, "whsec_test_secret")
    response = loop.app.http.post(
        "/webhooks/stripe",
        content=payload.encode(),
        headers={"Stripe-Signature": header, "X-Request-Id": "req-from-proxy-42"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-from-proxy-42"

    request_line = request_log_line(json_log, "req-from-proxy-42")
    lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    ours = [line for line in lines if line["request_id"] == "req-from-proxy-42"]
    assert request_line["route"] == "/webhooks/stripe" and request_line["status"] == 200
    assert request_line["customer_id"] == "cus_DemoSepa" and request_line["duration_ms"] > 0
    assert any(line["logger"] == "automations.webhooks" for line in ours)
    assert not [line for line in ours if "@" in json.dumps(line)]  # ids only, never an email


def test_a_missing_or_implausible_request_id_is_replaced(app_client: AppClient) -> None:
    fresh = app_client.http.get("/healthz").headers["x-request-id"]
    replaced = app_client.http.get("/healthz", headers={"X-Request-Id": "no spaces <allowed>"})
    assert len(fresh) == 32 and fresh != replaced.headers["x-request-id"]
    assert replaced.headers["x-request-id"] != "no spaces <allowed>"


def test_readyz_is_ok_while_the_database_answers(app_client: AppClient) -> None:
    response = app_client.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"settings": "ok", "database": "ok"}}


def test_readyz_is_503_when_the_database_is_gone(start_app: Callable[..., AppClient]) -> None:
    name = f"ready_test_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    app = start_app(database_url=SERVER_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        assert app.http.get("/readyz").status_code == 200
        asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
        response = app.http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "unreachable"
        assert app.http.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(statement: str) -> None:
    engine = create_async_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


def test_a_fin_request_logs_the_customer_it_was_about(
    app_client: AppClient, json_log: io.StringIO
) -> None:
    response = app_client.fin("/fin/billing-status", {"stripe_id": "cus_DemoHealthy"})
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]

    request_line = request_log_line(json_log, request_id)
    assert request_line["route"] == "/fin/billing-status" and request_line["status"] == 200
    assert request_line["customer_id"] == "cus_DemoHealthy"
