"""Read-only queries for the operator's report, the metrics and the readiness probe."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from storage.audit import AuditEntry, _entry
from storage.database import Database
from storage.tables import audit_log, webhook_events


async def audit_entries(
    db: Database, *, actions: tuple[str, ...], since: datetime | None = None
) -> list[AuditEntry]:
    """Audit rows of these kinds (refund, invoice_retry, cancellation, ...), oldest first."""
    query = (
        sa.select(audit_log)
        .where(audit_log.c.action.in_(actions))
        .order_by(audit_log.c.created_at, audit_log.c.id)
    )
    if since is not None:
        query = query.where(audit_log.c.created_at >= since)
    async with db.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [_entry(row) for row in rows]


async def retries_of(db: Database, invoice_ids: list[str]) -> list[AuditEntry]:
    """Every recorded attempt to collect these invoices (retries, pay by card), oldest first."""
    if not invoice_ids:
        return []
    query = (
        sa.select(audit_log)
        .where(audit_log.c.action == "invoice_retry", audit_log.c.object_id.in_(invoice_ids))
        .order_by(audit_log.c.created_at, audit_log.c.id)
    )
    async with db.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [_entry(row) for row in rows]


async def oldest_unhandled_event(db: Database) -> datetime | None:
    """When the oldest webhook event still waiting to be handled arrived (None: no backlog)."""
    query = sa.select(sa.func.min(webhook_events.c.received_at)).where(
        webhook_events.c.handled_at.is_(None)
    )
    async with db.transaction() as conn:
        value = (await conn.execute(query)).scalar()
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def money_action_counts(db: Database) -> list[tuple[str, str, int]]:
    """(action, outcome, rows) over the whole audit trail."""
    query = sa.select(audit_log.c.action, audit_log.c.outcome, sa.func.count()).group_by(
        audit_log.c.action, audit_log.c.outcome
    )
    async with db.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [(row[0], row[1], int(row[2])) for row in rows]


async def ping(db: Database) -> None:
    """Raises if the database can't answer a trivial query."""
    async with db.transaction() as conn:
        await conn.execute(sa.text("SELECT 1"))
