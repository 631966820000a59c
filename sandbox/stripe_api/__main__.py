"""``python -m sandbox.stripe_api --port 12111 --api-key sk_test_sandbox``: seed and serve."""

from __future__ import annotations

import argparse

import uvicorn

from .seed import seed_demo_world
from .server import create_stripe_app
from .state import StripeState


def main() -> None:
    """Parse flags, seed the demo world, serve on loopback."""
    ap = argparse.ArgumentParser(description="Sandbox Stripe API (stateful, in memory)")
    ap.add_argument("--port", type=int, default=12111)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--api-key", default="sk_test_sandbox")
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--sepa-settlement-seconds", type=int, default=120)
    ap.add_argument("--public-base-url", default=None)
    ap.add_argument("--webhook-url", default=None)
    ap.add_argument("--webhook-secret", default="whsec_sandbox")
    args = ap.parse_args()
    endpoints = (
        [{"url": args.webhook_url, "secret": args.webhook_secret}] if args.webhook_url else []
    )
    state = StripeState(
        latency_ms=args.latency_ms,
        sepa_settlement_seconds=args.sepa_settlement_seconds,
        public_base_url=args.public_base_url or f"http://{args.host}:{args.port}",
        webhook_endpoints=endpoints,
    )
    seed_demo_world(state)
    uvicorn.run(
        create_stripe_app(state, api_key=args.api_key),
        host=args.host,
        port=args.port,
        log_level="info",
    )


if __name__ == "__main__":
    main()
