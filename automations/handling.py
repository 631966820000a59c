"""One Stripe event, handled: current Stripe state → the recipe → Intercom.

The event only says *which* customer and object changed. What Intercom gets is computed from
what Stripe says now, read in two concurrent rounds (the customer and the event's object, then
the snapshot while the contact is looked up), so events that arrive late, twice or out of order
restate the present instead of an old payload. The sweep reuses the same pieces.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from automations.cancellations import WATCHED_EVENT_TYPES, cancellation_watch
from automations.contacts import ContactMatch, customer_ref, find_contact
from automations.effects import Applied, apply_effects
from automations.facts import Decision, InvoiceFacts, PaymentFailure, SepaReturn
from automations.recipes import (
    AutomationPolicy,
    attribute_sync,
    churn_preventer,
    sepa_return,
    trial_converter,
    upsell_scout,
    usage_reading,
    usage_threshold,
)
from billing.errors import NotFound
from billing.lookup import BillingLookup
from billing.money import Money, to_datetime
from billing.snapshot import BillingSnapshot
from gateways.intercom import IntercomContact, IntercomGateway
from gateways.stripe import StripeGateway, gather_all
from gateways.stripe_models import Customer
from storage.automation_marks import OnceMarks

if TYPE_CHECKING:
    from gateways.stripe_events import StripeEvent
    from kernel.services import Services

log = logging.getLogger(__name__)

INVOICE_EVENTS = frozenset(
    {"invoice.payment_failed", "invoice.paid", "invoice.voided", "invoice.marked_uncollectible"}
)
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
    }
)
# Events that only make cached billing data stale (a refund lowers the lifetime value).
CACHE_EVENT_TYPES = frozenset({"charge.refunded"})
HANDLED_EVENT_TYPES = (
    INVOICE_EVENTS
    | SUBSCRIPTION_EVENTS
    | {"payment_intent.payment_failed", "customer.updated", "billing.alert.triggered"}
)


@dataclass
class HandlingResult:
    """What became of an event: `outcome` goes into the ledger."""

    outcome: str  # handled | no_contact | ambiguous_contact | no_customer | not_applicable | ...
    contact_id: str | None = None
    reason: str = ""
    writes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CustomerState:
    """A customer as Stripe has it now, and its Intercom contact (if exactly one)."""

    customer: Customer  # expanded as billing.resolution retrieves it
    snapshot: BillingSnapshot
    match: ContactMatch


@dataclass(frozen=True, slots=True)
class _PaymentIntentState:
    returned: SepaReturn | None  # None: not a SEPA debit
    still_failed: bool


class Automations:
    """The automations' collaborators, built from the app's services."""

    def __init__(
        self,
        *,
        stripe_gateway: StripeGateway,
        billing: BillingLookup,
        intercom: IntercomGateway,
        marks: OnceMarks,
        policy: AutomationPolicy,
        user_id_key: str,
        admin_id: str | None,
    ) -> None:
        self.stripe = stripe_gateway
        self.billing = billing
        self.intercom = intercom
        self.marks = marks
        self.policy = policy
        self.user_id_key = user_id_key
        self.admin_id = admin_id

    @classmethod
    def from_services(cls, services: Services) -> Automations | None:
        """None when no Intercom access token is configured (automations switched off)."""
        if services.intercom is None:
            return None
        return cls(
            stripe_gateway=services.stripe,
            billing=services.billing,
            intercom=services.intercom,
            marks=OnceMarks(services.db),
            policy=AutomationPolicy.from_settings(services.settings),
            user_id_key=services.settings.user_id_metadata_key,
            admin_id=services.settings.intercom_admin_id,
        )

    # --- webhooks ---
    async def handle(self, event: StripeEvent) -> HandlingResult:
        customer_id = customer_id_of(event)
        if customer_id is None:
            return HandlingResult("no_customer", reason="the event names no customer")
        # Item 9: whatever the inbox card cached about this customer is stale now.
        self.billing.invalidate(customer_id)
        try:
            customer, subject = await gather_all(
                self.stripe.retrieve_customer(customer_id), self._subject(event)
            )
        except NotFound:
            return HandlingResult("customer_missing", reason="Stripe no longer has the customer")
        if customer.deleted:
            return HandlingResult("customer_deleted")
        if isinstance(subject, _PaymentIntentState) and subject.returned is None:
            return HandlingResult("not_applicable", reason="not a SEPA direct debit")

        state = await self.customer_state(customer)
        if state.match.contact is None:
            return HandlingResult(state.match.outcome, reason="no single Intercom contact")
        decision = self._decide(event, state.snapshot, subject)
        applied = await self.apply(state.match.contact, decision)
        return HandlingResult("handled", state.match.contact.id, decision.reason, applied.writes)

    async def _subject(self, event: StripeEvent) -> Any:
        """Round one, beside the customer: the current version of what the event is about."""
        obj = event.data.object
        if event.type == "invoice.payment_failed":
            invoice, payments = await gather_all(
                self.stripe.retrieve_invoice(obj.id), self.stripe.list_invoice_payments(obj.id)
            )
            return invoice, payments
        if event.type == "payment_intent.payment_failed":
            return _payment_intent_state(await self.stripe.retrieve_payment_intent(obj.id))
        # Everything else (subscriptions, paid invoices, balances) comes with the snapshot.
        return None

    def _decide(self, event: StripeEvent, snapshot: BillingSnapshot, subject: Any) -> Decision:
        policy = self.policy
        if event.type == "invoice.payment_failed":
            invoice, payments = subject
            return churn_preventer(
                snapshot, invoice_facts(invoice, payments, snapshot), event.created, policy
            )
        if event.type == "invoice.paid":
            return upsell_scout(snapshot, policy)
        if event.type == "payment_intent.payment_failed":
            assert subject.returned is not None  # checked before the snapshot was loaded
            return sepa_return(
                snapshot, subject.returned, subject.still_failed, event.created, policy
            )
        if event.type == "customer.subscription.trial_will_end":
            sub_id = event.data.object.id
            summary = next((s for s in snapshot.subscriptions if s.id == sub_id), None)
            return trial_converter(snapshot, summary, event.created, policy)
        if event.type == "billing.alert.triggered":
            obj = event.data.object
            reading = usage_reading(snapshot, alerted_value=float(obj.value or 0))
            once = None if reading.period_start else f"usage-high/{snapshot.customer.id}/{event.id}"
            return usage_threshold(
                snapshot, reading, event.created, policy, alerted=True, once_key=once
            )
        decision = attribute_sync(snapshot, policy)
        if event.type in WATCHED_EVENT_TYPES:
            decision.effects += cancellation_watch(snapshot, event.created)
        return decision

    # --- shared with the sweep ---
    async def customer_state(self, customer: Customer) -> CustomerState:
        """Round two: the fresh snapshot and the Intercom contact, concurrently."""
        ref = customer_ref(customer, self.user_id_key)
        snapshot, match = await gather_all(
            self.billing.snapshot(customer, fresh=True, complete=True),
            find_contact(self.intercom, ref),
        )
        return CustomerState(customer, snapshot, match)

    async def apply(
        self, contact: IntercomContact, decision: Decision, *, dry_run: bool = False
    ) -> Applied:
        applied = await apply_effects(
            self.intercom,
            self.marks,
            contact,
            decision.effects,
            admin_id=self.admin_id,
            dry_run=dry_run,
        )
        if applied.writes and not dry_run:
            log.info("intercom contact %s: %s", contact.id, "; ".join(applied.writes))
        return applied


def customer_id_of(event: StripeEvent) -> str | None:
    obj = event.data.object
    if getattr(obj, "object", None) == "customer":
        return obj.id
    customer = getattr(obj, "customer", None)
    if customer is None or isinstance(customer, str):
        return customer
    return customer.id


def invoice_facts(invoice: Any, payments: list[Any], snapshot: BillingSnapshot) -> InvoiceFacts:
    """The invoice now, with its payment failures found among the snapshot's charges (invoices
    no longer link charges: invoice payments name the payment intents)."""
    intents = {
        _id_of(payment.payment.payment_intent)
        for payment in payments
        if getattr(payment.payment, "payment_intent", None)
    }
    failed = [p for p in snapshot.payments if p.payment_intent_id in intents and p.failure_code]
    last = failed[0] if failed else None  # charges come newest first
    first = failed[-1] if failed else None
    return InvoiceFacts(
        id=invoice.id,
        number=invoice.number,
        status=invoice.status,
        amount_remaining=Money(invoice.amount_remaining, invoice.currency),
        attempt_count=invoice.attempt_count or 0,
        hosted_invoice_url=invoice.hosted_invoice_url,
        next_payment_attempt=to_datetime(invoice.next_payment_attempt),
        last_failure=PaymentFailure(last.failure_code, last.method_type, last.created)
        if last
        else None,
        first_failed_at=first.created if first else None,
    )


def _payment_intent_state(intent: Any) -> _PaymentIntentState:
    charge = intent.latest_charge if not isinstance(intent.latest_charge, str) else None
    details = getattr(charge, "payment_method_details", None) if charge else None
    method_type = getattr(details, "type", None)
    error = intent.last_payment_error
    if method_type is None and error is not None and error.payment_method is not None:
        method_type = error.payment_method.type
    if method_type != "sepa_debit":
        return _PaymentIntentState(None, False)
    code = (error.code if error else None) or (charge.failure_code if charge else None)
    failed_at = to_datetime(charge.created if charge else intent.created) or datetime.now(UTC)
    returned = SepaReturn(
        payment_intent_id=intent.id,
        amount=Money(intent.amount, intent.currency),
        failure=PaymentFailure(code, "sepa_debit", failed_at),
    )
    # Current state: a payment that was retried (processing) or paid since is no longer failed.
    return _PaymentIntentState(returned, intent.status == "requires_payment_method")


def _id_of(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.id
