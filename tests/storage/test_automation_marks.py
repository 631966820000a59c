"""Once-only effects (notes, once-per-trial events) under concurrent attempts: a pending mark
held by a running attempt is left alone; a failed attempt releases it for the next one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Database
from storage.automation_marks import LEASE_SECONDS, OnceMarks


async def test_a_second_attempt_while_the_first_holds_the_mark_is_told_to_wait(
    database: Database,
) -> None:
    once = OnceMarks(database)
    now = datetime.now(UTC)
    first = await once.claim("vip/cus_1", 1000, now=now)
    second = await once.claim("vip/cus_1", 1000, now=now)
    assert first.is_new and not first.in_flight(now)
    assert second.in_flight(now + timedelta(seconds=1))


async def test_a_failed_attempt_releases_the_mark_for_the_next(database: Database) -> None:
    once = OnceMarks(database)
    now = datetime.now(UTC)
    await once.claim("vip/cus_1", 1000, now=now)
    await once.release("vip/cus_1", 1000)
    retry = await once.claim("vip/cus_1", 1000, now=now)
    assert retry.state == "pending" and not retry.in_flight(now)
    assert retry.created_at == 1000  # the retry reuses the first attempt's time


async def test_an_attempt_that_died_without_releasing_expires_after_the_lease(
    database: Database,
) -> None:
    once = OnceMarks(database)
    now = datetime.now(UTC)
    await once.claim("vip/cus_1", 1000, now=now)
    later = await once.claim("vip/cus_1", 1000, now=now)
    assert not later.in_flight(now + timedelta(seconds=LEASE_SECONDS + 1))
