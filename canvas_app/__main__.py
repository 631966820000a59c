"""Operator commands: `python -m canvas_app <command>`.

Each command lives with its feature and registers itself through `add_parser(subparsers)`;
this module only wires them together and builds the settings once.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys

from canvas_app.settings import SettingsError, load_settings

# Modules that contribute commands (each defines add_parser(subparsers) -> None and sets
# `func=async callable(settings, args) -> int` on its parser).
COMMAND_MODULES: list[str] = ["automations.cli", "actions.commands", "reporting.cli"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m canvas_app", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return asyncio.run(args.func(settings, args))


if __name__ == "__main__":
    raise SystemExit(main())
