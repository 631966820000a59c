"""Effects of the automations that must happen once (a note, a VIP flag, an escalation), keyed by
what they are about (`automation_marks`).

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
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.database import Database, as_utc
from storage.tables import automation_marks

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
                (sqlite if self.db.is_sqlite else postgresql)
                .insert(automation_marks)
                .on_conflict_do_nothing()
                .values(key=key, created_at=now, detail=detail)
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


def _mark(row: Any) -> Mark:
    try:
        detail = json.loads(row.detail or "{}")
    except json.JSONDecodeError:
        detail = {}
    state = detail.get("state", "done")
    claimed_at = as_utc(row.created_at)
    created_at = int(detail.get("created_at") or claimed_at.timestamp())
    return Mark(
        row.key, state, created_at, claimed_at=claimed_at, released=bool(detail.get("released"))
    )
