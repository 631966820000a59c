"""Sandbox Stripe: a stateful in-memory Stripe API (2026-10-28.endive) for tests and the demo.

state = StripeState()
seed_demo_world(state)
app = create_stripe_app(state, api_key="sk_test_sandbox")

What it serves (the official ``stripe`` SDK talks to it unchanged):

- customers (create, update incl. ``address``/``shipping``, list, search, ``expand[]=tax_ids``),
  their tax ids (``/v1/customers/{id}/tax_ids``: create, list, retrieve, delete; formats checked,
  ``tax_id_invalid``; EU/UK VAT ``pending`` then ``verified``);
- products, prices; subscriptions: retrieve, list, update (items and prorations, pending
  updates, ``cancel_at_period_end``/``cancel_at``, ``cancellation_details``,
  ``pause_collection``, ``discounts``), cancel now (``prorate``, ``invoice_now``);
- coupons (create, retrieve, update, list, delete) and discounts on subscriptions and invoices;
- invoices: list (``customer``, ``status``, ``subscription``; newest first), retrieve, lines,
  pay, ``create_preview`` (with ``subscription_details`` and ``discounts``); every finalized
  invoice has a number, a hosted page and a PDF (``/invoices/{id}``, ``/invoices/{id}/pdf``);
- payment methods, charges, payment intents, setup intents, invoice payments, refunds;
- Checkout (setup mode) and the Billing Portal (configurations, sessions, flows and the hosted
  page of ``portal_pages``); billing meters and meter events; events;
- time: ``/_sandbox/clock/advance`` settles SEPA debits, warns of trial ends, renews
  subscriptions (paused collection, discounts), ends scheduled cancellations.

Webhooks are signed like Stripe's and carry ``previous_attributes`` on ``*.updated`` events.
Simplifications are noted in each module's docstring.
"""

from sandbox.serving import serve_in_thread

from .seed import seed_demo_world
from .server import create_stripe_app
from .state import StripeState

__all__ = ["StripeState", "create_stripe_app", "seed_demo_world", "serve_in_thread"]
