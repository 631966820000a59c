"""Stripe webhooks → Intercom (PRODUCT.md §1.5): the recipes, the sweep, the Intercom gateway."""
