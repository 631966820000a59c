"""Every storage test runs against SQLite (a temporary file) and PostgreSQL (a throwaway
database), because both are supported and they differ where it matters: locking, RETURNING,
timestamps with and without zones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database
from tests.storage.postgres import postgres_database as postgres_database
from tests.storage.postgres import reset_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'storage.sqlite3'}"
    url = request.getfixturevalue("postgres_database")
    asyncio.run(reset_schema(url))
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.start()
    yield db
    await db.stop()
