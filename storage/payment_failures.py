"""Failed invoice payments and how they ended, over the `payment_failures` table.

The webhooks write it (`invoice.payment_failed` → a failure; `invoice.paid`, `invoice.voided`,
`invoice.marked_uncollectible` → the end of a known failure); the recovery report reads it.
One row per invoice: later failures of the same invoice count up on it. Each write is safe to
repeat: a redelivered failure event is counted once, and an end is recorded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.tables import payment_failures

RESOLUTIONS = ("paid", "voided", "uncollectible")


@dataclass(frozen=True, slots=True)
class FailedPayment:
    """One failed attempt to collect an invoice, as Stripe reported it."""

    invoice_id: str
    customer_id: str | None
    amount: int
    currency: str
    method_type: str | None
    failure_code: str | None
    decline_code: str | None
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class FailureRecord:
    invoice_id: str
    customer_id: str | None
    amount: int
    currency: str
    method_type: str | None
    failure_code: str | None
    decline_code: str | None
    first_failed_at: datetime
    last_failed_at: datetime
    failures: int
    resolution: str | None
    resolved_at: datetime | None
    amount_paid: int | None


async def record_failure(db: Database, failure: FailedPayment, *, event_id: str) -> None:
    """A new failed invoice, or one more failure of a known one (the latest reason wins)."""
    values = {
        "customer_id": failure.customer_id,
        "amount": failure.amount,
        "currency": failure.currency.lower(),
        "method_type": failure.method_type,
        "failure_code": failure.failure_code,
        "decline_code": failure.decline_code,
    }
    try:
        async with db.transaction() as conn:
            await conn.execute(
                payment_failures.insert().values(
                    invoice_id=failure.invoice_id,
                    first_failed_at=failure.failed_at,
                    last_failed_at=failure.failed_at,
                    failures=1,
                    last_event_id=event_id,
                    **values,
                )
            )
        return
    except IntegrityError:
        pass
    table = payment_failures.c
    async with db.transaction() as conn:
        await conn.execute(
            payment_failures.update()
            .where(
                table.invoice_id == failure.invoice_id,
                # a redelivery of the event counted last, or a failure older than the invoice's
                # end (events arrive out of order), changes nothing
                sa.or_(table.last_event_id.is_(None), table.last_event_id != event_id),
                sa.or_(table.resolved_at.is_(None), table.resolved_at < failure.failed_at),
            )
            .values(
                failures=table.failures + 1,
                last_failed_at=sa.func.max(table.last_failed_at, failure.failed_at)
                if db.is_sqlite
                else sa.func.greatest(table.last_failed_at, failure.failed_at),
                last_event_id=event_id,
                resolution=None,
                resolved_at=None,
                amount_paid=None,
                **values,
            )
        )


async def record_end(
    db: Database,
    invoice_id: str,
    resolution: str,
    *,
    at: datetime,
    amount_paid: int | None = None,
) -> bool:
    """A failed invoice was paid, voided or marked uncollectible; False if it never failed (we
    only follow invoices we saw fail) or its end is known already."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}")
    table = payment_failures.c
    async with db.transaction() as conn:
        result = await conn.execute(
            payment_failures.update()
            .where(table.invoice_id == invoice_id, table.resolution.is_(None))
            .values(resolution=resolution, resolved_at=at, amount_paid=amount_paid)
        )
    return bool(result.rowcount)


async def failures_since(db: Database, since: datetime | None = None) -> list[FailureRecord]:
    """Invoices that first failed at or after `since`, oldest first."""
    query = sa.select(payment_failures).order_by(
        payment_failures.c.first_failed_at, payment_failures.c.invoice_id
    )
    if since is not None:
        query = query.where(payment_failures.c.first_failed_at >= since)
    async with db.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [
        FailureRecord(
            invoice_id=row.invoice_id,
            customer_id=row.customer_id,
            amount=row.amount,
            currency=row.currency,
            method_type=row.method_type,
            failure_code=row.failure_code,
            decline_code=row.decline_code,
            first_failed_at=_utc(row.first_failed_at),
            last_failed_at=_utc(row.last_failed_at),
            failures=row.failures,
            resolution=row.resolution,
            resolved_at=_utc(row.resolved_at) if row.resolved_at else None,
            amount_paid=row.amount_paid,
        )
        for row in rows
    ]


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
