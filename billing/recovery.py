"""Self-service that moves money, for a customer in the Messenger or an agent in the sidebar:
retry a failed invoice, pay it by card instead, confirm a quoted plan switch.

Every action here is safe to trigger twice:
- a retry is refused while a payment for the invoice is processing (SEPA takes days) and within
  the cool-down after our last attempt;
- each Stripe call that moves money is claimed first (`storage.customer_actions.claim`), so of
  two simultaneous clicks only one reaches Stripe, and it carries an idempotency key derived from
  what it is about (invoice + its latest charge, invoice + checkout session, quote id);
- "Stripe unreachable" gives the claim back and is recorded as such, so trying again later
  works, and exactly once.
Each attempt leaves an `audit_log` row, like refunds do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from billing.errors import BillingError, NotFound, StripeRejected, StripeUnavailable
from billing.money import Money, to_datetime
from billing.quotes import PlanChangeQuote, TargetPrice, apply_plan_change
from billing.sepa import SepaReason, sepa_reason
from billing.snapshot import LIVE_STATUSES, Plan
from gateways.stripe import StripeGateway, gather_all, id_of, in_flight_elsewhere
from storage import Database
from storage import customer_actions as actions
from storage.customer_actions import Actor
from storage.tokens import UsedTokens

RETRY_ACTION = "invoice_retry"
PAYMENT_METHOD_ACTION = "payment_method_update"
SWITCH_ACTION = "subscription_update"

PaymentState = Literal["failed", "processing", "paid", "open", "closed"]
# Stripe keeps the answer to an idempotency key once the request started executing, 500s
# included, for at least 24 h. After "Stripe unreachable", the next attempt reuses the key within
# this window (the first request may still be running: Stripe then answers with its outcome) and
# takes a new generation of it afterwards, when the re-read invoice proves nothing happened.
REPLAY_WINDOW = timedelta(minutes=1)


# --- what failed ---
@dataclass(frozen=True, slots=True)
class InvoiceRecovery:
    """An invoice and its latest payment attempt, as the recovery card and the retry see it."""

    invoice_id: str
    customer_id: str
    number: str | None
    amount: Money  # still owed; for a paid invoice, what was paid
    created: datetime
    attempt_count: int
    subscription_id: str | None
    state: PaymentState
    failure_code: str | None = None  # Stripe's code; for a declined card, the decline code
    failure_message: str | None = None
    method_type: str | None = None  # "sepa_debit", "card", ...
    payment_method_id: str | None = None
    failed_at: datetime | None = None
    latest_charge_id: str | None = None  # the latest attempt's charge: a new one per attempt

    @property
    def is_sepa(self) -> bool:
        return self.method_type == "sepa_debit"

    @property
    def sepa_reason(self) -> SepaReason | None:
        return sepa_reason(self.failure_code) if self.is_sepa else None

    @property
    def retry_key(self) -> str:
        """Stable across double clicks; each attempt that reached the bank leaves a new charge,
        so the next attempt gets a new key. (Not `attempt_count`: Stripe counts the first attempt
        and its automatic retries only, never a manual `invoices.pay` after the first.)"""
        return f"retry:{self.invoice_id}:{self.latest_charge_id or 'none'}"


async def load_invoice(gateway: StripeGateway, invoice_id: str) -> InvoiceRecovery:
    """The invoice and its latest payment (two round trips: invoice with payments, then the
    payment intent with its latest charge)."""
    invoice = await gateway.retrieve_invoice(invoice_id, expand=["payments"])
    payments = [
        p
        for p in (invoice.payments.data if getattr(invoice, "payments", None) else [])
        if getattr(p.payment, "type", None) == "payment_intent"
    ]
    latest = max(payments, key=lambda p: p.created) if payments else None
    intent = (
        await gateway.retrieve_payment_intent(id_of(latest.payment.payment_intent))
        if latest is not None
        else None
    )
    return _recovery(invoice, intent)


async def failed_invoice_id(gateway: StripeGateway, customer_id: str) -> str | None:
    """The customer's newest open invoice that Stripe already tried to collect."""
    invoices = await gateway.list_invoices(customer_id, status="open")
    attempted = [i for i in invoices if (i.attempt_count or 0) > 0]
    return attempted[0].id if attempted else None


def _recovery(invoice: Any, intent: Any | None) -> InvoiceRecovery:
    latest = getattr(intent, "latest_charge", None) if intent is not None else None
    charge = None if isinstance(latest, str) else latest
    error = getattr(intent, "last_payment_error", None) if intent is not None else None
    status = invoice.status
    if status == "paid":
        state: PaymentState = "paid"
    elif status != "open":
        state = "closed"
    elif (intent is not None and intent.status == "processing") or (
        charge is not None and charge.status == "pending"
    ):
        state = "processing"
    elif (invoice.attempt_count or 0) > 0:
        state = "failed"
    else:
        state = "open"

    code = message = None
    if state == "failed":
        if charge is not None and charge.failure_code:
            code, message = charge.failure_code, charge.failure_message
            decline = getattr(error, "decline_code", None) if error is not None else None
            if code == "card_declined" and decline:
                # The decline code says why in words people know. (Not `outcome.reason`: that
                # is Radar's, e.g. "highest_risk_level" for a payment Radar blocked.)
                code = decline
        elif error is not None:
            code = getattr(error, "decline_code", None) or error.code
            message = error.message
    method_type = None
    if charge is not None and charge.payment_method_details is not None:
        method_type = charge.payment_method_details.type
    elif intent is not None and intent.payment_method_types:
        method_type = intent.payment_method_types[0]
    parent = invoice.parent
    sub_details = getattr(parent, "subscription_details", None) if parent else None
    amount = invoice.amount_paid if state == "paid" else invoice.amount_remaining
    return InvoiceRecovery(
        invoice_id=invoice.id,
        customer_id=id_of(invoice.customer) or "",
        number=invoice.number,
        amount=Money(amount, invoice.currency),
        created=to_datetime(invoice.created) or datetime.now(UTC),
        attempt_count=invoice.attempt_count or 0,
        subscription_id=id_of(sub_details.subscription) if sub_details else None,
        state=state,
        failure_code=code,
        failure_message=message,
        method_type=method_type,
        payment_method_id=id_of(getattr(intent, "payment_method", None)) if intent else None,
        failed_at=to_datetime(charge.created) if charge is not None else None,
        latest_charge_id=id_of(latest),
    )


# --- retry ---
RetryKind = Literal[
    "paid",  # collected now
    "processing",  # submitted; the bank takes days (SEPA)
    "declined",  # attempted and declined right away
    "rejected",  # Stripe refused before attempting (e.g. no usable payment method)
    "already_paid",
    "still_processing",  # refused: an earlier payment is still processing
    "cooldown",  # refused: we tried within the cool-down
    "in_progress",  # another click holds this attempt
    "changed",  # refused: the amount is no longer the one the customer was shown
    "not_payable",  # nothing failed (not attempted yet, void, uncollectible)
    "unavailable",  # Stripe unreachable: nothing was charged
]


@dataclass(frozen=True, slots=True)
class RetryResult:
    kind: RetryKind
    invoice: InvoiceRecovery
    retry_after: datetime | None = None
    message: str | None = None


async def retry_invoice(
    gateway: StripeGateway,
    db: Database,
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
    if invoice.state == "paid":
        return RetryResult("already_paid", invoice)
    if invoice.state == "processing":
        return RetryResult("still_processing", invoice)
    if invoice.state != "failed":
        return RetryResult("not_payable", invoice)
    if expected_amount is not None and invoice.amount != expected_amount:
        return RetryResult("changed", invoice)

    # The claim comes first: of two simultaneous clicks exactly one gets past it, whatever the
    # timing of the checks below.
    claimed = await _claim_retry(gateway, db, invoice, now=now)
    if isinstance(claimed, RetryResult):
        return claimed
    key = claimed
    last = await actions.last_attempt_at(db, action=RETRY_ACTION, object_id=invoice_id)
    if last is not None and now < last + cooldown:
        await actions.release(db, key)
        await actions.record(
            db,
            actor=actor,
            action=RETRY_ACTION,
            customer_id=customer_id,
            object_id=invoice_id,
            amount=invoice.amount,
            outcome="refused",
            reason="cool-down",
        )
        current = await _reload(gateway, invoice)
        if current.state in ("processing", "paid"):
            kind: RetryKind = (
                "still_processing" if current.state == "processing" else "already_paid"
            )
            return RetryResult(kind, current)
        return RetryResult("cooldown", current, retry_after=last + cooldown)
    token, idempotency_key = await attempt_keys(db, key, key, now=now)
    row = await actions.record(
        db,
        actor=actor,
        action=RETRY_ACTION,
        customer_id=customer_id,
        object_id=invoice_id,
        amount=invoice.amount,
        reason="retry",
        token_id=token,
        now=now,
    )
    return await _pay(gateway, db, invoice, idempotency_key, {}, row, claim_key=key)


# A declined attempt that left no new charge spends its key at Stripe (which replays the
# decline for it); the next attempt then takes the next generation of the key. Bounded, so a
# broken store can't loop forever.
MAX_KEY_GENERATIONS = 20


async def _claim_retry(
    gateway: StripeGateway, db: Database, invoice: InvoiceRecovery, *, now: datetime
) -> str | RetryResult:
    """Claim the next attempt at `invoice`: the claim key won, or what to answer instead.

    A claim still executing, or done with a payment (paid, processing), answers "in_progress".
    A claim done with a decline never blocks a later attempt: if the invoice now shows a newer
    charge, this click raced the declined one and gets its outcome; if not, the decline left
    no charge and the next generation of the key is a fresh attempt."""
    base = invoice.retry_key
    for generation in range(1, MAX_KEY_GENERATIONS + 1):
        key = base if generation == 1 else f"{base}:g{generation}"
        held = await actions.claim(db, key, RETRY_ACTION, now=now)
        if held.won:
            return key
        if held.status != "done" or (held.result or {}).get("kind") != "declined":
            return await _held_elsewhere(gateway, db, invoice, key)
        current = await _reload(gateway, invoice)
        if current.state == "paid":
            return RetryResult("already_paid", current)
        if current.state == "processing":
            return RetryResult("still_processing", current)
        if current.state != "failed":
            return RetryResult("not_payable", current)
        if current.latest_charge_id != invoice.latest_charge_id:
            return RetryResult("declined", current)
    return RetryResult("in_progress", invoice)


# How long a click waits for another click's attempt at the same invoice to finish (a card
# payment takes a moment; a SEPA debit is "processing" as soon as it is submitted).
HELD_WAIT_SECONDS = 2.0


async def _held_elsewhere(
    gateway: StripeGateway, db: Database, invoice: InvoiceRecovery, key: str
) -> RetryResult:
    """Another click holds this attempt. Its outcome is told from the invoice as it is after
    that attempt, not as this click saw it before: "processing" is never said of an invoice
    that the other click has just paid by card."""
    record = await UsedTokens(db).wait_until_settled(key, within=HELD_WAIT_SECONDS)
    current = await _reload(gateway, invoice)
    if current.state == "paid":
        return RetryResult("already_paid", current)
    if current.state == "processing":
        return RetryResult("still_processing", current)
    if record is not None and not record.settled:
        return RetryResult("in_progress", current)  # still running: it shows in a moment
    if current.state == "failed" and current.latest_charge_id != invoice.latest_charge_id:
        return RetryResult("declined", current)  # the other click's attempt was declined
    if current.state != "failed":
        return RetryResult("not_payable", current)
    return RetryResult("rejected", current)  # it reached nobody: nothing was charged


async def attempt_keys(
    db: Database, claim_key: str, idempotency_key: str, *, now: datetime
) -> tuple[str, str]:
    """(audit token, Stripe idempotency key) for the next attempt at what `claim_key` names:
    the keys themselves, unless an earlier attempt found Stripe unreachable (`REPLAY_WINDOW`)."""
    failures = await actions.unreachable_attempts(db, token=claim_key)
    if not failures:
        return claim_key, idempotency_key
    last_token, last_at = max(failures, key=lambda failure: failure[1])
    if now - last_at < REPLAY_WINDOW:
        suffix = last_token.removeprefix(claim_key)
    else:
        suffix = f":r{len(failures)}"
    return claim_key + suffix, idempotency_key + suffix


async def _pay(
    gateway: StripeGateway,
    db: Database,
    invoice: InvoiceRecovery,
    key: str,
    params: dict[str, Any],
    row: int,
    *,
    claim_key: str,
) -> RetryResult:
    """Call `invoices.pay` under a claim already won, then record what came of it."""
    try:
        paid = await gateway.pay_invoice(invoice.invoice_id, params, idempotency_key=key)
    except StripeUnavailable:
        await actions.release(db, claim_key)
        await actions.finish(db, row, outcome="failed", error_code="stripe_unavailable")
        return RetryResult("unavailable", invoice)
    except StripeRejected as exc:
        after = await _reload(gateway, invoice)
        declined = exc.code == "card_declined"  # the bank said no: that was an attempt
        if not declined and after.latest_charge_id == invoice.latest_charge_id:
            # Refused before any attempt (no usable payment method, a payment still
            # processing, ...): nothing reached the bank, so the key is free again.
            await actions.release(db, claim_key)
            await actions.finish(db, row, outcome="refused", error_code=exc.code, reason=str(exc))
            if after.state == "processing":
                return RetryResult("still_processing", after)
            if after.state == "paid":
                return RetryResult("already_paid", after)
            return RetryResult("rejected", after, message=str(exc))
        if after is invoice:  # declined, but Stripe can't show us the invoice right now
            after = replace(invoice, failure_code=exc.code, failure_message=None)
        return await _settle(db, after, claim_key, row)
    after = await _reload(gateway, invoice)
    if after.state in ("failed", "open") and paid.status == "paid":
        after = replace(after, state="paid")
    elif after is invoice:  # the re-read failed; judge by what `pay` returned
        after = replace(invoice, state="paid" if paid.status == "paid" else "processing")
    return await _settle(db, after, claim_key, row)


async def _settle(db: Database, after: InvoiceRecovery, key: str, row: int) -> RetryResult:
    kind: RetryKind
    if after.state == "paid":
        kind = "paid"
    elif after.state == "processing":
        kind = "processing"
    else:
        kind = "declined"
    await actions.complete(db, key, {"kind": kind})
    if kind == "declined":
        await actions.finish(db, row, outcome="failed", error_code=after.failure_code or "declined")
    else:
        await actions.finish(db, row, outcome="succeeded", stripe_id=after.invoice_id)
    return RetryResult(kind, after)


async def _reload(gateway: StripeGateway, invoice: InvoiceRecovery) -> InvoiceRecovery:
    """The invoice after our call; the one we had if Stripe can't tell us right now."""
    try:
        return await load_invoice(gateway, invoice.invoice_id)
    except StripeUnavailable:
        return invoice


# --- pay by card instead (or add a card before a trial ends) ---
# Stripe gives a Billing Portal session no status; its URL is short-lived (minutes) and expires
# unless visited. A link reuses it within this time of its creation.
PORTAL_SESSION_REUSE = timedelta(minutes=4)
# A Checkout Session is reused only with this much of its life left (the customer needs time).
CHECKOUT_REUSE_MARGIN = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class CollectionPage:
    """A Stripe-hosted page that collects a payment method, and until when it may be reused."""

    url: str
    session_id: str | None
    reusable_until: datetime


async def start_card_collection(
    gateway: StripeGateway,
    *,
    flow: Literal["checkout", "portal"],
    customer_id: str,
    currency: str,
    card_only: bool,
    done_url: str,
    cancel_url: str,
    locale: str,
    metadata: dict[str, str],
) -> CollectionPage:
    """A Stripe-hosted page that collects a payment method: Checkout in setup mode, or the
    Billing Portal's payment-method flow."""
    if flow == "portal":
        session = await gateway.create_portal_session(
            {
                "customer": customer_id,
                "return_url": cancel_url,
                "locale": locale,
                "flow_data": {
                    "type": "payment_method_update",
                    "after_completion": {"type": "redirect", "redirect": {"return_url": done_url}},
                },
            }
        )
        created = to_datetime(session.created) or datetime.now(UTC)
        return CollectionPage(str(session.url), session.id, created + PORTAL_SESSION_REUSE)
    params: dict[str, Any] = {
        "mode": "setup",
        "customer": customer_id,
        # endive removed `payment_method_types`; setup mode needs `currency` (or an allow-list).
        "currency": currency,
        "success_url": f"{done_url}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": cancel_url,
        "locale": locale,
        "metadata": metadata,
        "setup_intent_data": {"metadata": metadata},
    }
    if card_only:
        params["allowed_payment_method_types"] = ["card"]
    session = await gateway.create_checkout_session(params)
    expires = to_datetime(session.expires_at) or datetime.now(UTC) + timedelta(hours=24)
    return CollectionPage(str(session.url), session.id, expires - CHECKOUT_REUSE_MARGIN)


async def open_collection_page(
    gateway: StripeGateway,
    *,
    flow: Literal["checkout", "portal"],
    session_id: str | None,
    url: str | None,
    reusable_until: datetime | None,
    now: datetime | None = None,
) -> str | None:
    """The URL of a hosted page a link opened earlier, if the customer can still use it: a
    Checkout Session that Stripe says is `open` (not complete or expired), or a Billing Portal
    session within `PORTAL_SESSION_REUSE` of its creation. None: open a new one."""
    now = now or datetime.now(UTC)
    if url is None or reusable_until is None or now >= reusable_until:
        return None
    if flow == "portal":
        return url
    if session_id is None:
        return None
    try:
        session = await gateway.retrieve_checkout_session(session_id)
    except NotFound:
        return None
    if session.status != "open" or not session.url:
        return None
    return str(session.url)


def collection_metadata(kind: str, invoice_id: str | None) -> dict[str, str]:
    """What a Checkout session we start carries, so its return can be matched to its link."""
    return {"kind": kind, **({"invoice": invoice_id} if invoice_id else {})}


async def collected_payment_method(
    gateway: StripeGateway,
    *,
    customer_id: str,
    session_id: str,
    kind: str,
    invoice_id: str | None,
) -> str | None:
    """The payment method the customer just added in Checkout: from a complete session of this
    customer that we started for this very link (kind and invoice, `collection_metadata`).
    None while the session isn't complete; NotFound for anyone else's session."""
    session = await gateway.retrieve_checkout_session(session_id)
    if id_of(session.customer) != customer_id:
        raise NotFound("This checkout session belongs to someone else.")
    metadata = session.metadata.to_dict() if session.metadata else {}
    if metadata.get("kind") != kind or (metadata.get("invoice") or None) != invoice_id:
        raise NotFound("This checkout session was started for something else.")
    intent = session.setup_intent
    if session.status != "complete" or intent is None or isinstance(intent, str):
        return None
    return id_of(intent.payment_method)


@dataclass(frozen=True, slots=True)
class NewPaymentMethod:
    """A payment method the customer added through the Billing Portal."""

    id: str
    type: str
    brand: str | None
    last4: str | None


async def portal_payment_method(
    gateway: StripeGateway,
    *,
    customer_id: str,
    issued_at: datetime,
    excluded: tuple[str | None, ...],
) -> NewPaymentMethod | None:
    """The Billing Portal leaves no session to show for itself, only the customer's new
    default payment method. It counts only if it is not one of `excluded` (the default when
    the link was issued, the one that failed) and was created since the link was issued
    (Stripe's `created` has whole seconds, hence "since", not "after"). Otherwise None: the
    customer hasn't added anything through this link, and nothing may be charged."""
    customer = await gateway.retrieve_customer(customer_id)
    settings = customer.invoice_settings
    pm_id = id_of(settings.default_payment_method if settings else None)
    if pm_id is None or pm_id in excluded:
        return None
    pm = await gateway.retrieve_payment_method(pm_id)
    if id_of(pm.customer) != customer_id or pm.created < int(issued_at.timestamp()):
        return None
    card = getattr(pm, "card", None)
    return NewPaymentMethod(
        id=pm.id,
        type=pm.type,
        brand=card.brand if card is not None else None,
        last4=card.last4 if card is not None else None,
    )


CardSwitchKind = Literal[
    "paid", "declined", "already_paid", "processing", "saved", "in_progress", "unavailable"
]


def _card_kind(retry_kind: str) -> CardSwitchKind:
    """How a payment attempt's outcome reads on the pay-by-card page."""
    if retry_kind == "paid":
        return "paid"
    if retry_kind in ("processing", "still_processing"):
        return "processing"
    if retry_kind == "unavailable":
        return "unavailable"
    if retry_kind == "already_paid":
        return "already_paid"
    if retry_kind == "in_progress":
        return "in_progress"
    return "declined"


@dataclass(frozen=True, slots=True)
class CardSwitchResult:
    kind: CardSwitchKind
    brand: str | None
    last4: str | None
    invoice: InvoiceRecovery | None = None
    message: str | None = None


async def switch_to_payment_method(
    gateway: StripeGateway,
    db: Database,
    *,
    customer_id: str,
    payment_method_id: str,
    invoice_id: str | None,
    attempt_key: str,
    actor: Actor,
) -> CardSwitchResult:
    """Make the new payment method the customer's and the subscription's default (or retries
    stay on SEPA), then pay the open invoice with it. `attempt_key` names this collection (the
    Checkout session), so reloading the page repeats nothing."""
    pm, customer = await gather_all(
        gateway.retrieve_payment_method(payment_method_id), gateway.retrieve_customer(customer_id)
    )
    if id_of(pm.customer) != customer_id:
        raise NotFound("This payment method belongs to someone else.")
    card = getattr(pm, "card", None)
    brand, last4 = (card.brand, card.last4) if card is not None else (pm.type, None)

    invoice = await load_invoice(gateway, invoice_id) if invoice_id else None
    if invoice is not None and invoice.customer_id != customer_id:
        raise NotFound("No such invoice for this customer.")
    await _make_default(gateway, db, customer, pm.id, invoice, actor)
    if invoice is None:
        return CardSwitchResult("saved", brand, last4)
    if invoice.state == "paid":
        return CardSwitchResult("already_paid", brand, last4, invoice)
    if invoice.state == "processing":
        return CardSwitchResult("processing", brand, last4, invoice)
    if invoice.state == "closed":
        return CardSwitchResult("already_paid", brand, last4, invoice)

    key = f"recover:{invoice.invoice_id}:{attempt_key}"
    claim_key = "recover:" + hashlib.sha256(key.encode()).hexdigest()[:48]
    held = await actions.claim(db, claim_key, RETRY_ACTION)
    if not held.won:
        if held.status == "done" and held.result:
            return CardSwitchResult(_card_kind(held.result["kind"]), brand, last4, invoice)
        return CardSwitchResult("in_progress", brand, last4, invoice)
    token, idempotency_key = await attempt_keys(db, claim_key, key, now=datetime.now(UTC))
    row = await actions.record(
        db,
        actor=actor,
        action=RETRY_ACTION,
        customer_id=customer_id,
        object_id=invoice.invoice_id,
        amount=invoice.amount,
        reason="pay_by_card",
        token_id=token,
    )
    result = await _pay(
        gateway, db, invoice, idempotency_key, {"payment_method": pm.id}, row, claim_key=claim_key
    )
    return CardSwitchResult(_card_kind(result.kind), brand, last4, result.invoice, result.message)


async def _make_default(
    gateway: StripeGateway,
    db: Database,
    customer: Any,
    pm_id: str,
    invoice: InvoiceRecovery | None,
    actor: Actor,
) -> None:
    subs = customer.subscriptions.data if getattr(customer, "subscriptions", None) else []
    if invoice is not None and invoice.subscription_id:
        targets = [s for s in subs if s.id == invoice.subscription_id]
    else:
        targets = [s for s in subs if s.status in LIVE_STATUSES]
    calls: list[Awaitable[Any]] = []
    current = (
        customer.invoice_settings.default_payment_method if customer.invoice_settings else None
    )
    if id_of(current) != pm_id:
        calls.append(
            gateway.update_customer(
                customer.id,
                {"invoice_settings": {"default_payment_method": pm_id}},
                idempotency_key=f"default-pm:{customer.id}:{pm_id}",
            )
        )
    for sub in targets:
        if id_of(sub.default_payment_method) != pm_id:
            calls.append(
                gateway.update_subscription(
                    sub.id,
                    {"default_payment_method": pm_id},
                    idempotency_key=f"default-pm:{sub.id}:{pm_id}",
                )
            )
    if not calls:
        return
    await gather_all(*calls)
    await actions.record(
        db,
        actor=actor,
        action=PAYMENT_METHOD_ACTION,
        customer_id=customer.id,
        object_id=pm_id,
        outcome="succeeded",
        reason="default for customer and "
        + (", ".join(s.id for s in targets) or "no subscription"),
        stripe_id=pm_id,
    )


# --- confirm a quoted plan switch ---
# Plans change only on a subscription in good standing: past_due or unpaid ones owe money first.
SWITCHABLE_STATUSES = ("active", "trialing")

SwitchKind = Literal[
    "switched",  # the new plan applies (see `charged` / `payment_open`)
    "already_switched",
    "plan_changed",  # the plan is not the quoted one any more
    "not_switchable",  # the subscription owes money (past_due, unpaid, ...)
    "payment_failed",  # Stripe kept the old plan: the payment for the switch failed
    "in_progress",
    "rejected",  # Stripe refused the update (nothing changed)
    "unavailable",
]


@dataclass(frozen=True, slots=True)
class PlanSwitchResult:
    kind: SwitchKind
    quote: PlanChangeQuote
    next_renewal: datetime | None = None
    message: str | None = None  # Stripe's words, for logs and agents only
    charged: Money | None = None  # collected for the switch (the invoice is paid)
    payment_open: Money | None = None  # invoiced for the switch but not yet paid
    failure_code: str | None = None  # why the payment for the switch failed


async def confirm_plan_change(
    gateway: StripeGateway,
    db: Database,
    quote: PlanChangeQuote,
    *,
    quote_id: str,
    actor: Actor,
) -> PlanSwitchResult:
    """Apply a quote the customer confirmed, with the quote's `proration_date` (so the charge is
    the quoted one), once: a second confirmation of the same quote returns the first result.

    The update is a pending one (`apply_plan_change`): if the payment fails, Stripe keeps the
    old plan, and so do we say."""
    key = f"switch:{quote_id}"
    held = await actions.claim(db, key, SWITCH_ACTION)
    if not held.won:
        if held.status == "done" and held.result:
            return _switch_from_record(quote, held.result)
        return PlanSwitchResult("in_progress", quote)
    try:
        subscription = await gateway.retrieve_subscription(quote.subscription_id)
    except StripeUnavailable:
        await actions.release(db, key)
        return PlanSwitchResult("unavailable", quote)
    item = next((i for i in subscription.items.data if i.id == quote.item_id), None)
    item_price = item.price.id if item is not None else None
    if item is not None and item_price == quote.target.price_id:
        await actions.release(db, key)
        return PlanSwitchResult("already_switched", quote, to_datetime(item.current_period_end))
    if item_price != quote.current.price_id:
        await actions.release(db, key)
        return PlanSwitchResult("plan_changed", quote)
    if subscription.status not in SWITCHABLE_STATUSES:
        await actions.release(db, key)
        return PlanSwitchResult("not_switchable", quote)
    latest_before = id_of(subscription.latest_invoice)

    token, idempotency_key = await attempt_keys(db, key, key, now=datetime.now(UTC))
    row = await actions.record(
        db,
        actor=actor,
        action=SWITCH_ACTION,
        customer_id=quote.customer_id,
        object_id=quote.subscription_id,
        amount=quote.amount_now,
        reason=f"{quote.current.price_id} -> {quote.target.price_id} (savings card)",
        token_id=token,
    )
    try:
        updated = await apply_plan_change(gateway, quote, idempotency_key=idempotency_key)
    except StripeUnavailable as exc:
        await actions.release(db, key)
        await actions.finish(db, row, outcome="failed", error_code="stripe_unavailable")
        if in_flight_elsewhere(exc):
            # An earlier attempt with this key (one that timed out on our side) is still being
            # applied by Stripe and may well switch the plan: not "nothing happened". Trying
            # again in a moment replays its result.
            return PlanSwitchResult("in_progress", quote)
        return PlanSwitchResult("unavailable", quote)
    except StripeRejected as exc:
        await actions.release(db, key)
        await actions.finish(db, row, outcome="failed", error_code=exc.code, reason=str(exc))
        return await _rejected_switch(gateway, quote, str(exc))

    new_item = next((i for i in updated.items.data if i.id == quote.item_id), None)
    applied = (
        not getattr(updated, "pending_update", None)
        and new_item is not None
        and new_item.price.id == quote.target.price_id
    )
    latest = updated.latest_invoice
    invoice = latest if id_of(latest) != latest_before and not isinstance(latest, str) else None
    if not applied:
        result = await _switch_payment_failed(gateway, quote, invoice)
        await actions.complete(db, key, _switch_record(result))
        await actions.finish(
            db,
            row,
            outcome="failed",
            error_code=result.failure_code or "payment_failed",
            stripe_id=invoice.id if invoice is not None else None,
        )
        return result
    renewal = new_item.current_period_end if new_item is not None else None
    charged = payment_open = None
    if invoice is not None and invoice.status == "paid" and invoice.amount_paid > 0:
        charged = Money(invoice.amount_paid, invoice.currency)
    elif invoice is not None and invoice.status == "open" and invoice.amount_remaining > 0:
        payment_open = Money(invoice.amount_remaining, invoice.currency)
    result = PlanSwitchResult(
        "switched", quote, to_datetime(renewal), charged=charged, payment_open=payment_open
    )
    await actions.complete(db, key, _switch_record(result))
    await actions.finish(db, row, outcome="succeeded", stripe_id=updated.id)
    return result


async def _rejected_switch(
    gateway: StripeGateway, quote: PlanChangeQuote, message: str
) -> PlanSwitchResult:
    """Stripe refused this update. The answer is read from the subscription after it: if the
    plan is the quoted one by now (a confirmation racing this one switched it), it says so
    instead of "the switch didn't go through"."""
    try:
        subscription = await gateway.retrieve_subscription(quote.subscription_id)
    except BillingError:
        return PlanSwitchResult("rejected", quote, message=message)
    item = next((i for i in subscription.items.data if i.id == quote.item_id), None)
    if item is not None and item.price.id == quote.target.price_id:
        return PlanSwitchResult("already_switched", quote, to_datetime(item.current_period_end))
    return PlanSwitchResult("rejected", quote, message=message)


async def _switch_payment_failed(
    gateway: StripeGateway, quote: PlanChangeQuote, invoice: Any | None
) -> PlanSwitchResult:
    """The switch is pending at Stripe because its invoice wasn't paid: why, if Stripe says."""
    code = None
    amount = quote.amount_now
    if invoice is not None:
        amount = Money(invoice.amount_remaining, invoice.currency)
        try:
            code = (await load_invoice(gateway, invoice.id)).failure_code
        except BillingError:  # the switch is settled either way; only the reason is missing
            code = None
    return PlanSwitchResult("payment_failed", quote, failure_code=code, payment_open=amount)


def _switch_record(result: PlanSwitchResult) -> dict[str, Any]:
    """What a finished switch leaves in its claim, for a second confirmation to show."""

    def money(value: Money | None) -> list[Any] | None:
        return [value.amount, value.currency] if value is not None else None

    return {
        "kind": result.kind,
        "next_renewal": int(result.next_renewal.timestamp()) if result.next_renewal else None,
        "charged": money(result.charged),
        "payment_open": money(result.payment_open),
        "failure_code": result.failure_code,
    }


def _switch_from_record(quote: PlanChangeQuote, record: dict[str, Any]) -> PlanSwitchResult:
    def money(value: Any) -> Money | None:
        return Money(int(value[0]), str(value[1])) if isinstance(value, list) else None

    kind = record.get("kind")
    return PlanSwitchResult(
        kind if kind == "payment_failed" else "switched",
        quote,
        to_datetime(record.get("next_renewal")),
        charged=money(record.get("charged")),
        payment_open=money(record.get("payment_open")),
        failure_code=record.get("failure_code"),
    )


def quote_to_data(quote: PlanChangeQuote) -> dict[str, Any]:
    """The parts of a quote needed to apply it, as JSON (to be signed into `stored_data`)."""
    return {
        "customer": quote.customer_id,
        "subscription": quote.subscription_id,
        "item": quote.item_id,
        "current": {
            "product": quote.current.product_id,
            "name": quote.current.product_name,
            "price": quote.current.price_id,
            "amount": quote.current.amount.amount if quote.current.amount else None,
            "interval": quote.current.interval,
            "interval_count": quote.current.interval_count,
        },
        "target": {
            "product": quote.target.product_id,
            "name": quote.target.product_name,
            "price": quote.target.price_id,
            "amount": quote.target.amount.amount,
            "interval": quote.target.interval,
            "interval_count": quote.target.interval_count,
            "lookup_key": quote.target.lookup_key,
        },
        "currency": quote.amount_now.currency,
        "proration_date": quote.proration_date,
        "amount_now": quote.amount_now.amount,
        "kind": quote.kind,
    }


def quote_from_data(data: dict[str, Any]) -> PlanChangeQuote:
    currency = data["currency"]
    current, target = data["current"], data["target"]
    target_price = TargetPrice(
        price_id=target["price"],
        product_id=target["product"],
        product_name=target["name"],
        amount=Money(int(target["amount"]), currency),
        interval=target["interval"],
        interval_count=int(target["interval_count"]),
        lookup_key=target.get("lookup_key"),
    )
    return PlanChangeQuote(
        customer_id=data["customer"],
        subscription_id=data["subscription"],
        item_id=data["item"],
        current=Plan(
            product_id=current["product"],
            product_name=current["name"],
            price_id=current["price"],
            amount=Money(int(current["amount"]), currency)
            if current["amount"] is not None
            else None,
            interval=current["interval"],
            interval_count=int(current["interval_count"]),
        ),
        target=target_price,
        proration_date=int(data["proration_date"]),
        amount_now=Money(int(data["amount_now"]), currency),
        new_recurring=target_price.amount,
        effective_date=to_datetime(int(data["proration_date"])) or datetime.now(UTC),
        lines=(),
        kind=data["kind"],
    )
