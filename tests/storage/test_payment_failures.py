"""`payment_failures` on SQLite and PostgreSQL: one row per invoice, redeliveries counted once,
later failures counted up, an end recorded once, and the report's whole history on both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reporting.report import build_report
from sandbox.report_history import seed_report_history
from storage import Database
from storage.payment_failures import FailedPayment, failures_since, record_end, record_failure

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def failure(at: datetime, code: str = "insufficient_funds") -> FailedPayment:
    return FailedPayment("in_1", "cus_1", 2900, "EUR", "sepa_debit", code, None, at)


async def test_a_failure_is_recorded_once_per_event_and_counted_up_per_new_one(
    database: Database,
) -> None:
    await record_failure(database, failure(T0), event_id="evt_1")
    await record_failure(database, failure(T0), event_id="evt_1")  # redelivered
    later = T0 + timedelta(days=5)
    await record_failure(database, failure(later, "account_closed"), event_id="evt_2")

    [row] = await failures_since(database)
    assert (row.invoice_id, row.amount, row.currency) == ("in_1", 2900, "eur")
    assert (row.first_failed_at, row.last_failed_at, row.failures) == (T0, later, 2)
    assert row.failure_code == "account_closed"  # the latest reason wins
    assert row.resolution is None


async def test_an_end_is_recorded_once_and_only_for_invoices_that_failed(
    database: Database,
) -> None:
    await record_failure(database, failure(T0), event_id="evt_1")
    paid_at = T0 + timedelta(days=1)

    assert await record_end(database, "in_1", "paid", at=paid_at, amount_paid=2900) is True
    assert await record_end(database, "in_1", "voided", at=paid_at + timedelta(days=1)) is False
    assert await record_end(database, "in_never_failed", "paid", at=paid_at) is False
    # A failure older than the payment (delivered late) doesn't reopen the invoice.
    await record_failure(database, failure(T0 + timedelta(hours=1)), event_id="evt_late")

    [row] = await failures_since(database)
    assert (row.resolution, row.resolved_at, row.amount_paid, row.failures) == (
        "paid",
        paid_at,
        2900,
        1,
    )
    assert await failures_since(database, since=T0 + timedelta(seconds=1)) == []


async def test_the_seeded_history_reports_the_same_on_both_databases(database: Database) -> None:
    now = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    await seed_report_history(database, now)

    report = await build_report(database, since=datetime(2026, 10, 1, tzinfo=UTC), now=now)

    assert (report.failed.count, report.recovered.count) == (8, 5)
    assert report.recovered.amounts == {"eur": 22500}
    assert report.median_hours_to_recover == 72.0
    assert report.channels["stripe_retry"].count == 2
