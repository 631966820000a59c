"""Retry a failed invoice, for a customer in the Messenger or an agent in the sidebar.

A retry is refused while a payment for the invoice is processing (SEPA takes days) and within
the cool-down after our last attempt; of two simultaneous clicks exactly one reaches Stripe (the
claim on `retry:<invoice>:<latest charge>`); "Stripe unreachable" gives the claim back, so trying
again later works, and exactly once. `collect` is the one place that calls `invoices.pay`: the
pay-by-card flow (`billing.payment_method`) goes through it too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from billing.errors import NotFound, StripeRejected, StripeUnavailable
from billing.failed_invoices import (
    RETRY_ACTION,
    InvoiceRecovery,
    attempt_keys,
    failed_invoice_id,
    load_invoice,
    reload_invoice,
)
from billing.money import Money
from gateways.stripe import StripeGateway
from storage.actions import ActionStore, Actor, Attempt

RetryKind = Literal[
    "paid",  # collected now
    "processing",  # submitted; the bank takes days (SEPA)
    "declined",  # attempted and declined right away
    "rejected",  # Stripe refused before attempting (e.g. no usable payment method)
    "already_paid",
    "still_processing",  # refused: an earlier payment is still processing
    "cooldown",  # refused: we tried within the cool-down
    "in_progress",  # another click holds this attempt
    "changed",  # refused: not the invoice, or the amount, that the customer was shown
    "not_payable",  # nothing failed (not attempted yet, void, uncollectible)
    "unavailable",  # Stripe unreachable: nothing was charged
]
# A declined attempt that left no new charge spends its key at Stripe (which replays the
# decline for it); the next attempt then takes the next generation of the key. Bounded, so a
# broken store can't loop forever.
MAX_KEY_GENERATIONS = 20
# How long a click waits for another click's attempt at the same invoice to finish (a card
# payment takes a moment; a SEPA debit is "processing" as soon as it is submitted).
HELD_WAIT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class RetryResult:
    kind: RetryKind
    invoice: InvoiceRecovery
    retry_after: datetime | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ShownInvoice:
    """What a recovery card showed the customer: which invoice, and how much it owed."""

    invoice_id: str
    amount: Money


def not_retryable(invoice: InvoiceRecovery) -> RetryResult | None:
    """What a retry of `invoice` answers without trying: None while it is failed."""
    if invoice.state == "failed":
        return None
    return _paid_or_processing(invoice) or RetryResult("not_payable", invoice)


def _paid_or_processing(invoice: InvoiceRecovery) -> RetryResult | None:
    """The answer for an invoice that is paid, or whose payment is processing."""
    if invoice.state == "paid":
        return RetryResult("already_paid", invoice)
    if invoice.state == "processing":
        return RetryResult("still_processing", invoice)
    return None


async def retry_shown_invoice(
    gateway: StripeGateway,
    store: ActionStore,
    *,
    customer_id: str,
    shown: ShownInvoice | None,
    actor: Actor,
    cooldown: timedelta,
) -> RetryResult | None:
    """The Messenger's "Retry payment": pay the customer's failed invoice only if it is the one,
    for the amount, that the pressed card showed (`shown`); otherwise pay nothing and answer
    "changed" with the invoice as it is now. None: nothing has failed (any more)."""
    invoice_id = await failed_invoice_id(gateway, customer_id)
    if invoice_id is None:
        return None
    if shown is None or shown.invoice_id != invoice_id:
        return RetryResult("changed", await load_invoice(gateway, invoice_id))
    return await retry_invoice(
        gateway,
        store,
        invoice_id=invoice_id,
        customer_id=customer_id,
        actor=actor,
        cooldown=cooldown,
        expected_amount=shown.amount,
    )


async def retry_invoice(
    gateway: StripeGateway,
    store: ActionStore,
    *,
    invoice_id: str,
    customer_id: str,
    actor: Actor,
    cooldown: timedelta,
    now: datetime | None = None,
    expected_amount: Money | None = None,
) -> RetryResult:
    """Ask Stripe to collect a failed invoice again (`invoices.pay`), at most once per attempt.
    `expected_amount`: what the customer was shown; if the invoice now owes something else,
    nothing is paid ("changed")."""
    now = now or datetime.now(UTC)
    invoice = await load_invoice(gateway, invoice_id)
    if invoice.customer_id != customer_id:
        raise NotFound("No such invoice for this customer.")
    if (refused := not_retryable(invoice)) is not None:
        return refused
    if expected_amount is not None and invoice.amount != expected_amount:
        return RetryResult("changed", invoice)

    # The claim comes first: of two simultaneous clicks exactly one gets past it, whatever the
    # timing of the checks below.
    claimed = await _claim_retry(gateway, store, invoice, now=now)
    if isinstance(claimed, RetryResult):
        return claimed
    key = claimed
    history = await store.history(action=RETRY_ACTION, object_id=invoice_id, key=key)
    attempt = Attempt(
        actor=actor,
        action=RETRY_ACTION,
        customer_id=customer_id,
        object_id=invoice_id,
        amount=invoice.amount.amount,
        currency=invoice.amount.currency,
        reason="retry",
    )
    last = history.last_attempt_at
    if last is not None and now < last + cooldown:
        await store.release(key, refused=replace(attempt, reason="cool-down"))
        current = await reload_invoice(gateway, invoice)
        return _paid_or_processing(current) or RetryResult(
            "cooldown", current, retry_after=last + cooldown
        )
    token, idempotency_key = attempt_keys(history, key, key, now=now)
    slot = await store.begin(replace(attempt, token_id=token), now=now)
    return await collect(gateway, store, invoice, idempotency_key, {}, slot.entry_id, claim_key=key)


async def _claim_retry(
    gateway: StripeGateway, store: ActionStore, invoice: InvoiceRecovery, *, now: datetime
) -> str | RetryResult:
    """Claim the next attempt at `invoice`: the claim key won, or what to answer instead.

    A claim still executing, or done with a payment (paid, processing), answers "in_progress".
    A claim done with a decline never blocks a later attempt: if the invoice now shows a newer
    charge, this click raced the declined one and gets its outcome; if not, the decline left
    no charge and the next generation of the key is a fresh attempt."""
    base = invoice.retry_key
    for generation in range(1, MAX_KEY_GENERATIONS + 1):
        key = base if generation == 1 else f"{base}:g{generation}"
        held = await store.claim(key, RETRY_ACTION, now=now)
        if held.owned:
            return key
        if held.status != "done" or (held.result or {}).get("kind") != "declined":
            return await _held_elsewhere(gateway, store, invoice, key)
        current = await reload_invoice(gateway, invoice)
        if (refused := not_retryable(current)) is not None:
            return refused
        if current.latest_charge_id != invoice.latest_charge_id:
            return RetryResult("declined", current)
    return RetryResult("in_progress", invoice)


async def _held_elsewhere(
    gateway: StripeGateway, store: ActionStore, invoice: InvoiceRecovery, key: str
) -> RetryResult:
    """Another click holds this attempt. Its outcome is told from the invoice as it is after
    that attempt, not as this click saw it before: "processing" is never said of an invoice
    that the other click has just paid by card."""
    held = await store.wait_until_settled(key, within=HELD_WAIT_SECONDS)
    current = await reload_invoice(gateway, invoice)
    if (settled := _paid_or_processing(current)) is not None:
        return settled
    if held is not None and not held.settled:
        return RetryResult("in_progress", current)  # still running: it shows in a moment
    if current.state == "failed" and current.latest_charge_id != invoice.latest_charge_id:
        return RetryResult("declined", current)  # the other click's attempt was declined
    if current.state != "failed":
        return RetryResult("not_payable", current)
    return RetryResult("rejected", current)  # it reached nobody: nothing was charged


async def collect(
    gateway: StripeGateway,
    store: ActionStore,
    invoice: InvoiceRecovery,
    idempotency_key: str,
    params: dict[str, Any],
    entry_id: int,
    *,
    claim_key: str,
) -> RetryResult:
    """Call `invoices.pay` under a claim already won (its audit row `entry_id` begun), then
    settle both with what came of it."""
    try:
        paid = await gateway.pay_invoice(
            invoice.invoice_id, params, idempotency_key=idempotency_key
        )
    except StripeUnavailable:
        await store.settle(
            claim_key, entry_id, "failed", result=None, error_code="stripe_unavailable"
        )
        return RetryResult("unavailable", invoice)
    except StripeRejected as exc:
        after = await reload_invoice(gateway, invoice)
        declined = exc.code == "card_declined"  # the bank said no: that was an attempt
        if not declined and after.latest_charge_id == invoice.latest_charge_id:
            # Refused before any attempt (no usable payment method, a payment still
            # processing, ...): nothing reached the bank, so the key is free again.
            await store.settle(
                claim_key, entry_id, "refused", result=None, error_code=exc.code, reason=str(exc)
            )
            return _paid_or_processing(after) or RetryResult("rejected", after, message=str(exc))
        if after is invoice:  # declined, but Stripe can't show us the invoice right now
            after = replace(invoice, failure_code=exc.code, failure_message=None)
        return await _settle(store, after, claim_key, entry_id)
    after = await reload_invoice(gateway, invoice)
    if after.state in ("failed", "open") and paid.status == "paid":
        after = replace(after, state="paid")
    elif after is invoice:  # the re-read failed; judge by what `pay` returned
        after = replace(invoice, state="paid" if paid.status == "paid" else "processing")
    return await _settle(store, after, claim_key, entry_id)


async def _settle(
    store: ActionStore, after: InvoiceRecovery, key: str, entry_id: int
) -> RetryResult:
    kind: RetryKind
    if after.state == "paid":
        kind = "paid"
    elif after.state == "processing":
        kind = "processing"
    else:
        kind = "declined"
    if kind == "declined":
        await store.settle(
            key,
            entry_id,
            "failed",
            result={"kind": kind},
            error_code=after.failure_code or "declined",
        )
    else:
        await store.settle(
            key, entry_id, "succeeded", result={"kind": kind}, stripe_id=after.invoice_id
        )
    return RetryResult(kind, after)
