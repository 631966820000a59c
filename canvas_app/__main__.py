"""Operator commands: `python -m canvas_app <command>`.

Each command lives with its feature and adds itself through `add_parser(subparsers)`, setting
`func=async callable(settings, args) -> int` on its parser; this module lists them, builds the
settings once and runs the chosen one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from actions import commands as fin_commands
from automations import cli as automation_commands
from kernel.settings import SettingsError, load_settings
from reporting import cli as report_commands

# The operator commands, in the order `--help` lists them.
COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    automation_commands.add_parser,
    fin_commands.add_parser,
    report_commands.add_parser,
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m canvas_app", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for add_parser in COMMANDS:
        add_parser(subparsers)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return asyncio.run(args.func(settings, args))


if __name__ == "__main__":
    raise SystemExit(main())
