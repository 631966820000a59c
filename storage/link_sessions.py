"""The hosted page each payment link opened (`link_sessions`): reused while it is open, and
counted, so that a link hit again and again does not open a new Stripe session every time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.database import Database
from storage.tables import link_sessions


@dataclass(frozen=True, slots=True)
class LinkSession:
    link_id: str
    flow: str | None
    session_id: str | None
    url: str | None
    expires_at: datetime | None
    sessions_created: int


class LinkSessions:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, link_id: str) -> LinkSession | None:
        async with self.db.transaction() as conn:
            row = (
                await conn.execute(
                    sa.select(link_sessions).where(link_sessions.c.link_id == link_id)
                )
            ).first()
        if row is None:
            return None
        return LinkSession(
            link_id=row.link_id,
            flow=row.flow,
            session_id=row.session_id,
            url=row.url,
            expires_at=_utc(row.expires_at),
            sessions_created=row.sessions_created,
        )

    async def reserve(self, link_id: str, *, limit: int, now: datetime | None = None) -> bool:
        """Count one more session for the link, unless it opened `limit` already (then False).
        Atomic: of concurrent callers at the limit, at most `limit` in total get True."""
        moment = now or datetime.now(UTC)
        insert = (
            (sqlite.insert if self.db.is_sqlite else postgresql.insert)(link_sessions)
            .values(link_id=link_id, sessions_created=0, updated_at=moment)
            .on_conflict_do_nothing(index_elements=[link_sessions.c.link_id])
        )
        count = (
            sa.update(link_sessions)
            .where(link_sessions.c.link_id == link_id, link_sessions.c.sessions_created < limit)
            .values(sessions_created=link_sessions.c.sessions_created + 1, updated_at=moment)
            .returning(link_sessions.c.sessions_created)
        )
        async with self.db.transaction() as conn:
            await conn.execute(insert)
            return (await conn.execute(count)).first() is not None

    async def remember(
        self,
        link_id: str,
        *,
        flow: str,
        session_id: str | None,
        url: str,
        expires_at: datetime,
        now: datetime | None = None,
    ) -> None:
        """The session the link opened last (after `reserve`)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                sa.update(link_sessions)
                .where(link_sessions.c.link_id == link_id)
                .values(
                    flow=flow,
                    session_id=session_id,
                    url=url,
                    expires_at=expires_at,
                    updated_at=now or datetime.now(UTC),
                )
            )


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without a zone; everything we store is UTC.
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
