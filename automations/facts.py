"""What the recipes work with: the Intercom effects they ask for, and the billing facts read fresh
from Stripe that they decide on. Plain values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from billing.money import Money
from billing.sepa import SepaReason, sepa_reason

MAX_EVENT_METADATA_KEYS = 10  # Intercom ignores keys beyond the tenth
MAX_METADATA_STRING = 255


# --- effects -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SetAttributes:
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AddTag:
    name: str


@dataclass(frozen=True, slots=True)
class RemoveTag:
    name: str


@dataclass(frozen=True, slots=True)
class TrackEvent:
    """A data event. `created_at` makes repeats harmless (Intercom de-duplicates on it); with a
    `once_key` the event is sent once ever, and a retry reuses the first attempt's time."""

    name: str
    created_at: int
    metadata: Mapping[str, Any]
    once_key: str | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """A note for the team on the contact, written once per `key`."""

    key: str
    body: str


Effect = SetAttributes | AddTag | RemoveTag | TrackEvent | Note


# --- facts read from Stripe ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PaymentFailure:
    """Why a payment failed, as Stripe reports it."""

    code: str | None
    method_type: str | None  # "sepa_debit", "card", ...
    failed_at: datetime

    @property
    def sepa(self) -> SepaReason | None:
        return sepa_reason(self.code) if self.method_type == "sepa_debit" else None

    @property
    def label(self) -> str:
        """`insufficient_funds (AM04)` for SEPA, Stripe's code otherwise."""
        code = self.code or "unknown"
        reason = self.sepa
        return f"{code} ({reason.code})" if reason else code


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """An invoice as Stripe has it now."""

    id: str
    number: str | None
    status: str  # draft | open | paid | uncollectible | void
    amount_remaining: Money
    attempt_count: int
    hosted_invoice_url: str | None
    next_payment_attempt: datetime | None = None
    last_failure: PaymentFailure | None = None
    first_failed_at: datetime | None = None

    @property
    def failed_and_open(self) -> bool:
        return self.status == "open" and self.attempt_count > 0


@dataclass(frozen=True, slots=True)
class SepaReturn:
    """A SEPA direct debit that came back, from the payment intent's current state."""

    payment_intent_id: str
    amount: Money
    failure: PaymentFailure


@dataclass(frozen=True, slots=True)
class UsageReading:
    """Metered usage against the plan's limit (limit 0: unknown)."""

    used: float
    limit: int
    meter_id: str | None
    period_start: datetime | None
    period_end: datetime | None

    @property
    def ratio(self) -> float | None:
        return self.used / self.limit if self.limit else None


@dataclass(slots=True)
class Decision:
    """The effects one trigger asks for (and a word on why, for logs and `--dry-run`)."""

    effects: list[Effect] = field(default_factory=list)
    reason: str = ""


def event_metadata(values: Mapping[str, Any]) -> dict[str, Any]:
    """Flat, at most 10 keys, no empty values; strings cut to Intercom's 255 characters.
    Intercom's metadata types: numbers as JSON numbers, dates as Unix timestamps under keys
    ending in `_date`, money `{amount, currency}`, rich links `{url, value}`."""
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        kept[key] = value[:MAX_METADATA_STRING] if isinstance(value, str) else value
        if len(kept) == MAX_EVENT_METADATA_KEYS:
            break
    return kept
