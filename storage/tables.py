"""The tables, as SQLAlchemy Core metadata. Their history lives in `storage.migrations`:
a change here needs a new migration there, never an edit of an applied one."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

# Every money-moving attempt (refund, plan switch, invoice retry), whoever asked for it.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor_type", sa.String(20), nullable=False),  # fin | admin | customer | system
    sa.Column("actor_id", sa.String(100)),
    sa.Column("conversation_id", sa.String(100)),
    sa.Column(
        "action", sa.String(40), nullable=False
    ),  # refund | subscription_update | invoice_retry
    sa.Column("customer_id", sa.String(100), index=True),
    sa.Column("object_id", sa.String(100), index=True),  # charge, invoice or subscription id
    sa.Column("amount", sa.BigInteger),
    sa.Column("currency", sa.String(3)),
    sa.Column("reason", sa.String(500)),
    sa.Column("outcome", sa.String(20), nullable=False),  # pending | succeeded | refused | failed
    sa.Column("stripe_id", sa.String(100)),  # refund, invoice or subscription id from Stripe
    sa.Column("error_code", sa.String(100)),
    sa.Column("token_id", sa.String(100), index=True),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

# Single-use confirmation tokens: a row is claimed before Stripe is called; its result is kept
# so that replaying the token returns the first answer instead of moving money again.
used_tokens = sa.Table(
    "used_tokens",
    metadata,
    sa.Column("token_id", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # executing | done | failed
    sa.Column("result", sa.Text),  # JSON of the first answer
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

# Every Stripe webhook event, once by id, with what became of it.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("event_id", sa.String(100), primary_key=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("customer_id", sa.String(100), index=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("handled_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("outcome", sa.String(40)),  # handled | ignored | no_contact | failed
    sa.Column("error", sa.String(500)),
)

# Effects that must happen once (a note, a VIP flag, an escalation), keyed by what they are about.
automation_marks = sa.Table(
    "automation_marks",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("detail", sa.String(500)),
)

# The Stripe-hosted page (Checkout or Billing Portal session) each payment link opened, so that
# hitting `/l/<token>` again reuses it while it is open; and how many it opened (a bound).
# `link_id` is a hash of the link's token: the token itself (a capability) is never stored.
link_sessions = sa.Table(
    "link_sessions",
    metadata,
    sa.Column("link_id", sa.String(64), primary_key=True),
    sa.Column("flow", sa.String(20)),  # checkout | portal
    sa.Column("session_id", sa.String(255)),
    sa.Column("url", sa.Text),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("sessions_created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Every invoice whose payment failed, as the webhooks told us (recorded since migration 3), and
# how it ended: the facts the recovery report needs that `webhook_events` doesn't keep.
payment_failures = sa.Table(
    "payment_failures",
    metadata,
    sa.Column("invoice_id", sa.String(100), primary_key=True),
    sa.Column("customer_id", sa.String(100), index=True),
    sa.Column("amount", sa.BigInteger, nullable=False),  # what was due, minor units
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("method_type", sa.String(40)),  # sepa_debit | card | ...
    sa.Column("failure_code", sa.String(100)),  # Stripe's code (insufficient_funds, card_declined)
    sa.Column("decline_code", sa.String(100)),  # a card issuer's decline code, if any
    sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, server_default="1"),
    sa.Column("last_event_id", sa.String(100)),  # the failure event counted last (redeliveries)
    sa.Column("resolution", sa.String(20)),  # None (open) | paid | voided | uncollectible
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("amount_paid", sa.BigInteger),
)
