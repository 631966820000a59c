"""Audit rows and single-use claims for billing actions taken from the Messenger (by the customer)
or the sidebar (by an agent): invoice retries, paying by card instead, plan switches.

Rows go to the shared `audit_log` table (actor "customer" with the Intercom contact id, or
"admin"). Claims use `used_tokens`: whoever inserts the row for a key first is the one that calls
Stripe, so a double click, two tabs or two app instances never make the same call twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from billing.money import Money
from storage.database import Database
from storage.tables import audit_log, used_tokens

ActorType = Literal["customer", "admin"]
Outcome = Literal["pending", "succeeded", "refused", "failed"]
# A claim still "executing" after this long belongs to a process that died mid-call; the next
# caller takes it over (reusing the same Stripe idempotency key, so that stays safe).
STALE_CLAIM = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Actor:
    type: ActorType
    id: str | None
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """`won`: this caller holds the key and must call Stripe. Otherwise `status` says what the
    holder is doing ("executing" or "done") and `result` is what it recorded when done."""

    key: str
    won: bool
    status: str
    result: dict[str, Any] | None = None


# --- audit ---
async def record(
    db: Database,
    *,
    actor: Actor,
    action: str,
    customer_id: str,
    object_id: str | None,
    amount: Money | None = None,
    outcome: Outcome = "pending",
    reason: str | None = None,
    stripe_id: str | None = None,
    error_code: str | None = None,
    token_id: str | None = None,
    now: datetime | None = None,
) -> int:
    moment = now or datetime.now(UTC)
    async with db.transaction() as conn:
        result = await conn.execute(
            audit_log.insert().values(
                created_at=moment,
                actor_type=actor.type,
                actor_id=actor.id,
                conversation_id=actor.conversation_id,
                action=action,
                customer_id=customer_id,
                object_id=object_id,
                amount=amount.amount if amount else None,
                currency=amount.currency if amount else None,
                reason=(reason or "")[:500] or None,
                outcome=outcome,
                stripe_id=stripe_id,
                error_code=error_code,
                token_id=token_id,
                finished_at=None if outcome == "pending" else moment,
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # an INSERT without RETURNING still reports its primary key
        return int(key[0])


async def finish(
    db: Database,
    row_id: int,
    *,
    outcome: Outcome,
    stripe_id: str | None = None,
    error_code: str | None = None,
    reason: str | None = None,
) -> None:
    values: dict[str, Any] = {"outcome": outcome, "finished_at": datetime.now(UTC)}
    if stripe_id is not None:
        values["stripe_id"] = stripe_id
    if error_code is not None:
        values["error_code"] = error_code
    if reason is not None:
        values["reason"] = reason[:500]
    async with db.transaction() as conn:
        await conn.execute(audit_log.update().where(audit_log.c.id == row_id).values(**values))


async def last_attempt_at(db: Database, *, action: str, object_id: str) -> datetime | None:
    """When we last asked Stripe to collect `object_id` with a request that reached the bank
    (pending, succeeded or declined). Refusals and "Stripe unreachable" don't count: nothing
    was attempted, so they must not hold the customer back."""
    query = sa.select(sa.func.max(audit_log.c.created_at)).where(
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
    async with db.transaction() as conn:
        value = (await conn.execute(query)).scalar()
    return _utc(value)


async def unreachable_attempts(db: Database, *, token: str) -> list[tuple[str, datetime]]:
    """Attempts recorded under `token`, or a later generation of it (`token:rN`), that ended
    with Stripe unreachable: (the token used, when)."""
    query = sa.select(audit_log.c.token_id, audit_log.c.created_at).where(
        sa.or_(
            audit_log.c.token_id == token,
            audit_log.c.token_id.startswith(f"{token}:r", autoescape=True),
        ),
        audit_log.c.outcome == "failed",
        audit_log.c.error_code == "stripe_unavailable",
    )
    async with db.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [(row.token_id, _utc(row.created_at) or datetime.now(UTC)) for row in rows]


async def actions_for(db: Database, customer_id: str) -> list[dict[str, Any]]:
    """The customer's audit rows, oldest first (for operators and tests)."""
    query = (
        sa.select(audit_log).where(audit_log.c.customer_id == customer_id).order_by(audit_log.c.id)
    )
    async with db.transaction() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [dict(row) for row in rows]


# --- single-use claims ---
async def claim(db: Database, key: str, kind: str, *, now: datetime | None = None) -> Claim:
    moment = now or datetime.now(UTC)
    try:
        async with db.transaction() as conn:
            await conn.execute(
                used_tokens.insert().values(
                    token_id=key, kind=kind, claimed_at=moment, status="executing"
                )
            )
        return Claim(key, True, "executing")
    except IntegrityError:
        pass
    async with db.transaction() as conn:
        row = (
            (await conn.execute(sa.select(used_tokens).where(used_tokens.c.token_id == key)))
            .mappings()
            .first()
        )
        if row is None:  # released between our insert and this read: try once more
            return await claim(db, key, kind, now=now)
        claimed_at = _utc(row["claimed_at"]) or moment
        if row["status"] == "executing" and moment - claimed_at > STALE_CLAIM:
            taken = await conn.execute(
                used_tokens.update()
                .where(
                    used_tokens.c.token_id == key,
                    used_tokens.c.status == "executing",
                    used_tokens.c.claimed_at == row["claimed_at"],
                )
                .values(claimed_at=moment)
            )
            if taken.rowcount == 1:
                return Claim(key, True, "executing")
        result = json.loads(row["result"]) if row["result"] else None
        return Claim(key, False, row["status"], result)


async def complete(db: Database, key: str, result: dict[str, Any]) -> None:
    """The holder is done: later callers get `result` instead of calling Stripe again."""
    async with db.transaction() as conn:
        await conn.execute(
            used_tokens.update()
            .where(used_tokens.c.token_id == key)
            .values(status="done", result=json.dumps(result), finished_at=datetime.now(UTC))
        )


async def release(db: Database, key: str) -> None:
    """Give the key back (nothing happened at Stripe), so the next attempt may use it."""
    async with db.transaction() as conn:
        await conn.execute(used_tokens.delete().where(used_tokens.c.token_id == key))


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
