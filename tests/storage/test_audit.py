"""The audit trail: every attempt is written before Stripe is called and finished after; the
per-customer limit is one atomic check, even for concurrent attempts; an attempt and its claim
end together."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage import Database
from storage.actions import ActionStore, Actor, Attempt


def refund_attempt(customer: str = "cus_1", token: str = "tok_1", **changes: Any) -> Attempt:
    attempt = Attempt(
        actor=Actor("fin", None, "conv_1"),
        action="refund",
        customer_id=customer,
        object_id="ch_1",
        amount=1000,
        currency="eur",
        reason="charged twice",
        token_id=token,
    )
    return replace(attempt, **changes)


async def test_an_attempt_is_pending_until_finished_with_stripes_id(database: Database) -> None:
    audit = ActionStore(database)

    slot = await audit.begin(refund_attempt())
    [pending] = await audit.entries()
    await audit.finish(slot.entry_id, "succeeded", stripe_id="re_123")
    [done] = await audit.entries()

    assert pending.outcome == "pending" and pending.finished_at is None
    assert done.outcome == "succeeded" and done.stripe_id == "re_123"
    assert (done.actor_type, done.conversation_id, done.customer_id, done.object_id) == (
        "fin",
        "conv_1",
        "cus_1",
        "ch_1",
    )
    assert (done.amount, done.currency, done.reason) == (1000, "eur", "charged twice")
    assert done.created_at.tzinfo is not None and done.finished_at is not None


async def test_an_amount_is_recorded_with_its_currency_or_not_at_all(database: Database) -> None:
    audit = ActionStore(database)
    with pytest.raises(ValueError, match="amount and currency go together"):
        refund_attempt(currency=None)
    with pytest.raises(ValueError, match="amount and currency go together"):
        refund_attempt(amount=None)

    await audit.begin(refund_attempt(amount=None, currency=None, action="subscription_update"))
    [entry] = await audit.entries()

    assert (entry.amount, entry.currency) == (None, None)


async def test_entries_are_listed_newest_first_and_filter_by_customer(database: Database) -> None:
    audit = ActionStore(database)
    start = datetime.now(UTC) - timedelta(hours=1)
    for n, customer in enumerate(["cus_a", "cus_b", "cus_a"]):
        await audit.begin(
            refund_attempt(customer, token=f"tok_{n}"), now=start + timedelta(minutes=n)
        )

    everyone = await audit.entries()
    only_a = await audit.entries(customer_id="cus_a")
    newest = await audit.entries(limit=1)

    assert [e.token_id for e in everyone] == ["tok_2", "tok_1", "tok_0"]
    assert [e.token_id for e in only_a] == ["tok_2", "tok_0"]
    assert [e.token_id for e in newest] == ["tok_2"]


async def test_the_limit_refuses_the_attempt_that_would_exceed_it_and_records_it(
    database: Database,
) -> None:
    audit = ActionStore(database)
    since = datetime.now(UTC) - timedelta(days=30)

    first = await audit.begin(refund_attempt(token="tok_a"), at_most=1, since=since)
    second = await audit.begin(refund_attempt(token="tok_b"), at_most=1, since=since)

    assert first.allowed and not second.allowed
    refused = (await audit.entries())[0]
    assert refused.token_id == "tok_b"
    assert (refused.outcome, refused.error_code) == ("refused", "refund_limit_reached")


async def test_concurrent_attempts_never_exceed_the_limit(database: Database) -> None:
    audit = ActionStore(database)
    since = datetime.now(UTC) - timedelta(days=30)

    slots = await asyncio.gather(
        *(audit.begin(refund_attempt(token=f"tok_{n}"), at_most=2, since=since) for n in range(10))
    )

    assert sum(slot.allowed for slot in slots) == 2


async def test_the_count_ignores_refused_attempts_other_actors_old_ones_and_other_customers(
    database: Database,
) -> None:
    audit = ActionStore(database)
    now = datetime.now(UTC)
    refused = await audit.begin(refund_attempt(token="tok_refused"))
    await audit.finish(refused.entry_id, "refused", error_code="refunded_already")
    await audit.begin(refund_attempt(token="tok_admin", actor=Actor("admin", "admin_1")))
    await audit.begin(refund_attempt(token="tok_old"), now=now - timedelta(days=40))
    await audit.begin(refund_attempt(customer="cus_other", token="tok_other"))
    counted = await audit.begin(refund_attempt(token="tok_counted"))
    await audit.finish(counted.entry_id, "succeeded", stripe_id="re_1")

    recent = await audit.count_recent(
        "cus_1", actor_type="fin", action="refund", since=now - timedelta(days=30)
    )

    assert recent == 1


async def test_a_retried_token_counts_once_and_an_unknown_outcome_counts(
    database: Database,
) -> None:
    audit = ActionStore(database)
    timed_out = await audit.begin(refund_attempt(token="tok_retried"))
    await audit.finish(timed_out.entry_id, "failed", error_code="stripe_unavailable")
    retried = await audit.begin(refund_attempt(token="tok_retried"))
    await audit.finish(retried.entry_id, "succeeded", stripe_id="re_1")
    unknown = await audit.begin(refund_attempt(token="tok_unknown"))
    await audit.finish(unknown.entry_id, "failed", error_code="stripe_unavailable")

    recent = await audit.count_recent(
        "cus_1", actor_type="fin", action="refund", since=datetime.now(UTC) - timedelta(days=1)
    )

    assert recent == 2


def retry_attempt(token: str | None = None) -> Attempt:
    return Attempt(
        actor=Actor("customer", "contact_1"),
        action="invoice_retry",
        customer_id="cus_1",
        object_id="in_1",
        amount=2900,
        currency="eur",
        token_id=token,
    )


async def test_the_last_attempt_is_the_last_that_reached_the_bank(database: Database) -> None:
    store = ActionStore(database)
    start = datetime.now(UTC) - timedelta(hours=1)
    declined = await store.begin(retry_attempt(), now=start)
    await store.finish(declined.entry_id, "failed", error_code="insufficient_funds")
    unreachable = await store.begin(
        retry_attempt("retry:in_1:ch_1"), now=start + timedelta(minutes=5)
    )
    await store.finish(unreachable.entry_id, "failed", error_code="stripe_unavailable")
    await store.record(retry_attempt(), "refused", now=start + timedelta(minutes=10))

    history = await store.history(action="invoice_retry", object_id="in_1", key="retry:in_1:ch_1")

    assert history.last_attempt_at == start
    assert history.unreachable == (("retry:in_1:ch_1", start + timedelta(minutes=5)),)


async def test_settling_completes_the_claim_and_finishes_the_attempt_in_one_step(
    database: Database,
) -> None:
    store = ActionStore(database)
    await store.claim("retry:in_1:ch_1", "invoice_retry")
    slot = await store.begin(retry_attempt("retry:in_1:ch_1"))

    await store.settle(
        "retry:in_1:ch_1", slot.entry_id, "succeeded", result={"kind": "paid"}, stripe_id="in_1"
    )

    claim = await store.get("retry:in_1:ch_1")
    [entry] = await store.entries()
    assert claim is not None and (claim.status, claim.result) == ("done", {"kind": "paid"})
    assert (entry.outcome, entry.stripe_id) == ("succeeded", "in_1")


async def test_settling_without_a_result_gives_the_key_back(database: Database) -> None:
    store = ActionStore(database)
    await store.claim("switch:q_1", "subscription_update")
    slot = await store.begin(retry_attempt("switch:q_1"))

    await store.settle(
        "switch:q_1", slot.entry_id, "failed", result=None, error_code="stripe_unavailable"
    )

    [entry] = await store.entries()
    assert await store.get("switch:q_1") is None
    assert (entry.outcome, entry.error_code) == ("failed", "stripe_unavailable")


async def test_releasing_with_a_refusal_records_it_and_frees_the_key(database: Database) -> None:
    store = ActionStore(database)
    await store.claim("retry:in_1:ch_1", "invoice_retry")

    await store.release("retry:in_1:ch_1", refused=replace(retry_attempt(), reason="cool-down"))

    [entry] = await store.entries()
    assert await store.get("retry:in_1:ch_1") is None
    assert (entry.outcome, entry.reason) == ("refused", "cool-down")
    assert entry.finished_at is not None
