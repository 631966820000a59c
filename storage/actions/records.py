"""The records of the action store: who acts (`Actor`), a claim as its caller found it (`Claim`),
an attempt to write to the audit trail (`Attempt`) and the rows read back (`AuditEntry`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from storage.database import as_utc

ActorType = Literal["customer", "admin", "fin", "system"]
ACTOR_TYPES: tuple[ActorType, ...] = ("customer", "admin", "fin", "system")
Outcome = Literal["pending", "succeeded", "refused", "failed"]
ClaimStatus = Literal["executing", "done", "failed"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a customer in the Messenger (Intercom contact id), an agent (admin id), Fin (no
    id) or the app itself; and in which conversation, if any."""

    type: ActorType
    id: str | None = None
    conversation_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.type}:{self.id}" if self.id else self.type


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim as this caller found it. `owned`: this caller holds it now and calls Stripe
    (`retry`: taken over from a failed or dead execution). Otherwise `status` says what the
    holder is doing and `result` is what it recorded when it finished."""

    key: str
    kind: str
    status: ClaimStatus
    claimed_at: datetime
    result: dict[str, Any] | None = None
    finished_at: datetime | None = None
    owned: bool = False
    retry: bool = False

    @property
    def settled(self) -> bool:
        return self.status != "executing"

    @classmethod
    def of_row(cls, row: Any) -> Claim:
        """The claim as a `used_tokens` row holds it (owned by nobody in particular)."""
        return cls(
            key=row.token_id,
            kind=row.kind,
            status=row.status,
            claimed_at=as_utc(row.claimed_at),
            result=json.loads(row.result) if row.result else None,
            finished_at=as_utc(row.finished_at) if row.finished_at else None,
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who wants to do what to whose money (amounts in minor units), and why."""

    actor: Actor
    action: str  # refund | invoice_retry | payment_method_update | subscription_update
    customer_id: str
    object_id: str | None  # the charge, invoice, subscription or payment method acted on
    amount: int | None = None
    currency: str | None = None
    reason: str | None = None
    token_id: str | None = None

    def __post_init__(self) -> None:
        # Money is an amount with its currency, or nothing: never one without the other.
        if (self.amount is None) != (self.currency is None):
            raise ValueError("an attempt's amount and currency go together")


@dataclass(frozen=True, slots=True)
class Slot:
    """A started attempt. `allowed` is False when the per-customer limit refused it (the row is
    then already finished as `refused`)."""

    entry_id: int
    allowed: bool


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    created_at: datetime
    actor_type: str
    actor_id: str | None
    conversation_id: str | None
    action: str
    customer_id: str | None
    object_id: str | None
    amount: int | None
    currency: str | None
    reason: str | None
    outcome: str
    stripe_id: str | None
    error_code: str | None
    token_id: str | None
    finished_at: datetime | None

    @classmethod
    def of_row(cls, row: Any) -> AuditEntry:
        return cls(
            id=row.id,
            created_at=as_utc(row.created_at),
            actor_type=row.actor_type,
            actor_id=row.actor_id,
            conversation_id=row.conversation_id,
            action=row.action,
            customer_id=row.customer_id,
            object_id=row.object_id,
            amount=row.amount,
            currency=row.currency,
            reason=row.reason,
            outcome=row.outcome,
            stripe_id=row.stripe_id,
            error_code=row.error_code,
            token_id=row.token_id,
            finished_at=as_utc(row.finished_at) if row.finished_at else None,
        )

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}
        for name in ("created_at", "finished_at"):
            if data[name] is not None:
                data[name] = data[name].strftime("%Y-%m-%dT%H:%M:%SZ")
        return data


@dataclass(frozen=True, slots=True)
class History:
    """What earlier attempts tell the next one: when one last reached the bank for the object,
    and which attempts under a claim key (or a later generation of it) found Stripe unreachable
    (the token used, when)."""

    last_attempt_at: datetime | None
    unreachable: tuple[tuple[str, datetime], ...]
