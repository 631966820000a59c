"""`python -m canvas_app report`: the recovery and refund report in the terminal.

python -m canvas_app report                          # all recorded history, as a table
python -m canvas_app report --since 2026-11-01       # failures since that day (UTC)
python -m canvas_app report --format json            # or csv; --locale de for German words
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from kernel.settings import Settings
from reporting.render import as_csv, as_json, as_table
from reporting.report import build_report
from storage import Database


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser(
        "report",
        help="failed payments and their recovery, refunds, saved cancellations",
        description="What the app earned, from the audit trail and the webhook records: failed "
        "payments by reason, what happened next by channel, recovery per month, refunds by Fin "
        "and agents, cancellations saved by an offer.",
    )
    report.add_argument("--since", type=_date, help="only failures and actions since YYYY-MM-DD")
    report.add_argument("--format", choices=("table", "json", "csv"), default="table")
    report.add_argument("--locale", choices=("en", "de"), default="en")
    report.add_argument(
        "--open-days",
        type=int,
        default=7,
        help="an unpaid failure older than this many days counts as 'still open after N days'",
    )
    report.set_defaults(func=run_report_command)


async def run_report_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.open_days < 0:
        print("--open-days must not be negative", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    await db.start()
    try:
        report = await build_report(db, since=args.since, open_days=args.open_days)
    finally:
        await db.stop()
    if args.format == "json":
        print(as_json(report))
    elif args.format == "csv":
        sys.stdout.write(as_csv(report))
    else:
        sys.stdout.write(as_table(report, args.locale))
    return 0


def _date(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date as YYYY-MM-DD") from None
