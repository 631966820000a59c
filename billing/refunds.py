"""Refunds with guardrails, shared by Fin and the inbox.

Two steps. `preview` applies the `RefundPolicy` to a charge and, if it may be refunded, signs a
short-lived confirmation token bound to customer, charge, amount and currency
(`billing.refund_tokens`). `execute` spends that token at most once: the token is claimed in the
database before Stripe is called, the Stripe request carries an idempotency key derived from the
token, and the first result is kept so replays and racing duplicates answer with it instead of
refunding again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from billing.confirmation_tokens import ConfirmationTokenExpired, InvalidConfirmationToken
from billing.errors import BillingError, NotFound, StripeRejected, StripeUnavailable
from billing.money import Money
from billing.refund_policy import (
    REFUSALS,
    STRIPE_REFUSALS,
    RefundChargeNotFound,
    RefundLimitReached,
    RefundPolicy,
    RefundRefused,
)
from billing.refund_tokens import RefundGrant, RefundTokens
from billing.snapshot import Payment, payment_of
from gateways.stripe import StripeGateway
from storage.actions import ActionStore, Actor, Attempt

log = logging.getLogger(__name__)

# Stripe keeps idempotency keys for at least 24 hours: within that time a retry of a token whose
# first attempt failed half-way returns Stripe's first answer instead of refunding twice.
RETRY_WINDOW = timedelta(hours=23)
# An execution that neither finished nor failed within this time died with its process; its
# token may be taken over (the idempotency key still protects the charge).
EXECUTION_LEASE = timedelta(minutes=2)


class RefundInProgress(BillingError):
    """Another request is executing this confirmation token right now."""

    code = "refund_in_progress"


@dataclass(frozen=True, slots=True)
class RefundPreview:
    customer_id: str
    payment: Payment | None
    amount: Money | None = None
    refusal: RefundRefused | None = None
    token: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    """A refund Stripe made (or our first answer to this token, when `replayed`)."""

    refund_id: str
    status: str  # Stripe's refund status: succeeded | pending | requires_action | ...
    amount: Money
    charge_id: str
    customer_id: str
    method_type: str | None
    method_last4: str | None
    replayed: bool = False

    def as_record(self) -> dict[str, Any]:
        return {
            "outcome": "refunded",
            "refund_id": self.refund_id,
            "status": self.status,
            "amount": self.amount.amount,
            "currency": self.amount.currency,
            "charge_id": self.charge_id,
            "customer_id": self.customer_id,
            "method_type": self.method_type,
            "method_last4": self.method_last4,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RefundResult:
        return cls(
            refund_id=record["refund_id"],
            status=record["status"],
            amount=Money(record["amount"], record["currency"]),
            charge_id=record["charge_id"],
            customer_id=record["customer_id"],
            method_type=record.get("method_type"),
            method_last4=record.get("method_last4"),
            replayed=True,
        )


class RefundService:
    """Preview and execute refunds for one surface (Fin or the inbox)."""

    def __init__(
        self,
        *,
        gateway: StripeGateway,
        store: ActionStore,
        signer: RefundTokens,
        policy: RefundPolicy,
        token_seconds: int,
        wait_seconds: float,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.signer = signer
        self.policy = policy
        self.token_seconds = token_seconds
        self.wait_seconds = wait_seconds

    # --- step 1 ---
    async def preview(
        self,
        customer_id: str,
        *,
        actor: Actor,
        charge_id: str | None = None,
        amount: int | None = None,
        reason: str | None = None,
    ) -> RefundPreview:
        """Whether the charge (by default the customer's latest payment) may be refunded, and a
        confirmation token if so. Refusals are answers here, not errors. `actor` (with the
        conversation, if any) goes into the token and, when it is spent, the audit trail."""
        now = datetime.now(UTC)
        payment = None
        try:
            payment = await self._payment(customer_id, charge_id)
            money = self.policy.check(payment, amount=amount, now=now)
            if self.policy.max_per_customer is not None:
                self.policy.check_count(
                    await self.store.count_recent(
                        customer_id,
                        actor_type=actor.type,
                        action="refund",
                        since=self.policy.window_start(now),
                    )
                )
        except RefundRefused as refusal:
            return RefundPreview(customer_id, payment, refusal=refusal)
        grant = RefundGrant(
            token_id=secrets.token_urlsafe(16),
            customer_id=customer_id,
            charge_id=payment.charge_id,
            amount=money.amount,
            currency=money.currency,
            actor=actor,
            reason=(reason or None) and reason[:200],
        )
        return RefundPreview(
            customer_id,
            payment,
            amount=money,
            token=self.signer.issue(grant),
            expires_at=(now + timedelta(seconds=self.token_seconds)).replace(microsecond=0),
        )

    # --- step 2 ---
    async def execute(self, token: str, *, customer_id: str) -> RefundResult:
        """Refund what the token allows, at most once. Replays (and a duplicate that raced this
        one) get the first result with `replayed=True`; a refusal is raised, the same each
        time; `StripeUnavailable` means nothing is known to have happened and the same token may
        be sent again."""
        grant = self.signer.read(token)
        if grant.customer_id != customer_id:
            raise InvalidConfirmationToken("The confirmation token is for another customer.")
        existing = await self.store.get(grant.token_id)
        in_flight = (
            existing is not None
            and existing.status == "executing"
            and existing.claimed_at >= datetime.now(UTC) - EXECUTION_LEASE
        )
        if existing is None or (existing.status != "done" and not in_flight):
            # Only a settled token outlives its lifetime, answering with its result. One whose
            # attempt failed (or died) is not a licence to refund later without the policy:
            # past its lifetime the customer previews again, and the preview judges the charge
            # as it is then (refunded already, if the failed attempt went through after all).
            self.signer.read(token, max_age_seconds=self.token_seconds)
        claim = await self.store.claim(
            grant.token_id,
            self.signer.kind,
            lease=EXECUTION_LEASE,
            retry_failed_within=RETRY_WINDOW,
        )
        if not claim.owned:
            held = await self.store.wait_until_settled(grant.token_id, within=self.wait_seconds)
            if held is None or not held.settled:
                raise RefundInProgress()
            if held.status != "done":
                if held.claimed_at < datetime.now(UTC) - RETRY_WINDOW:
                    # Stripe may have forgotten the idempotency key: a retry is no longer safe.
                    raise ConfirmationTokenExpired()
                raise StripeUnavailable("An earlier attempt with this token did not finish.")
            return _replay(held.result or {})
        # A retry whose earlier attempt may have reached Stripe's refund endpoint must not be
        # judged on the charge as that attempt left it: only Stripe knows, by the key.
        after_request = claim.retry and (
            existing is None or (existing.result or {}).get("refund_requested", True)
        )
        progress = _Progress()
        try:
            result = await self._refund(grant, after_request=after_request, progress=progress)
        except RefundRefused as refusal:
            await self.store.complete(
                grant.token_id,
                {"outcome": "refused", "code": refusal.code, "values": refusal.values},
            )
            raise
        except StripeRejected as exc:
            await self.store.complete(grant.token_id, {"outcome": "rejected", "code": exc.code})
            raise
        except BaseException:
            # Stripe unavailable, a bug, or cancellation: whether Stripe refunded is unknown,
            # so the token stays usable and a retry sends the same idempotency key.
            await asyncio.shield(
                self.store.fail(
                    grant.token_id,
                    {"outcome": "unknown", "refund_requested": progress.refund_requested},
                )
            )
            raise
        await self.store.complete(grant.token_id, result.as_record())
        return result

    async def _refund(
        self, grant: RefundGrant, *, after_request: bool, progress: _Progress
    ) -> RefundResult:
        attempt = Attempt(
            actor=grant.actor,
            action="refund",
            customer_id=grant.customer_id,
            object_id=grant.charge_id,
            amount=grant.amount,
            currency=grant.currency,
            reason=grant.reason,
            token_id=grant.token_id,
        )
        now = datetime.now(UTC)
        # The count was taken when the token was first spent; its retry is the same refund.
        limit = None if after_request else self.policy.max_per_customer
        slot = await self.store.begin(
            attempt, at_most=limit, since=self.policy.window_start(now), now=now
        )
        if not slot.allowed:
            raise RefundLimitReached(limit=limit, window_days=self.policy.window_days)
        payment = None
        try:
            if not after_request:
                # The charge may have changed since the preview (refunded in the dashboard, a
                # dispute opened, a SEPA debit returned): judge it again as it is now.
                payment = await self._payment(grant.customer_id, grant.charge_id)
                if payment.amount.currency != grant.currency:
                    raise RefundChargeNotFound(charge=grant.charge_id)
                self.policy.check(payment, amount=grant.amount, now=now)
            progress.refund_requested = True
            refund = await self.gateway.create_refund_once(
                {
                    "charge": grant.charge_id,
                    "amount": grant.amount,
                    "reason": "requested_by_customer",
                    "metadata": _metadata(grant),
                },
                idempotency_key=f"{self.signer.kind}:{grant.token_id}",
            )
        except RefundRefused as refusal:
            await self.store.finish(slot.entry_id, "refused", error_code=refusal.code)
            raise
        except StripeRejected as exc:
            refusal_type = STRIPE_REFUSALS.get(exc.code)
            await self.store.finish(
                slot.entry_id,
                "refused",
                error_code=refusal_type.code if refusal_type else f"stripe_{exc.code}",
            )
            if refusal_type is not None:
                raise refusal_type(charge=grant.charge_id) from exc
            raise
        except NotFound as exc:
            await self.store.finish(slot.entry_id, "refused", error_code="refund_charge_not_found")
            raise RefundChargeNotFound(charge=grant.charge_id) from exc
        except BaseException as exc:
            code = exc.code if isinstance(exc, BillingError) else type(exc).__name__
            await asyncio.shield(self.store.finish(slot.entry_id, "failed", error_code=code))
            raise
        await self.store.finish(slot.entry_id, "succeeded", stripe_id=refund.id)
        log.info(
            "refund %s of charge %s for %s by %s",
            refund.id,
            grant.charge_id,
            grant.customer_id,
            grant.actor.label,
        )
        if payment is None:
            payment = await self._payment_or_none(grant.charge_id)
        return RefundResult(
            refund_id=refund.id,
            status=refund.status or "pending",
            amount=Money(refund.amount, refund.currency),
            charge_id=grant.charge_id,
            customer_id=grant.customer_id,
            method_type=payment.method_type if payment else None,
            method_last4=payment.method_last4 if payment else None,
        )

    async def _payment(self, customer_id: str, charge_id: str | None) -> Payment:
        if charge_id is None:
            charges = await self.gateway.list_charges(customer_id, limit=10)
            # The customer's latest payment that took (or is taking) money.
            charge = next((c for c in charges if c.status != "failed"), None)
            if charge is None:
                raise RefundChargeNotFound()
            return payment_of(charge)
        try:
            charge = await self.gateway.retrieve_charge(charge_id)
        except NotFound:
            raise RefundChargeNotFound(charge=charge_id) from None
        owner = (
            charge.customer
            if isinstance(charge.customer, str)
            else getattr(charge.customer, "id", None)
        )
        if owner != customer_id:
            # Someone else's payment is "not found" to this customer: nothing leaks.
            raise RefundChargeNotFound(charge=charge_id)
        return payment_of(charge)

    async def _payment_or_none(self, charge_id: str) -> Payment | None:
        try:
            return payment_of(await self.gateway.retrieve_charge(charge_id))
        except BillingError:
            return None  # only decorates the answer (card ending); the refund is done


@dataclass(slots=True)
class _Progress:
    refund_requested: bool = False


def _metadata(grant: RefundGrant) -> dict[str, str]:
    # Deterministic from the token: a retry must send exactly the same parameters.
    metadata = {"token_id": grant.token_id, "requested_by": grant.actor.label}
    if grant.actor.conversation_id:
        metadata["intercom_conversation_id"] = grant.actor.conversation_id
    return metadata


def _replay(record: dict[str, Any]) -> RefundResult:
    outcome = record.get("outcome")
    if outcome == "refunded":
        return RefundResult.from_record(record)
    if outcome == "refused":
        raise REFUSALS.get(record.get("code", ""), RefundRefused)(**record.get("values", {}))
    raise StripeRejected("Stripe refused this refund.", code=record.get("code") or "rejected")
