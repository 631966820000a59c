"""Single-use confirmation tokens, over the `used_tokens` table.

A token is claimed (a row inserted) before any money moves, and its first result is kept, so a
replay answers with that result instead of calling Stripe again. Two executions racing for one
token are decided by the table's primary key: exactly one of them owns it.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.database import Database
from storage.tables import used_tokens

EXECUTING, DONE, FAILED = "executing", "done", "failed"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    token_id: str
    kind: str
    status: str  # executing | done | failed
    claimed_at: datetime
    result: dict[str, Any] | None
    finished_at: datetime | None

    @property
    def settled(self) -> bool:
        return self.status != EXECUTING


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of trying to take a token: `owned` means this caller executes it now;
    `retry` means an earlier execution of the same token got as far as calling Stripe."""

    owned: bool
    retry: bool = False


class UsedTokens:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(
        self,
        token_id: str,
        kind: str,
        *,
        lease: timedelta,
        retry_failed_within: timedelta,
        now: datetime | None = None,
    ) -> Claim:
        """Take the token for one execution.

        Owned when the token was never used; or when its earlier execution failed with Stripe
        unavailable (within `retry_failed_within` of that claim, while Stripe still keeps the
        idempotency key); or when an execution's `lease` ran out without finishing (its process
        died). Not owned while another execution holds it or once it is done.
        """
        now = now or datetime.now(UTC)
        insert = (
            _dialect_insert(self.db)(used_tokens)
            .values(token_id=token_id, kind=kind, claimed_at=now, status=EXECUTING)
            .on_conflict_do_nothing(index_elements=[used_tokens.c.token_id])
            .returning(used_tokens.c.token_id)
        )
        take_over = (
            sa.update(used_tokens)
            .where(
                used_tokens.c.token_id == token_id,
                used_tokens.c.kind == kind,
                sa.or_(
                    sa.and_(
                        used_tokens.c.status == FAILED,
                        used_tokens.c.claimed_at >= now - retry_failed_within,
                    ),
                    sa.and_(
                        used_tokens.c.status == EXECUTING,
                        used_tokens.c.claimed_at < now - lease,
                    ),
                ),
            )
            .values(status=EXECUTING, claimed_at=now, finished_at=None)
            .returning(used_tokens.c.token_id)
        )
        async with self.db.transaction() as conn:
            # On a conflict PostgreSQL waits for the other transaction to commit, so the update
            # below always sees the winner's row.
            if (await conn.execute(insert)).first() is not None:
                return Claim(owned=True)
            if (await conn.execute(take_over)).first() is not None:
                return Claim(owned=True, retry=True)
        return Claim(owned=False)

    async def finish(
        self,
        token_id: str,
        status: str,
        result: dict[str, Any],
        *,
        now: datetime | None = None,
    ) -> None:
        """Record how the owned execution ended: `done` (final, replayed from now on) or
        `failed` (may be retried)."""
        if status not in (DONE, FAILED):
            raise ValueError(f"unknown final status {status!r}")
        async with self.db.transaction() as conn:
            await conn.execute(
                sa.update(used_tokens)
                .where(used_tokens.c.token_id == token_id)
                .values(
                    status=status,
                    result=json.dumps(result, sort_keys=True),
                    finished_at=now or datetime.now(UTC),
                )
            )

    async def get(self, token_id: str) -> TokenRecord | None:
        async with self.db.transaction() as conn:
            row = (
                await conn.execute(sa.select(used_tokens).where(used_tokens.c.token_id == token_id))
            ).first()
        return _record(row) if row is not None else None

    async def wait_until_settled(
        self, token_id: str, *, within: float, interval: float = 0.05
    ) -> TokenRecord | None:
        """The token's record once no execution is running, or as it stands after `within` s."""
        deadline = time.monotonic() + within
        while True:
            record = await self.get(token_id)
            if record is None or record.settled or time.monotonic() >= deadline:
                return record
            await asyncio.sleep(interval)


def _dialect_insert(db: Database) -> Any:
    return sqlite.insert if db.is_sqlite else postgresql.insert


def _record(row: Any) -> TokenRecord:
    return TokenRecord(
        token_id=row.token_id,
        kind=row.kind,
        status=row.status,
        claimed_at=as_utc(row.claimed_at),
        result=json.loads(row.result) if row.result else None,
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
    )


def as_utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
