"""Every Stripe webhook event once by id, with what became of it (`webhook_events`).

The ledger is an audit trail an operator can read (type, received, handled, outcome, error) and
the de-duplication: an event is handled until it succeeds, then never again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.database import Database, as_utc
from storage.tables import webhook_events

MAX_ERROR_LENGTH = 500


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    event_id: str
    type: str
    customer_id: str | None
    received_at: datetime
    handled_at: datetime | None
    attempts: int
    outcome: str | None
    error: str | None

    @property
    def handled(self) -> bool:
        return self.handled_at is not None


class EventLedger:
    """`webhook_events`: one row per Stripe event id."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def receive(
        self, event_id: str, event_type: str, customer_id: str | None, *, now: datetime
    ) -> LedgerEntry:
        """Record a delivery (the first one inserts the row) and return the row as it is now."""
        # INSERT ... ON CONFLICT DO NOTHING: concurrent deliveries of one event race safely.
        dialect = sqlite if self.db.is_sqlite else postgresql
        async with self.db.transaction() as conn:
            await conn.execute(
                dialect.insert(webhook_events)
                .on_conflict_do_nothing()
                .values(
                    event_id=event_id,
                    type=event_type,
                    customer_id=customer_id,
                    received_at=now,
                    attempts=0,
                )
            )
            await conn.execute(
                webhook_events.update()
                .where(webhook_events.c.event_id == event_id)
                .values(attempts=webhook_events.c.attempts + 1)
            )
            row = (
                await conn.execute(
                    sa.select(webhook_events).where(webhook_events.c.event_id == event_id)
                )
            ).one()
        return _entry(row)

    async def finish(self, event_id: str, outcome: str, *, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                webhook_events.update()
                .where(webhook_events.c.event_id == event_id)
                .values(handled_at=now, outcome=outcome, error=None)
            )

    async def fail(self, event_id: str, error: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                webhook_events.update()
                .where(webhook_events.c.event_id == event_id)
                .values(outcome="failed", error=error[:MAX_ERROR_LENGTH])
            )

    async def get(self, event_id: str) -> LedgerEntry | None:
        async with self.db.transaction() as conn:
            row = (
                await conn.execute(
                    sa.select(webhook_events).where(webhook_events.c.event_id == event_id)
                )
            ).one_or_none()
        return _entry(row) if row is not None else None

    async def oldest_unhandled(self) -> datetime | None:
        """When the oldest event still waiting to be handled arrived (None: no backlog)."""
        query = sa.select(sa.func.min(webhook_events.c.received_at)).where(
            webhook_events.c.handled_at.is_(None)
        )
        async with self.db.transaction() as conn:
            value = (await conn.execute(query)).scalar()
        return as_utc(value) if value is not None else None


def _entry(row: sa.Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        event_id=row.event_id,
        type=row.type,
        customer_id=row.customer_id,
        received_at=as_utc(row.received_at),
        handled_at=as_utc(row.handled_at) if row.handled_at else None,
        attempts=row.attempts,
        outcome=row.outcome,
        error=row.error,
    )
