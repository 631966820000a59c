"""Locks across processes: one holder at a time for work that must not run twice at once.

PostgreSQL: a session-level advisory lock on a connection held for the duration (released by
the server if the process dies). SQLite (one host): an exclusive `flock` on a file beside the
database. Both are try-locks: a second holder is told at once instead of queueing behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import sqlalchemy as sa

from storage.database import Database


@contextlib.asynccontextmanager
async def exclusive(db: Database, name: str) -> AsyncIterator[bool]:
    """Yields True while this process holds lock `name`, False if another process holds it."""
    if db.is_sqlite:
        with _file_lock(db.url, name) as acquired:
            yield acquired
        return
    if db.engine is None:
        raise RuntimeError("Database.start() was not called")
    key = zlib.crc32(f"canvas_app:{name}".encode())
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        acquired = bool(
            await conn.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
        )
        try:
            yield acquired
        finally:
            if acquired:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextlib.contextmanager
def _file_lock(sqlite_url: str, name: str) -> Iterator[bool]:
    path = sqlite_url.split(":///", 1)[1]
    if not path or path == ":memory:":
        yield True
        return
    lock_path = Path(path).expanduser().resolve().with_name(Path(path).name + f".{name}.lock")
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
