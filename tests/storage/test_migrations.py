"""Schema upgrades keep data: a database created at version 1 with rows in it is upgraded in
place, each migration runs once and is recorded, and a later migration (rehearsed here with one
that adds a column) leaves the existing rows intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage import Database, migrations
from storage.actions import ActionStore, Actor, Attempt
from storage.tables import audit_log, schema_migrations, used_tokens

MINUTE = timedelta(minutes=1)


def add_policy_version(conn: Connection) -> None:
    conn.execute(sa.text("ALTER TABLE audit_log ADD COLUMN policy_version VARCHAR(20)"))
    conn.execute(sa.text("UPDATE audit_log SET policy_version = 'v1'"))


async def versions(db: Database) -> list[int]:
    async with db.transaction() as conn:
        rows = await conn.execute(sa.select(schema_migrations.c.version).order_by("version"))
        return list(rows.scalars())


async def fill_with_rows(db: Database) -> None:
    audit = ActionStore(db)
    slot = await audit.begin(
        Attempt(
            actor=Actor("fin"),
            action="refund",
            customer_id="cus_1",
            object_id="ch_1",
            amount=790,
            currency="eur",
            token_id="tok_1",
        )
    )
    await audit.finish(slot.entry_id, "succeeded", stripe_id="re_1")
    await audit.claim("tok_1", "fin-refund", lease=MINUTE, retry_failed_within=MINUTE)
    await audit.complete("tok_1", {"outcome": "refunded", "refund_id": "re_1"})


async def test_a_new_database_is_created_at_the_latest_version(database: Database) -> None:
    assert await versions(database) == [v for v, _, _ in migrations.MIGRATIONS]


async def test_upgrading_an_up_to_date_database_changes_nothing(database: Database) -> None:
    await fill_with_rows(database)

    async with database.transaction() as conn:
        applied = await conn.run_sync(migrations.upgrade)

    assert applied == []
    assert len(await ActionStore(database).entries()) == 1


async def test_a_later_migration_runs_once_and_keeps_every_row(database: Database) -> None:
    await fill_with_rows(database)
    next_version = max(v for v, _, _ in migrations.MIGRATIONS) + 1
    later = [*migrations.MIGRATIONS, (next_version, "audit policy version", add_policy_version)]

    async with database.transaction() as conn:
        first = await conn.run_sync(lambda c: migrations.upgrade(c, migrations=later))
    async with database.transaction() as conn:
        second = await conn.run_sync(lambda c: migrations.upgrade(c, migrations=later))
        row = (await conn.execute(sa.text("SELECT * FROM audit_log"))).mappings().one()

    assert first == [next_version] and second == []
    assert await versions(database) == [v for v, _, _ in later]
    assert (row["customer_id"], row["amount"], row["stripe_id"], row["outcome"]) == (
        "cus_1",
        790,
        "re_1",
        "succeeded",
    )
    assert row["policy_version"] == "v1"
    token = await ActionStore(database).get("tok_1")
    assert token is not None and token.result == {"outcome": "refunded", "refund_id": "re_1"}


async def test_a_database_made_at_version_1_is_upgraded_in_place_on_start(
    database_url: str,
) -> None:
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: migrations.upgrade(c, target=1))
        await conn.execute(
            audit_log.insert().values(
                created_at=created,
                actor_type="admin",
                actor_id="admin_1",
                action="refund",
                customer_id="cus_1",
                object_id="ch_1",
                amount=2900,
                currency="eur",
                outcome="succeeded",
                stripe_id="re_old",
                token_id="tok_old",
            )
        )
        await conn.execute(
            used_tokens.insert().values(
                token_id="tok_old", kind="inbox-refund", claimed_at=created, status="done"
            )
        )
    await engine.dispose()

    db = Database(database_url)
    await db.start()  # applies whatever is pending since version 1
    try:
        entries = await ActionStore(db).entries()
        recorded = await versions(db)
        token = await ActionStore(db).get("tok_old")
    finally:
        await db.stop()

    assert recorded == [v for v, _, _ in migrations.MIGRATIONS]
    assert [(e.actor_id, e.customer_id, e.amount, e.stripe_id) for e in entries] == [
        ("admin_1", "cus_1", 2900, "re_old")
    ]
    assert entries[0].created_at == created
    assert token is not None and token.status == "done"


async def test_the_migrated_schema_is_the_schema_the_code_uses(database: Database) -> None:
    # A column added to storage/tables.py without a migration (or the reverse) fails here.
    from storage.tables import metadata

    def columns(conn: Connection) -> dict[str, set[str]]:
        inspector = sa.inspect(conn)
        return {
            name: {c["name"] for c in inspector.get_columns(name)}
            for name in inspector.get_table_names()
            if name in metadata.tables
        }

    async with database.transaction() as conn:
        migrated = await conn.run_sync(columns)
    expected = {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}
    assert migrated == expected
