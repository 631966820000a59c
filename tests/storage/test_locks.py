"""`storage.locks.exclusive`: one holder at a time, on SQLite (a file lock) and PostgreSQL (an
advisory lock); a second caller is told at once, and the lock is free again afterwards."""

from __future__ import annotations

from storage import Database
from storage.locks import exclusive


async def test_a_second_holder_is_refused_until_the_first_lets_go(database: Database) -> None:
    other = Database(database.url)  # another instance: its own connections
    await other.start()
    try:
        async with exclusive(database, "sweep") as first:
            async with exclusive(other, "sweep") as second:
                assert first and not second
            async with exclusive(other, "something-else") as unrelated:
                assert unrelated
        async with exclusive(other, "sweep") as later:
            assert later
    finally:
        await other.stop()
