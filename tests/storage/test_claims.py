"""Single-use claims (confirmation tokens, retry keys): one owner per key, whatever the races;
the first result is kept; a failed execution may be retried, a finished one never runs again;
a released key is free again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage import Database
from storage.actions import ActionStore, Claim

LEASE = timedelta(minutes=2)
RETRY = timedelta(hours=23)


async def claim(tokens: ActionStore, token_id: str, *, now: datetime | None = None) -> Claim:
    return await tokens.claim(
        token_id, "fin-refund", lease=LEASE, retry_failed_within=RETRY, now=now
    )


async def test_the_first_claim_owns_the_token_and_a_second_does_not(database: Database) -> None:
    tokens = ActionStore(database)

    first = await claim(tokens, "tok_1")
    second = await claim(tokens, "tok_1")

    assert first.owned and not first.retry
    assert not second.owned
    record = await tokens.get("tok_1")
    assert record is not None and record.status == "executing" and not record.settled


async def test_twenty_concurrent_claims_of_one_token_have_exactly_one_owner(
    database: Database,
) -> None:
    tokens = ActionStore(database)

    claims = await asyncio.gather(*(claim(tokens, "tok_race") for _ in range(20)))

    assert sum(c.owned for c in claims) == 1


async def test_a_finished_token_keeps_its_first_result_and_cannot_be_claimed_again(
    database: Database,
) -> None:
    tokens = ActionStore(database)
    await claim(tokens, "tok_done")
    await tokens.complete("tok_done", {"outcome": "refunded", "refund_id": "re_1"})

    again = await claim(tokens, "tok_done")
    record = await tokens.get("tok_done")

    assert not again.owned
    assert record is not None and record.settled
    assert record.result == {"outcome": "refunded", "refund_id": "re_1"}
    assert record.finished_at is not None and record.finished_at.tzinfo is not None


async def test_a_failed_execution_can_be_retried_once_and_is_marked_as_a_retry(
    database: Database,
) -> None:
    tokens = ActionStore(database)
    await claim(tokens, "tok_failed")
    await tokens.fail("tok_failed", {"outcome": "unknown"})

    retry = await claim(tokens, "tok_failed")
    concurrent_retry = await claim(tokens, "tok_failed")

    assert retry.owned and retry.retry
    assert not concurrent_retry.owned


async def test_a_failed_execution_is_not_retried_after_stripe_forgot_the_idempotency_key(
    database: Database,
) -> None:
    tokens = ActionStore(database)
    yesterday = datetime.now(UTC) - timedelta(hours=25)
    await claim(tokens, "tok_old", now=yesterday)
    await tokens.fail("tok_old", {"outcome": "unknown"}, now=yesterday)

    assert not (await claim(tokens, "tok_old")).owned


async def test_an_execution_that_outlived_its_lease_is_taken_over(database: Database) -> None:
    tokens = ActionStore(database)
    await claim(tokens, "tok_stale", now=datetime.now(UTC) - timedelta(minutes=5))

    takeover = await claim(tokens, "tok_stale")

    assert takeover.owned and takeover.retry


async def test_waiting_returns_once_the_owner_finished(database: Database) -> None:
    tokens = ActionStore(database)
    await claim(tokens, "tok_wait")

    async def owner_finishes_later() -> None:
        await asyncio.sleep(0.2)
        await tokens.complete("tok_wait", {"outcome": "refunded"})

    finisher = asyncio.create_task(owner_finishes_later())
    record = await tokens.wait_until_settled("tok_wait", within=5)
    await finisher

    assert record is not None and record.status == "done"


async def test_waiting_gives_up_after_its_time(database: Database) -> None:
    tokens = ActionStore(database)
    await claim(tokens, "tok_slow")

    record = await tokens.wait_until_settled("tok_slow", within=0.2)

    assert record is not None and not record.settled


async def test_a_released_key_is_free_for_the_next_attempt(database: Database) -> None:
    tokens = ActionStore(database)
    await claim(tokens, "retry:in_1:ch_1")

    await tokens.release("retry:in_1:ch_1")
    again = await claim(tokens, "retry:in_1:ch_1")

    assert again.owned and not again.retry


async def test_a_finished_key_tells_later_claims_what_it_recorded(database: Database) -> None:
    tokens = ActionStore(database)
    await claim(tokens, "switch:q_1")
    await tokens.complete("switch:q_1", {"kind": "switched"})

    later = await claim(tokens, "switch:q_1")

    assert not later.owned
    assert (later.status, later.result) == ("done", {"kind": "switched"})
