"""Operator commands of the automations: `sweep` and `intercom-setup` (see canvas_app.__main__).

python -m canvas_app intercom-setup        # once per workspace (and after allowlist changes)
python -m canvas_app sweep [--dry-run]     # on a schedule, e.g. every 15 minutes
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from automations.handling import Automations
from automations.setup import set_up_workspace
from automations.sweep import JOBS, Sweep
from billing.errors import BillingError
from gateways.intercom import IntercomError
from kernel.services import Services
from kernel.settings import Settings
from storage.locks import exclusive

NOT_CONFIGURED = "INTERCOM_ACCESS_TOKEN is not set: the automations are switched off."


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sweep = subparsers.add_parser(
        "sweep",
        help="run the time-based automations (escalation, trials, usage)",
        description="Escalate long-unpaid invoices, warn trials without a payment method and "
        "flag high usage. Safe to run on a schedule and twice in a row.",
    )
    sweep.add_argument(
        "--dry-run", action="store_true", help="print what would change, write nothing"
    )
    sweep.add_argument(
        "--only", choices=JOBS, action="append", help="run only this job (repeatable)"
    )
    sweep.set_defaults(func=run_sweep_command)

    setup = subparsers.add_parser(
        "intercom-setup",
        help="create the automations' Intercom data attributes and tags",
        description="Create stripe_id and the allowlisted contact attributes (with their data "
        "types, not writable from the Messenger) and the tags in the Intercom workspace, "
        "idempotently, and print what exists. Exit code 1 if an attribute has another type or "
        "can be set from the Messenger.",
    )
    setup.add_argument(
        "--protect",
        action="store_true",
        help="make existing attributes of ours not writable from the Messenger",
    )
    setup.set_defaults(func=run_setup_command)


async def run_sweep_command(settings: Settings, args: argparse.Namespace) -> int:
    services = Services.build(settings)
    await services.start()
    try:
        automations = Automations.from_services(services)
        if automations is None:
            print(NOT_CONFIGURED)
            return 2
        # One sweep at a time across instances: two started at once do the work once.
        async with exclusive(services.db, "sweep") as alone:
            if not alone and not args.dry_run:
                print("sweep: another sweep is running; this one does nothing")
                return 0
            sweep = Sweep(automations, now=datetime.now(UTC), dry_run=args.dry_run)
            try:
                report = await sweep.run(tuple(args.only or JOBS))
            except (BillingError, IntercomError) as exc:
                print(f"sweep stopped: {type(exc).__name__}: {exc}")
                return 1
    finally:
        await services.stop()
    for line in report.lines():
        print(line)
    return 1 if report.failed else 0


async def run_setup_command(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.intercom_access_token.get_secret_value():
        print(NOT_CONFIGURED)
        return 2
    try:
        report = await set_up_workspace(settings, protect=args.protect)
    except IntercomError as exc:
        print(f"intercom-setup stopped: {type(exc).__name__}: {exc}")
        return 1
    for line in report.lines():
        print(line)
    return 1 if report.problems else 0
