"""The recipes of PRODUCT.md §1.5 as pure functions: billing facts in, Intercom effects out.

Every recipe starts from a `BillingSnapshot` read fresh from Stripe (never from a webhook
payload), so a late or repeated event can only restate the present, not an old status. The
effects are descriptions; `automations.effects` performs them, skipping what is already so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from automations.cancellations import CANCELLATION_PENDING_TAG
from automations.facts import (
    AddTag,
    Decision,
    Effect,
    InvoiceFacts,
    Note,
    PaymentFailure,
    RemoveTag,
    SepaReturn,
    SetAttributes,
    TrackEvent,
    UsageReading,
    event_metadata,
)
from automations.notes import escalation_note, vip_note
from billing.alerts import days_until
from billing.money import Money
from billing.snapshot import BillingSnapshot, SubscriptionSummary

if TYPE_CHECKING:
    from kernel.settings import Settings

BILLING_ISSUE_TAG = "Billing-Issue"
BILLING_ESCALATED_TAG = "Billing-Escalated"
TAGS = (BILLING_ISSUE_TAG, BILLING_ESCALATED_TAG, CANCELLATION_PENDING_TAG)

PAYMENT_FAILED_EVENT = "stripe-payment-failed"
SEPA_RETURNED_EVENT = "stripe-sepa-debit-returned"
TRIAL_ENDING_EVENT = "stripe-trial-ending"
USAGE_THRESHOLD_EVENT = "stripe-usage-threshold"


# Every attribute the automations can write, with its Intercom data type and description
# (PRODUCT.md §1.5). `intercom-setup` creates the allowlisted ones; nothing else is ever sent.
# Money is a float in major units (79.0 = 79 €), like Intercom's own Stripe app shows prices;
# dates are Intercom `datetime` attributes, written as Unix timestamps.
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "stripe_id": ("string", "Stripe customer id (cus_...)"),
    "stripe_plan": ("string", "Current Stripe plan (product name)"),
    "stripe_plan_price": ("float", "Price of the current plan per interval, in major units"),
    "stripe_plan_interval": ("string", "Billing interval of the current plan (month, year)"),
    "stripe_subscription_status": ("string", "Stripe subscription status"),
    "stripe_subscription_period_end_at": ("datetime", "End of the current billing period"),
    "stripe_trial_end_at": ("datetime", "End of the trial"),
    "stripe_cancel_at_period_end": ("boolean", "Subscription ends at the period end"),
    "stripe_delinquent": ("boolean", "Stripe marks the customer delinquent"),
    "stripe_account_balance": ("float", "Stripe balance in major units (negative = credit)"),
    "stripe_ltv": ("float", "Lifetime value paid, net of refunds, in major units"),
    "stripe_has_payment_method": ("boolean", "A default payment method is on file"),
    "stripe_last_payment_failure": ("string", "Last payment failure code (SEPA reason if known)"),
    "stripe_card_brand": ("string", "Brand of the default card"),
    "usage_status": ("string", "Metered usage versus the plan limit: ok or high_risk"),
    "VIP_Status": ("boolean", "Lifetime value passed the VIP threshold"),
}


@dataclass(frozen=True, slots=True)
class AutomationPolicy:
    """The settings the recipes depend on (a plain value, so recipes stay pure)."""

    allowlist: frozenset[str]
    vip_threshold: int  # minor units of `vip_currency`
    vip_currency: str = "eur"
    usage_high_ratio: float = 0.8
    trial_warning_days: int = 3
    escalation_delay: timedelta = timedelta(hours=48)
    locale: str = "en"

    def is_vip(self, snapshot: BillingSnapshot) -> bool:
        """Lifetime value in the threshold's currency reached the threshold (¥50,000 is not
        500 €: other currencies don't count towards it)."""
        return snapshot.ltv_in(self.vip_currency).amount >= self.vip_threshold

    @classmethod
    def from_settings(cls, settings: Settings) -> AutomationPolicy:
        return cls(
            allowlist=frozenset(settings.intercom_attribute_allowlist),
            vip_threshold=settings.vip_threshold,
            vip_currency=settings.vip_threshold_currency,
            usage_high_ratio=settings.usage_high_ratio,
            trial_warning_days=settings.trial_warning_days,
            escalation_delay=timedelta(hours=settings.escalation_delay_hours),
            locale=settings.agent_locale,
        )


# --- attribute sync ------------------------------------------------------------------------
def billing_attributes(
    snapshot: BillingSnapshot,
    policy: AutomationPolicy,
    *,
    usage_status: str | None = None,
) -> dict[str, Any]:
    """All allowlisted attributes for the customer, from the snapshot (whose subscription is
    the live one, or an ex-customer's last one)."""
    customer = snapshot.customer
    sub = snapshot.subscription
    plan = sub.plan if sub else None
    pm = snapshot.payment_method
    last_failure = next((p for p in snapshot.payments if p.status == "failed"), None)
    ltv = snapshot.ltv_in(customer.currency)
    values: dict[str, Any] = {
        "stripe_id": customer.id,
        "stripe_plan": plan.product_name if plan else None,
        "stripe_plan_price": _major(plan.amount) if plan and plan.amount else None,
        "stripe_plan_interval": plan.interval if plan else None,
        "stripe_subscription_status": sub.status if sub else None,
        "stripe_subscription_period_end_at": _unix(sub.current_period_end) if sub else None,
        "stripe_trial_end_at": _unix(sub.trial_end) if sub else None,
        "stripe_cancel_at_period_end": sub.cancel_at_period_end if sub else False,
        "stripe_delinquent": customer.delinquent,
        "stripe_account_balance": _major(customer.balance),
        "stripe_ltv": _major(ltv),
        "stripe_has_payment_method": pm is not None,
        "stripe_last_payment_failure": PaymentFailure(
            last_failure.failure_code, last_failure.method_type, last_failure.created
        ).label
        if last_failure
        else None,
        "stripe_card_brand": pm.brand if pm and pm.type == "card" else None,
        "usage_status": usage_status or _usage_status(_usage_of(snapshot), policy),
        "VIP_Status": policy.is_vip(snapshot),
    }
    return allowed(values, policy)


def allowed(values: Mapping[str, Any], policy: AutomationPolicy) -> dict[str, Any]:
    """Data minimisation: only allowlisted attributes ever leave Stripe."""
    return {key: value for key, value in values.items() if key in policy.allowlist}


def billing_issue_tags(snapshot: BillingSnapshot) -> list[Effect]:
    """`Billing-Issue` is on exactly while an open invoice has a failed payment; when none is
    left, the escalation tag goes too."""
    if snapshot.failed_invoice is not None:
        return [AddTag(BILLING_ISSUE_TAG)]
    return [RemoveTag(BILLING_ISSUE_TAG), RemoveTag(BILLING_ESCALATED_TAG)]


def attribute_sync(
    snapshot: BillingSnapshot,
    policy: AutomationPolicy,
) -> Decision:
    """Subscription, customer and invoice events: attributes and the billing-issue tag."""
    effects: list[Effect] = [
        SetAttributes(billing_attributes(snapshot, policy)),
        *billing_issue_tags(snapshot),
    ]
    return Decision(effects, "attribute sync")


# --- churn preventer -----------------------------------------------------------------------
def churn_preventer(
    snapshot: BillingSnapshot, invoice: InvoiceFacts, event_created: int, policy: AutomationPolicy
) -> Decision:
    """`invoice.payment_failed`: tag and event, but only while the invoice is still unpaid."""
    attributes = SetAttributes(billing_attributes(snapshot, policy))
    if not invoice.failed_and_open:
        return Decision(
            [attributes, *billing_issue_tags(snapshot)],
            f"invoice is {invoice.status} now: nothing to prevent",
        )
    # The invoice just read wins over the snapshot's invoice list, which may lag behind it.
    event = TrackEvent(PAYMENT_FAILED_EVENT, event_created, payment_failed_metadata(invoice))
    return Decision(
        [attributes, AddTag(BILLING_ISSUE_TAG), event], "payment failed, invoice still open"
    )


def payment_failed_metadata(invoice: InvoiceFacts) -> dict[str, Any]:
    failure = invoice.last_failure
    reason = failure.sepa if failure else None
    metadata: dict[str, Any] = {
        "invoice": _link(invoice.hosted_invoice_url, invoice.number or invoice.id),
        "invoice_id": invoice.id,
        "amount": _money(invoice.amount_remaining),
        "failure_code": (failure.code if failure else None) or "unknown",
        "sepa_reason": reason.code if reason else None,
        "sepa_reason_text": reason.text if reason else None,
        "payment_method": failure.method_type if failure else None,
        "attempt": invoice.attempt_count,
        "next_payment_attempt_date": _unix(invoice.next_payment_attempt),
    }
    return event_metadata(metadata)


def escalation(
    snapshot: BillingSnapshot, invoice: InvoiceFacts, now: datetime, policy: AutomationPolicy
) -> Decision:
    """Sweep: still unpaid `escalation_delay` after the first failure → tag and one note."""
    if not invoice.failed_and_open or invoice.first_failed_at is None:
        return Decision([], "not a failed open invoice")
    if now - invoice.first_failed_at < policy.escalation_delay:
        return Decision([], "escalation delay not reached")
    hours = round(policy.escalation_delay.total_seconds() / 3600)
    key = f"escalated/{invoice.id}"
    return Decision(
        [
            AddTag(BILLING_ISSUE_TAG),
            AddTag(BILLING_ESCALATED_TAG),
            Note(key, escalation_note(invoice, hours, key, policy.locale)),
        ],
        f"unpaid {hours} h after the first failure",
    )


# --- SEPA return ---------------------------------------------------------------------------
def sepa_return(
    snapshot: BillingSnapshot,
    returned: SepaReturn,
    still_failed: bool,
    event_created: int,
    policy: AutomationPolicy,
) -> Decision:
    """`payment_intent.payment_failed` on `sepa_debit`: the event a recovery Workflow uses."""
    if not still_failed:
        return Decision([], "the payment has been retried or paid since")
    reason = returned.failure.sepa
    metadata = event_metadata(
        {
            "amount": _money(returned.amount),
            "failure_code": returned.failure.code or "unknown",
            "sepa_reason": reason.code if reason else None,
            "sepa_reason_text": reason.text if reason else None,
            "payment_intent": returned.payment_intent_id,
        }
    )
    decision = attribute_sync(snapshot, policy)
    decision.effects.append(TrackEvent(SEPA_RETURNED_EVENT, event_created, metadata))
    return Decision(decision.effects, "SEPA direct debit returned")


# --- upsell scout --------------------------------------------------------------------------
def upsell_scout(snapshot: BillingSnapshot, policy: AutomationPolicy) -> Decision:
    """`invoice.paid`: lifetime value (and the tag goes when nothing is unpaid); past the VIP
    threshold, one note for the account manager."""
    decision = attribute_sync(snapshot, policy)
    if policy.is_vip(snapshot):
        ltv = snapshot.ltv_in(policy.vip_currency)
        key = f"vip/{snapshot.customer.id}"
        threshold = Money(policy.vip_threshold, policy.vip_currency)
        decision.effects.append(Note(key, vip_note(ltv, threshold, key, policy.locale)))
        return Decision(decision.effects, "lifetime value past the VIP threshold")
    return Decision(decision.effects, "invoice paid")


# --- trial converter -----------------------------------------------------------------------
def trial_converter(
    snapshot: BillingSnapshot,
    subscription: SubscriptionSummary | None,
    created_at: int,
    policy: AutomationPolicy,
    *,
    now: datetime | None = None,
) -> Decision:
    """Trial ending without a payment method: attribute false and one `stripe-trial-ending`
    per trial. `now` (the sweep) also requires the end to be within the warning days."""
    decision = attribute_sync(snapshot, policy)
    if subscription is None or subscription.status != "trialing" or not subscription.trial_end:
        return Decision(decision.effects, "not trialing")
    if snapshot.payment_method is not None:
        return Decision(decision.effects, "a payment method is on file")
    if now is not None and subscription.trial_end - now > timedelta(days=policy.trial_warning_days):
        return Decision([], "trial end not within the warning days")
    days_left = days_until(subscription.trial_end, now or _at(created_at))
    metadata = event_metadata(
        {
            "plan": subscription.plan.product_name if subscription.plan else None,
            "trial_end_date": _unix(subscription.trial_end),
            "days_left": days_left,
            "subscription": subscription.id,
        }
    )
    key = f"trial-ending/{subscription.id}/{_unix(subscription.trial_end)}"
    decision.effects.append(TrackEvent(TRIAL_ENDING_EVENT, created_at, metadata, once_key=key))
    return Decision(decision.effects, "trial ending without a payment method")


# --- usage threshold -----------------------------------------------------------------------
def usage_reading(snapshot: BillingSnapshot, *, alerted_value: float | None = None) -> UsageReading:
    """The snapshot's meter reading; an alert's value wins when higher (meter summaries are
    eventually consistent and may lag the alert that just fired)."""
    usage = _usage_of(snapshot)
    if alerted_value is not None:
        used = max(usage.used, alerted_value)
        return UsageReading(used, usage.limit, usage.meter_id, usage.period_start, usage.period_end)
    return usage


def usage_threshold(
    snapshot: BillingSnapshot,
    reading: UsageReading,
    created_at: int,
    policy: AutomationPolicy,
    *,
    alerted: bool = False,
    once_key: str | None = None,
) -> Decision:
    """High usage (≥ the usage ratio of the plan's limit, or a Stripe usage alert when no limit
    is known): `usage_status` = high_risk and one `stripe-usage-threshold` per period."""
    ratio = reading.ratio
    high = ratio >= policy.usage_high_ratio if ratio is not None else alerted
    status = "high_risk" if high else ("ok" if ratio is not None else None)
    effects: list[Effect] = [
        SetAttributes(billing_attributes(snapshot, policy, usage_status=status)),
        *billing_issue_tags(snapshot),
    ]
    if not high:
        return Decision(effects, "usage below the threshold")
    period = _unix(reading.period_start) if reading.period_start else created_at
    metadata = event_metadata(
        {
            "used": _number(reading.used),
            "limit": reading.limit or None,
            "percent": round(ratio * 100) if ratio is not None else None,
            "meter": reading.meter_id,
            "plan": _plan_name(snapshot),
            "period_end_date": _unix(reading.period_end),
        }
    )
    key = once_key or f"usage-high/{snapshot.customer.id}/{period}"
    effects.append(TrackEvent(USAGE_THRESHOLD_EVENT, created_at, metadata, once_key=key))
    return Decision(effects, "usage at or above the threshold")


# --- helpers -------------------------------------------------------------------------------
def _money(money: Money) -> dict[str, Any]:
    # Intercom's monetary metadata: amount in the minor unit, lower-case currency.
    return {"amount": money.amount, "currency": money.currency}


def _link(url: str | None, text: str) -> Any:
    # Intercom's rich link metadata; without a URL, the invoice number alone.
    return {"url": url, "value": text} if url else text


def _major(money: Money) -> float:
    return float(money.major)


def _number(value: float) -> int | float:
    # A JSON number Workflow rules can compare; whole amounts without a trailing ".0".
    return int(value) if float(value).is_integer() else value


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _usage_of(snapshot: BillingSnapshot) -> UsageReading:
    usage = snapshot.usage
    if usage is None:
        return UsageReading(0.0, 0, None, None, None)
    return UsageReading(
        usage.used, usage.limit, usage.meter_id, usage.period_start, usage.period_end
    )


def _usage_status(reading: UsageReading, policy: AutomationPolicy) -> str | None:
    ratio = reading.ratio
    if ratio is None:
        return None
    return "high_risk" if ratio >= policy.usage_high_ratio else "ok"


def _plan_name(snapshot: BillingSnapshot) -> str | None:
    sub = snapshot.subscription
    return sub.plan.product_name if sub and sub.plan else None
