"""Claims and the audit trail of every action that moves money (or a customer's payment method):
refunds by Fin and agents, invoice retries, paying by card instead, plan switches.

Claims (`used_tokens`): whoever inserts the row for a key first is the one that calls Stripe, so
a double click, two tabs, two app instances or a replayed confirmation token never make the same
call twice. A claim ends `done` with its first result (replays answer with it), `failed` (the
outcome at Stripe is unknown: it may be taken again within a window, with the same idempotency
key), or is released (nothing happened: the key is free again). A claim still executing after its
lease belongs to a process that died mid-call; the next caller takes it over.

The audit trail (`audit_log`): each attempt is a row written *before* Stripe is called
(`pending`) and finished afterwards (`succeeded`, `refused` or `failed`), so a crash in between
still leaves a trace. Rows are only ever appended and finished, never deleted.
"""

from storage.actions.records import (
    ACTOR_TYPES,
    Actor,
    ActorType,
    Attempt,
    AuditEntry,
    Claim,
    History,
    Outcome,
    Slot,
)
from storage.actions.store import ActionStore

__all__ = [
    "ACTOR_TYPES",
    "ActionStore",
    "Actor",
    "ActorType",
    "Attempt",
    "AuditEntry",
    "Claim",
    "History",
    "Outcome",
    "Slot",
]
