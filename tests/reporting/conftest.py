"""The automations' world (app + both sandboxes, signed Stripe events) for the metrics tests."""

from tests.automations.conftest import loop, make_loop

__all__ = ["loop", "make_loop"]
