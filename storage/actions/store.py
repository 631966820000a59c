"""The action store: claims on `used_tokens` and the audit trail on `audit_log`, one class over
both tables (see `storage.actions`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.actions.records import (
    Attempt,
    AuditEntry,
    Claim,
    ClaimStatus,
    History,
    Outcome,
    Slot,
)
from storage.database import Database, as_utc
from storage.tables import audit_log, used_tokens

# Attempts that moved money or may have (Stripe timed out after accepting the request).
MAY_HAVE_MOVED_MONEY = ("pending", "succeeded", "failed")
# A claim still executing after this long died with its process (the idempotency key that its
# Stripe call carried keeps the takeover safe).
LEASE = timedelta(minutes=2)
MAX_REASON = 500


class ActionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- claims ---
    async def claim(
        self,
        key: str,
        kind: str,
        *,
        lease: timedelta = LEASE,
        retry_failed_within: timedelta | None = None,
        now: datetime | None = None,
    ) -> Claim:
        """Take `key` for one execution: owned when it was never claimed (or was released);
        when its execution failed within `retry_failed_within` (while Stripe still keeps the
        idempotency key); or when an execution's `lease` ran out without finishing. Not owned
        while another execution holds it, or once it is done."""
        now = now or datetime.now(UTC)
        dialect = sqlite if self.db.is_sqlite else postgresql
        insert = (
            dialect.insert(used_tokens)
            .values(token_id=key, kind=kind, claimed_at=now, status="executing")
            .on_conflict_do_nothing(index_elements=[used_tokens.c.token_id])
            .returning(used_tokens.c.token_id)
        )
        takeable = sa.and_(
            used_tokens.c.status == "executing", used_tokens.c.claimed_at < now - lease
        )
        if retry_failed_within is not None:
            failed = sa.and_(
                used_tokens.c.status == "failed",
                used_tokens.c.claimed_at >= now - retry_failed_within,
            )
            takeable = sa.or_(takeable, failed)
        take_over = (
            sa.update(used_tokens)
            .where(used_tokens.c.token_id == key, used_tokens.c.kind == kind, takeable)
            .values(status="executing", claimed_at=now, finished_at=None)
            .returning(used_tokens.c.token_id)
        )
        for _ in range(3):  # a row released between our insert and our read: try again
            async with self.db.transaction() as conn:
                # On a conflict PostgreSQL waits for the other transaction to commit, so the
                # update below always sees the winner's row.
                if (await conn.execute(insert)).first() is not None:
                    return Claim(key, kind, "executing", now, owned=True)
                if (await conn.execute(take_over)).first() is not None:
                    return Claim(key, kind, "executing", now, owned=True, retry=True)
                held = await _claim_row(conn, key)
            if held is not None:
                return held
        # Released three times under us: someone is working on it right now. Say so rather than
        # fail; the caller answers "in progress" and a later try takes the key.
        return Claim(key, kind, "executing", now, owned=False)

    async def get(self, key: str) -> Claim | None:
        async with self.db.transaction() as conn:
            return await _claim_row(conn, key)

    async def complete(
        self, key: str, result: dict[str, Any], *, now: datetime | None = None
    ) -> None:
        """The holder is done: later callers get `result` instead of calling Stripe again."""
        async with self.db.transaction() as conn:
            await _end_claim(conn, key, "done", result, now)

    async def fail(self, key: str, result: dict[str, Any], *, now: datetime | None = None) -> None:
        """The holder could not tell whether Stripe acted: the claim may be taken again (see
        `claim`'s `retry_failed_within`)."""
        async with self.db.transaction() as conn:
            await _end_claim(conn, key, "failed", result, now)

    async def release(self, key: str, *, refused: Attempt | None = None) -> None:
        """Give the key back (nothing happened at Stripe), so the next attempt may use it; with
        `refused`, record that attempt as refused in the same step."""
        async with self.db.transaction() as conn:
            await conn.execute(used_tokens.delete().where(used_tokens.c.token_id == key))
            if refused is not None:
                await _insert_attempt(conn, refused, "refused", datetime.now(UTC))

    async def settle(
        self,
        key: str,
        entry_id: int,
        outcome: Outcome,
        *,
        result: dict[str, Any] | None,
        stripe_id: str | None = None,
        error_code: str | None = None,
        reason: str | None = None,
    ) -> None:
        """End a claimed attempt in one step: the claim completes with `result` (or, with None,
        is released: nothing happened at Stripe) and its audit row is finished."""
        async with self.db.transaction() as conn:
            if result is None:
                await conn.execute(used_tokens.delete().where(used_tokens.c.token_id == key))
            else:
                await _end_claim(conn, key, "done", result, None)
            await _finish(conn, entry_id, outcome, stripe_id, error_code, reason, None)

    async def wait_until_settled(
        self, key: str, *, within: float, interval: float = 0.05
    ) -> Claim | None:
        """The claim once no execution is running, or as it stands after `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            claim = await self.get(key)
            if claim is None or claim.settled or time.monotonic() >= deadline:
                return claim
            await asyncio.sleep(interval)

    # --- the audit trail ---
    async def begin(
        self,
        attempt: Attempt,
        *,
        at_most: int | None = None,
        since: datetime | None = None,
        now: datetime | None = None,
    ) -> Slot:
        """Write the attempt as `pending`. With `at_most`, the attempt is allowed only if the
        customer has at most that many attempts by the same kind of actor since `since`, this
        one included; the check and the insert are one atomic step, so two concurrent attempts
        cannot both take the last place."""
        now = now or datetime.now(UTC)
        async with self.db.transaction() as conn:
            if not self.db.is_sqlite:
                # Serialise attempts per customer; SQLite serialises all writers already.
                await conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"),
                    {"key": _lock_key(attempt.customer_id)},
                )
            entry_id = await _insert_attempt(conn, attempt, "pending", now)
            if at_most is None:
                return Slot(entry_id, allowed=True)
            recent = await _count(
                conn,
                attempt.customer_id,
                actor_type=attempt.actor.type,
                action=attempt.action,
                since=since or datetime.min.replace(tzinfo=UTC),
            )
            if recent <= at_most:
                return Slot(entry_id, allowed=True)
            await _finish(conn, entry_id, "refused", None, "refund_limit_reached", None, now)
            return Slot(entry_id, allowed=False)

    async def record(
        self,
        attempt: Attempt,
        outcome: Outcome,
        *,
        stripe_id: str | None = None,
        error_code: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Write an attempt that is over already (a refusal, a change Stripe made)."""
        async with self.db.transaction() as conn:
            return await _insert_attempt(
                conn, attempt, outcome, now or datetime.now(UTC), stripe_id, error_code
            )

    async def finish(
        self,
        entry_id: int,
        outcome: Outcome,
        *,
        stripe_id: str | None = None,
        error_code: str | None = None,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> None:
        async with self.db.transaction() as conn:
            await _finish(conn, entry_id, outcome, stripe_id, error_code, reason, now)

    async def count_recent(
        self, customer_id: str, *, actor_type: str, action: str, since: datetime
    ) -> int:
        """How many attempts (one per confirmation token) by this kind of actor may have moved
        the customer's money since `since`."""
        async with self.db.transaction() as conn:
            return await _count(
                conn, customer_id, actor_type=actor_type, action=action, since=since
            )

    async def history(self, *, action: str, object_id: str, key: str) -> History:
        """`last_attempt_at`: when we last asked Stripe to act on `object_id` with a request that
        reached the bank (pending, succeeded or declined); refusals and "Stripe unreachable" don't
        count, nothing was attempted. `unreachable`: the attempts under `key` (or a later
        generation of it, `key:rN`) that ended with Stripe unreachable."""
        last = sa.select(sa.func.max(audit_log.c.created_at)).where(
            audit_log.c.action == action,
            audit_log.c.object_id == object_id,
            sa.or_(
                audit_log.c.outcome.in_(("pending", "succeeded")),
                sa.and_(
                    audit_log.c.outcome == "failed",
                    sa.or_(
                        audit_log.c.error_code.is_(None),
                        audit_log.c.error_code != "stripe_unavailable",
                    ),
                ),
            ),
        )
        unreachable = sa.select(audit_log.c.token_id, audit_log.c.created_at).where(
            sa.or_(
                audit_log.c.token_id == key,
                audit_log.c.token_id.startswith(f"{key}:r", autoescape=True),
            ),
            audit_log.c.outcome == "failed",
            audit_log.c.error_code == "stripe_unavailable",
        )
        async with self.db.transaction() as conn:
            last_at = (await conn.execute(last)).scalar()
            rows = (await conn.execute(unreachable)).all()
        return History(
            last_attempt_at=as_utc(last_at) if last_at is not None else None,
            unreachable=tuple((row.token_id, as_utc(row.created_at)) for row in rows),
        )

    async def entries(
        self,
        *,
        customer_id: str | None = None,
        actions: tuple[str, ...] | None = None,
        object_ids: list[str] | None = None,
        since: datetime | None = None,
        limit: int | None = 50,
        oldest_first: bool = False,
    ) -> list[AuditEntry]:
        """Audit rows, newest first (or oldest first), filtered as asked."""
        order = (audit_log.c.created_at, audit_log.c.id)
        query = sa.select(audit_log).order_by(
            *(order if oldest_first else (column.desc() for column in order))
        )
        if customer_id:
            query = query.where(audit_log.c.customer_id == customer_id)
        if actions is not None:
            query = query.where(audit_log.c.action.in_(actions))
        if object_ids is not None:
            query = query.where(audit_log.c.object_id.in_(object_ids))
        if since is not None:
            query = query.where(audit_log.c.created_at >= since)
        if limit is not None:
            query = query.limit(limit)
        async with self.db.transaction() as conn:
            rows = (await conn.execute(query)).all()
        return [AuditEntry.of_row(row) for row in rows]

    async def outcome_counts(self) -> list[tuple[str, str, int]]:
        """(action, outcome, rows) over the whole audit trail."""
        query = sa.select(audit_log.c.action, audit_log.c.outcome, sa.func.count()).group_by(
            audit_log.c.action, audit_log.c.outcome
        )
        async with self.db.transaction() as conn:
            rows = (await conn.execute(query)).all()
        return [(row[0], row[1], int(row[2])) for row in rows]


async def _claim_row(conn: AsyncConnection, key: str) -> Claim | None:
    row = (await conn.execute(sa.select(used_tokens).where(used_tokens.c.token_id == key))).first()
    return Claim.of_row(row) if row is not None else None


async def _end_claim(
    conn: AsyncConnection,
    key: str,
    status: ClaimStatus,
    result: dict[str, Any],
    now: datetime | None,
) -> None:
    await conn.execute(
        sa.update(used_tokens)
        .where(used_tokens.c.token_id == key)
        .values(
            status=status,
            result=json.dumps(result, sort_keys=True),
            finished_at=now or datetime.now(UTC),
        )
    )


async def _insert_attempt(
    conn: AsyncConnection,
    attempt: Attempt,
    outcome: Outcome,
    now: datetime,
    stripe_id: str | None = None,
    error_code: str | None = None,
) -> int:
    inserted = await conn.execute(
        audit_log.insert()
        .values(
            created_at=now,
            actor_type=attempt.actor.type,
            actor_id=attempt.actor.id,
            conversation_id=attempt.actor.conversation_id,
            action=attempt.action,
            customer_id=attempt.customer_id,
            object_id=attempt.object_id,
            amount=attempt.amount,
            currency=attempt.currency,
            reason=(attempt.reason or None) and attempt.reason[:MAX_REASON],
            outcome=outcome,
            stripe_id=stripe_id,
            error_code=error_code,
            token_id=attempt.token_id,
            finished_at=None if outcome == "pending" else now,
        )
        .returning(audit_log.c.id)
    )
    return int(inserted.scalar_one())


async def _finish(
    conn: AsyncConnection,
    entry_id: int,
    outcome: Outcome,
    stripe_id: str | None,
    error_code: str | None,
    reason: str | None,
    now: datetime | None,
) -> None:
    if outcome == "pending":
        raise ValueError("an attempt finishes as succeeded, refused or failed")
    values: dict[str, Any] = {"outcome": outcome, "finished_at": now or datetime.now(UTC)}
    if stripe_id is not None:
        values["stripe_id"] = stripe_id
    if error_code is not None:
        values["error_code"] = error_code
    if reason is not None:
        values["reason"] = reason[:MAX_REASON]
    await conn.execute(sa.update(audit_log).where(audit_log.c.id == entry_id).values(**values))


async def _count(
    conn: AsyncConnection, customer_id: str, *, actor_type: str, action: str, since: datetime
) -> int:
    # A retried token leaves a failed row and a later one: it is still one refund.
    attempt_key = sa.func.coalesce(audit_log.c.token_id, sa.cast(audit_log.c.id, sa.String))
    query = sa.select(sa.func.count(sa.distinct(attempt_key))).where(
        audit_log.c.customer_id == customer_id,
        audit_log.c.actor_type == actor_type,
        audit_log.c.action == action,
        audit_log.c.outcome.in_(MAY_HAVE_MOVED_MONEY),
        audit_log.c.created_at >= since,
    )
    return int((await conn.execute(query)).scalar_one())


def _lock_key(customer_id: str) -> int:
    digest = hashlib.sha256(f"audit:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
