"""The audit trail of money-moving attempts, over the `audit_log` table.

Each attempt is a row written *before* Stripe is called (`pending`) and finished afterwards
(`succeeded`, `refused` or `failed`), so a crash in between still leaves a trace. Rows are only
ever appended and finished, never deleted; `python -m canvas_app audit` lists them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from storage.database import Database
from storage.tables import audit_log
from storage.tokens import as_utc

PENDING, SUCCEEDED, REFUSED, FAILED = "pending", "succeeded", "refused", "failed"
# Attempts that moved money or may have (Stripe timed out after accepting the request).
MAY_HAVE_MOVED_MONEY = (PENDING, SUCCEEDED, FAILED)


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who wants to move how much of whose money, and why."""

    actor_type: str  # fin | admin | customer | system
    actor_id: str | None
    action: str  # refund | subscription_update | invoice_retry
    customer_id: str
    object_id: str  # the charge, invoice or subscription acted on
    amount: int | None = None
    currency: str | None = None
    reason: str | None = None
    conversation_id: str | None = None
    token_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    created_at: datetime
    actor_type: str
    actor_id: str | None
    conversation_id: str | None
    action: str
    customer_id: str | None
    object_id: str | None
    amount: int | None
    currency: str | None
    reason: str | None
    outcome: str
    stripe_id: str | None
    error_code: str | None
    token_id: str | None
    finished_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}
        for name in ("created_at", "finished_at"):
            if data[name] is not None:
                data[name] = data[name].strftime("%Y-%m-%dT%H:%M:%SZ")
        return data


@dataclass(frozen=True, slots=True)
class Slot:
    """A started attempt. `allowed` is False when the per-customer limit refused it (the row is
    then already finished as `refused`); `recent` counts the customer's attempts in the window,
    this one included."""

    entry_id: int
    allowed: bool
    recent: int


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

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
            entry_id = (
                await conn.execute(
                    audit_log.insert()
                    .values(
                        created_at=now,
                        actor_type=attempt.actor_type,
                        actor_id=attempt.actor_id,
                        conversation_id=attempt.conversation_id,
                        action=attempt.action,
                        customer_id=attempt.customer_id,
                        object_id=attempt.object_id,
                        amount=attempt.amount,
                        currency=attempt.currency,
                        reason=(attempt.reason or None) and attempt.reason[:500],
                        outcome=PENDING,
                        token_id=attempt.token_id,
                    )
                    .returning(audit_log.c.id)
                )
            ).scalar_one()
            if at_most is None:
                return Slot(entry_id, allowed=True, recent=0)
            recent = await self._count(
                conn,
                attempt.customer_id,
                actor_type=attempt.actor_type,
                action=attempt.action,
                since=since or datetime.min.replace(tzinfo=UTC),
            )
            if recent <= at_most:
                return Slot(entry_id, allowed=True, recent=recent)
            await conn.execute(
                sa.update(audit_log)
                .where(audit_log.c.id == entry_id)
                .values(outcome=REFUSED, error_code="refund_limit_reached", finished_at=now)
            )
            return Slot(entry_id, allowed=False, recent=recent)

    async def finish(
        self,
        entry_id: int,
        outcome: str,
        *,
        stripe_id: str | None = None,
        error_code: str | None = None,
        now: datetime | None = None,
    ) -> None:
        if outcome not in (SUCCEEDED, REFUSED, FAILED):
            raise ValueError(f"unknown outcome {outcome!r}")
        async with self.db.transaction() as conn:
            await conn.execute(
                sa.update(audit_log)
                .where(audit_log.c.id == entry_id)
                .values(
                    outcome=outcome,
                    stripe_id=stripe_id,
                    error_code=error_code,
                    finished_at=now or datetime.now(UTC),
                )
            )

    async def count_recent(
        self, customer_id: str, *, actor_type: str, action: str, since: datetime
    ) -> int:
        """How many attempts (one per confirmation token) by this kind of actor may have moved
        the customer's money since `since`."""
        async with self.db.transaction() as conn:
            return await self._count(
                conn, customer_id, actor_type=actor_type, action=action, since=since
            )

    async def entries(self, *, customer_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
        """Newest first."""
        query = sa.select(audit_log).order_by(audit_log.c.created_at.desc(), audit_log.c.id.desc())
        if customer_id:
            query = query.where(audit_log.c.customer_id == customer_id)
        async with self.db.transaction() as conn:
            rows = (await conn.execute(query.limit(limit))).all()
        return [_entry(row) for row in rows]

    async def _count(
        self, conn: Any, customer_id: str, *, actor_type: str, action: str, since: datetime
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


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        created_at=as_utc(row.created_at),
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        conversation_id=row.conversation_id,
        action=row.action,
        customer_id=row.customer_id,
        object_id=row.object_id,
        amount=row.amount,
        currency=row.currency,
        reason=row.reason,
        outcome=row.outcome,
        stripe_id=row.stripe_id,
        error_code=row.error_code,
        token_id=row.token_id,
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
    )
