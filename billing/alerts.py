"""What needs action in a customer's billing, derived from a snapshot (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from billing.money import Money
from billing.snapshot import BillingSnapshot, Payment


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str  # past_due | unpaid | delinquent | payment_failed | payment_processing |
    #            trial_ending | cancels | card_expired | usage_high
    severity: str  # "error" (needs action) | "info"
    payment: Payment | None = None
    days: int | None = None
    date: datetime | None = None
    amount: Money | None = None
    percent: int | None = None


def billing_alerts(
    snapshot: BillingSnapshot,
    now: datetime,
    *,
    trial_warning_days: int = 3,
    usage_high_ratio: float = 0.8,
) -> list[Alert]:
    """Most urgent first: what failed and why, then the account's state, then what is coming."""
    alerts: list[Alert] = []
    sub = snapshot.subscription
    last = snapshot.last_payment
    if last and last.status == "failed":
        alerts.append(Alert("payment_failed", "error", payment=last))
    if sub and sub.status in ("past_due", "unpaid"):
        alerts.append(Alert(sub.status, "error"))
    elif snapshot.customer.delinquent:
        # Past due already says it; delinquency alone (e.g. an unpaid one-off invoice) is news.
        alerts.append(Alert("delinquent", "error"))
    processing = next((p for p in snapshot.payments if p.status == "pending"), None)
    if processing:
        alerts.append(
            Alert("payment_processing", "info", payment=processing, amount=processing.amount)
        )
    if sub and sub.status == "trialing" and sub.trial_end:
        days = days_until(sub.trial_end, now)
        if days <= trial_warning_days:
            kind_severity = "info" if snapshot.payment_method else "error"
            alerts.append(Alert("trial_ending", kind_severity, days=days, date=sub.trial_end))
    if sub and sub.cancel_at_period_end:
        alerts.append(Alert("cancels", "error", date=sub.cancel_at or sub.current_period_end))
    pm = snapshot.payment_method
    if pm and pm.expired(now):
        alerts.append(Alert("card_expired", "error"))
    if snapshot.usage and snapshot.usage.ratio >= usage_high_ratio:
        alerts.append(Alert("usage_high", "info", percent=round(snapshot.usage.ratio * 100)))
    return alerts


def days_until(moment: datetime, now: datetime) -> int:
    """Whole days left, rounded up (a trial ending in 30 hours has 2 days left)."""
    return max(0, math.ceil((moment - now).total_seconds() / 86400))
