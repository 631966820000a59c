"""Operator command of the refund guardrails: `python -m canvas_app audit`.

python -m canvas_app audit                       # the 50 newest money-moving attempts
python -m canvas_app audit --customer cus_123    # one customer's
python -m canvas_app audit --limit 500 --json    # as JSON lines, for a spreadsheet or jq
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from billing.money import format_money
from kernel.settings import Settings
from storage import Database
from storage.actions import ActionStore, AuditEntry

COLUMNS = (
    "time (UTC)",
    "actor",
    "conversation",
    "customer",
    "charge",
    "amount",
    "outcome",
    "stripe id",
    "reason / error",
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = subparsers.add_parser(
        "audit",
        help="list money-moving attempts (refunds by Fin and agents), newest first",
        description="Every attempt to move money: who (Fin or an admin id), the conversation, "
        "customer, charge, amount, reason, outcome and Stripe's refund id.",
    )
    audit.add_argument("--customer", help="only this Stripe customer id (cus_...)")
    audit.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.set_defaults(func=run_audit_command)


async def run_audit_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    await db.start()
    try:
        entries = await ActionStore(db).entries(customer_id=args.customer, limit=args.limit)
    finally:
        await db.stop()
    if args.json:
        for entry in entries:
            print(json.dumps(entry.as_dict(), ensure_ascii=False))
    else:
        print_table(entries, sys.stdout)
    return 0


def print_table(entries: list[AuditEntry], out: TextIO) -> None:
    if not entries:
        print("No money-moving attempts recorded.", file=out)
        return
    rows = [COLUMNS] + [_row(entry) for entry in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for n, row in enumerate(rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(),
            file=out,
        )
        if n == 0:
            print("  ".join("-" * width for width in widths), file=out)


def _row(entry: AuditEntry) -> tuple[str, ...]:
    amount = (
        format_money(entry.amount, entry.currency, "en")
        if entry.amount is not None and entry.currency
        else ""
    )
    actor = f"{entry.actor_type}:{entry.actor_id}" if entry.actor_id else entry.actor_type
    detail = entry.error_code or entry.reason or ""
    if entry.error_code and entry.reason:
        detail = f"{entry.error_code} ({entry.reason})"
    return (
        entry.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        actor,
        entry.conversation_id or "",
        entry.customer_id or "",
        entry.object_id or "",
        amount,
        entry.outcome,
        entry.stripe_id or "",
        detail[:80],
    )
