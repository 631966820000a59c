"""``python -m sandbox.intercom_api --port 12112 --token tok_sandbox``: serve the seeded sandbox."""

from __future__ import annotations

import argparse

import uvicorn

from . import IntercomState, create_intercom_app, seed_demo_workspace


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run uvicorn in the foreground."""
    parser = argparse.ArgumentParser(description="Sandbox Intercom REST API (2.14)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12112)
    parser.add_argument("--token", default="tok_sandbox", help="accepted Bearer access token")
    parser.add_argument("--empty", action="store_true", help="start without the demo seed")
    args = parser.parse_args(argv)
    state = IntercomState()
    if not args.empty:
        seed_demo_workspace(state)
    app = create_intercom_app(state, access_token=args.token)
    print(f"sandbox Intercom on http://{args.host}:{args.port} (token {args.token})")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
