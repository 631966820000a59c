"""Sandbox Stripe: a stateful in-memory Stripe API (2026-10-28.endive) for tests and the demo.

state = StripeState()
seed_demo_world(state)
app = create_stripe_app(state, api_key="sk_test_sandbox")
"""

from sandbox.serving import serve_in_thread

from .seed import seed_demo_world
from .server import create_stripe_app
from .state import StripeState

__all__ = ["StripeState", "create_stripe_app", "seed_demo_world", "serve_in_thread"]
