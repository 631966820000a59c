"""What the automations remember: every Stripe event once by id (`webhook_events`), and the
effects that must happen once (`automation_marks`: notes, once-only events).

The event ledger is an audit trail an operator can read (type, received, handled, outcome,
error) and the de-duplication: an event is handled until it succeeds, then never again.

A mark is claimed *before* its effect and finished *after* it (`pending` → `done`), so a crash
or an Intercom failure in between leaves a `pending` mark that the next attempt finishes: nothing
is lost (at least once). The next attempt first checks Intercom for the note's reference, so the
only way to write a note twice is Intercom losing its own answer between accepting the note and
listing it. A once-only event keeps the `created_at` of its first attempt in the mark, so a
repeat is one Intercom de-duplicates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage import Database
from storage.tables import automation_marks, webhook_events

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


LEASE_SECONDS = 60  # a pending mark younger than this, not released, is being worked on


@dataclass(frozen=True, slots=True)
class Mark:
    key: str
    state: str  # "pending" | "done"
    created_at: int  # the effect's own time (an event's `created_at`), kept for retries
    is_new: bool = False  # claimed by this call
    claimed_at: datetime | None = None
    released: bool = False  # the attempt that claimed it failed: no one is working on it

    def in_flight(self, now: datetime) -> bool:
        """Another attempt holds this pending mark right now (concurrent delivery or sweep)."""
        if self.is_new or self.state != "pending" or self.released or self.claimed_at is None:
            return False
        return (now - self.claimed_at).total_seconds() < LEASE_SECONDS


class EventLedger:
    """`webhook_events`: one row per Stripe event id."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def receive(
        self, event_id: str, event_type: str, customer_id: str | None, *, now: datetime
    ) -> LedgerEntry:
        """Record a delivery (the first one inserts the row) and return the row as it is now."""
        async with self.db.transaction() as conn:
            await conn.execute(
                _insert_ignoring_duplicates(self.db).values(
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


class OnceMarks:
    """`automation_marks`: effects that must happen once, keyed by what they are about."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> Mark | None:
        async with self.db.transaction() as conn:
            row = (
                await conn.execute(sa.select(automation_marks).where(automation_marks.c.key == key))
            ).one_or_none()
        return _mark(row) if row is not None else None

    async def claim(self, key: str, created_at: int, *, now: datetime) -> Mark:
        """The mark for `key`: inserted as pending by this call, or whatever is there."""
        detail = json.dumps({"state": "pending", "created_at": created_at})
        async with self.db.transaction() as conn:
            inserted = await conn.execute(
                _insert_ignoring_duplicates(self.db, automation_marks).values(
                    key=key, created_at=now, detail=detail
                )
            )
            row = (
                await conn.execute(sa.select(automation_marks).where(automation_marks.c.key == key))
            ).one()
        mark = _mark(row)
        if inserted.rowcount == 1:
            return Mark(
                mark.key, mark.state, mark.created_at, is_new=True, claimed_at=mark.claimed_at
            )
        return mark

    async def release(self, key: str, created_at: int) -> None:
        """The claiming attempt failed: leave the mark pending, but free for the next attempt."""
        detail = json.dumps({"state": "pending", "created_at": created_at, "released": True})
        async with self.db.transaction() as conn:
            await conn.execute(
                automation_marks.update().where(automation_marks.c.key == key).values(detail=detail)
            )

    async def done(self, key: str, created_at: int, contact_id: str) -> None:
        detail = json.dumps({"state": "done", "created_at": created_at, "contact": contact_id})
        async with self.db.transaction() as conn:
            await conn.execute(
                automation_marks.update().where(automation_marks.c.key == key).values(detail=detail)
            )


def _insert_ignoring_duplicates(db: Database, table: sa.Table = webhook_events) -> Any:
    # INSERT ... ON CONFLICT DO NOTHING: concurrent deliveries of one event race safely.
    dialect = sqlite if db.is_sqlite else postgresql
    return dialect.insert(table).on_conflict_do_nothing()


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        event_id=row.event_id,
        type=row.type,
        customer_id=row.customer_id,
        received_at=_aware(row.received_at),
        handled_at=_aware(row.handled_at) if row.handled_at else None,
        attempts=row.attempts,
        outcome=row.outcome,
        error=row.error,
    )


def _mark(row: Any) -> Mark:
    try:
        detail = json.loads(row.detail or "{}")
    except json.JSONDecodeError:
        detail = {}
    state = detail.get("state", "done")
    claimed_at = _aware(row.created_at)
    created_at = int(detail.get("created_at") or claimed_at.timestamp())
    return Mark(
        row.key, state, created_at, claimed_at=claimed_at, released=bool(detail.get("released"))
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
