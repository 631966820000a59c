"""Run the simulator alone, in front of any running copy of the app (`make demo` starts it with
the sandboxes already):

    INTERCOM_CLIENT_SECRET=... python -m sandbox.simulator --app-url http://127.0.0.1:8000

The client secret comes from the environment, never the command line (other users can read
process arguments).
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from . import SimulatorConfig, create_simulator_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.simulator", description=__doc__)
    parser.add_argument("--app-url", required=True, help="the app's base URL")
    parser.add_argument("--port", type=int, default=12120)
    parser.add_argument("--intercom-url", help="sandbox Intercom (contacts, activity)")
    parser.add_argument("--intercom-token", help="its access token")
    parser.add_argument("--stripe-url", help="sandbox Stripe (for 'Settle SEPA debits')")
    args = parser.parse_args(argv)
    secret = os.environ.get("INTERCOM_CLIENT_SECRET", "")
    if not secret:
        print(
            "Set INTERCOM_CLIENT_SECRET: the simulator signs every request with it.",
            file=sys.stderr,
        )
        return 2
    config = SimulatorConfig(
        app_url=args.app_url,
        client_secret=secret,
        intercom_url=args.intercom_url,
        intercom_token=args.intercom_token,
        stripe_url=args.stripe_url,
    )
    print(
        f"Intercom simulator: http://127.0.0.1:{args.port}  (playing Intercom for {args.app_url})"
    )
    uvicorn.run(create_simulator_app(config), host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
