"""The database handle: an async engine, created once per process, migrated on start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage import migrations


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    async def start(self) -> None:
        """Create the SQLite file's folder if needed, connect, and apply pending migrations."""
        if self.is_sqlite:
            _ensure_folder(self.url)
            # One connection per operation: SQLite serialises writers anyway, and NullPool
            # avoids sharing a connection across event loops in tests.
            self.engine = create_async_engine(
                self.url, poolclass=NullPool, connect_args={"timeout": 30}
            )
        else:
            self.engine = create_async_engine(self.url, pool_pre_ping=True)
        async with self.engine.begin() as conn:
            await conn.run_sync(migrations.upgrade)

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        if self.engine is None:
            raise RuntimeError("Database.start() was not called")
        async with self.engine.begin() as conn:
            yield conn

    async def ping(self) -> None:
        """Raises if the database can't answer a trivial query (the readiness probe)."""
        async with self.transaction() as conn:
            await conn.execute(sa.text("SELECT 1"))


def _ensure_folder(sqlite_url: str) -> None:
    path = sqlite_url.split(":///", 1)[1]
    if path and path != ":memory:":
        Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; everything we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
