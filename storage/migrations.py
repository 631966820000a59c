"""Ordered, append-only schema migrations. Each runs once, in its own transaction, and is
recorded in `schema_migrations`; upgrading an existing database never drops data.

To change the schema: append a function to `MIGRATIONS` with the next version, and change
`storage/tables.py` to match. `_v1_initial` creates tables from `tables.py`, so before the first
change to an existing table, freeze v1: give it its own copy of the v1 definitions, so a fresh
database still gets v1's columns and the new migration's ALTER applies to both fresh and old
databases. `tests/storage/test_migrations.py` checks that the migrated schema equals tables.py.

Several instances may start at once on PostgreSQL: the upgrade holds a transaction-scoped
advisory lock, so one migrates and the others then find nothing left to do.
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


def _v2_link_sessions(conn: Connection) -> None:
    tables.link_sessions.create(conn, checkfirst=True)


def _v3_payment_failures(conn: Connection) -> None:
    # A new table (no change to v1's): created from tables.py as it stands.
    tables.payment_failures.create(conn, checkfirst=True)


MIGRATION_LOCK = 0x5715_1C0D  # any constant unique to this app within the database

MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "initial", _v1_initial),
    (2, "link sessions", _v2_link_sessions),
    (3, "payment_failures", _v3_payment_failures),
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
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
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
