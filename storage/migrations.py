"""Ordered, append-only schema migrations. Each runs once, in its own transaction, and is
recorded in `schema_migrations`; upgrading an existing database never drops data.

To change the schema: add a function and append it to `MIGRATIONS` with the next version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage import tables


def _v1_initial(conn: Connection) -> None:
    for table in (
        tables.audit_log,
        tables.used_tokens,
        tables.webhook_events,
        tables.automation_marks,
    ):
        table.create(conn, checkfirst=True)


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "initial", _v1_initial),
]


def applied_versions(conn: Connection) -> set[int]:
    tables.schema_migrations.create(conn, checkfirst=True)
    return set(conn.execute(sa.select(tables.schema_migrations.c.version)).scalars())


def upgrade(
    conn: Connection,
    *,
    target: int | None = None,
    migrations: Sequence[tuple[int, str, Callable[[Connection], None]]] | None = None,
) -> list[int]:
    """Apply the migrations not applied yet (up to `target`); returns the versions applied.
    `migrations` defaults to `MIGRATIONS` (tests pass a longer list to rehearse an upgrade)."""
    done = applied_versions(conn)
    applied = []
    for version, name, migrate in MIGRATIONS if migrations is None else migrations:
        if version in done or (target is not None and version > target):
            continue
        migrate(conn)
        conn.execute(
            tables.schema_migrations.insert().values(
                version=version, name=name, applied_at=datetime.now(UTC)
            )
        )
        applied.append(version)
    return applied
