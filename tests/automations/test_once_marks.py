"""Once-only effects (notes, once-per-trial events) under concurrent attempts: a pending mark
held by a running attempt is left alone; a failed attempt releases it for the next one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from automations.ledger import LEASE_SECONDS, OnceMarks
from storage import Database


async def marks(tmp_path) -> tuple[Database, OnceMarks]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'marks.sqlite3'}")
    await db.start()
    return db, OnceMarks(db)


async def test_a_second_attempt_while_the_first_holds_the_mark_is_told_to_wait(tmp_path):
    db, once = await marks(tmp_path)
    now = datetime.now(UTC)
    first = await once.claim("vip/cus_1", 1000, now=now)
    second = await once.claim("vip/cus_1", 1000, now=now)
    assert first.is_new and not first.in_flight(now)
    assert second.in_flight(now + timedelta(seconds=1))
    await db.stop()


async def test_a_failed_attempt_releases_the_mark_for_the_next(tmp_path):
    db, once = await marks(tmp_path)
    now = datetime.now(UTC)
    await once.claim("vip/cus_1", 1000, now=now)
    await once.release("vip/cus_1", 1000)
    retry = await once.claim("vip/cus_1", 1000, now=now)
    assert retry.state == "pending" and not retry.in_flight(now)
    assert retry.created_at == 1000  # the retry reuses the first attempt's time
    await db.stop()


async def test_an_attempt_that_died_without_releasing_expires_after_the_lease(tmp_path):
    db, once = await marks(tmp_path)
    now = datetime.now(UTC)
    await once.claim("vip/cus_1", 1000, now=now)
    later = await once.claim("vip/cus_1", 1000, now=now)
    assert not later.in_flight(now + timedelta(seconds=LEASE_SECONDS + 1))
    await db.stop()
