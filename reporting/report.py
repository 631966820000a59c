"""The recovery and refund report: what the app earned, from our own records.

Sources: `payment_failures` (every invoice whose payment failed, from the webhooks, and how it
ended) and the audit trail (`audit_log`: our retries, pay-by-card payments, refunds and the
cancel-or-save flow's choices). Stripe is not asked: everything needed was recorded
when it happened.

- Failed payments are grouped by the month of their first failure (a cohort): of what failed in
  November, how much was recovered, lost, or is still open. Months without failures are shown.
- Channel of a recovery: the last of our successful collection attempts (audit `invoice_retry`)
  made after the invoice's last failure and before it was paid — "pay_by_card" → the card link,
  an admin → an agent's retry, a customer → the retry in the chat; none → Stripe's own retries
  (smart retries, or the customer paying Stripe's hosted invoice page).
- Cancellations: audit rows of action `cancellation`, `reason` naming the chosen option
  (`cancel…` = cancelled; anything else, e.g. `pause`, `coupon`, `plan_switch` = saved by that
  offer). No such rows yet → the section says "not available yet".
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from billing.sepa import sepa_reason
from storage import Database
from storage.actions import ActionStore, AuditEntry
from storage.payment_failures import FailureRecord, failures_since

# What became of a failed payment.
CHANNELS = ("chat_retry", "card_link", "agent_retry", "stripe_retry", "lost", "open", "open_long")
RECOVERED_CHANNELS = ("chat_retry", "card_link", "agent_retry", "stripe_retry")
# Our attempt must precede the payment; Stripe's paid_at has whole seconds.
PAYMENT_SLACK = timedelta(minutes=5)

Amounts = dict[str, int]  # currency → minor units


@dataclass
class Tally:
    count: int = 0
    amounts: Amounts = field(default_factory=dict)

    def add(self, amount: int | None, currency: str | None) -> None:
        self.count += 1
        if amount is not None and currency:
            self.amounts[currency] = self.amounts.get(currency, 0) + amount


@dataclass
class MonthRow:
    month: str  # YYYY-MM
    failed: Tally = field(default_factory=Tally)
    recovered: Tally = field(default_factory=Tally)
    lost: Tally = field(default_factory=Tally)
    open: Tally = field(default_factory=Tally)

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered.count / self.failed.count if self.failed.count else None


@dataclass
class ReasonRow:
    key: str  # "sepa:AM04", "card:insufficient_funds", "unknown"
    method: str  # sepa_debit | card | other
    code: str | None  # AM04 / the decline or failure code
    tally: Tally = field(default_factory=Tally)
    recovered: int = 0


@dataclass
class ActorRefunds:
    actor: str  # fin | admin
    refunded: Tally = field(default_factory=Tally)
    refused: int = 0
    failed: int = 0
    pending: int = 0
    refused_by_code: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, Tally] = field(default_factory=dict)


@dataclass
class Cancellations:
    available: bool
    requests: int = 0
    cancelled: int = 0
    saved: int = 0
    saved_by_offer: dict[str, int] = field(default_factory=dict)


@dataclass
class Report:
    generated_at: datetime
    since: datetime | None
    open_days: int
    failed: Tally
    recovered: Tally
    median_hours_to_recover: float | None
    months: list[MonthRow]
    reasons: list[ReasonRow]
    channels: dict[str, Tally]
    median_hours_by_channel: dict[str, float | None]
    refunds: list[ActorRefunds]
    cancellations: Cancellations

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered.count / self.failed.count if self.failed.count else None

    @property
    def main_currency(self) -> str | None:
        """The currency most money failed in (the charts draw it; others are listed)."""
        if not self.failed.amounts:
            return None
        return max(self.failed.amounts, key=lambda c: self.failed.amounts[c])

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["generated_at"] = _iso(self.generated_at)
        data["since"] = _iso(self.since) if self.since else None
        data["recovery_rate"] = self.recovery_rate
        for month, row in zip(data["months"], self.months, strict=True):
            month["recovery_rate"] = row.recovery_rate
        return data


async def build_report(
    db: Database, *, since: datetime | None = None, open_days: int = 7, now: datetime | None = None
) -> Report:
    now = now or datetime.now(UTC)
    failures = await failures_since(db, since)
    store = ActionStore(db)
    retries = await store.entries(
        actions=("invoice_retry",),
        object_ids=[f.invoice_id for f in failures],
        limit=None,
        oldest_first=True,
    )
    refunds = await store.entries(actions=("refund",), since=since, limit=None, oldest_first=True)
    cancellations = await store.entries(
        actions=("cancellation",), since=since, limit=None, oldest_first=True
    )
    return compute_report(
        failures,
        retries,
        refunds,
        cancellations,
        since=since,
        open_days=open_days,
        now=now,
    )


def compute_report(
    failures: list[FailureRecord],
    retries: list[AuditEntry],
    refunds: list[AuditEntry],
    cancellations: list[AuditEntry],
    *,
    since: datetime | None,
    open_days: int,
    now: datetime,
) -> Report:
    retries_by_invoice: dict[str, list[AuditEntry]] = defaultdict(list)
    for entry in retries:
        if entry.object_id:
            retries_by_invoice[entry.object_id].append(entry)

    first = since or (failures[0].first_failed_at if failures else now)
    months = {key: MonthRow(key) for key in _months(first, now)}
    channels = {name: Tally() for name in CHANNELS}
    reasons: dict[str, ReasonRow] = {}
    failed, recovered = Tally(), Tally()
    hours: list[float] = []
    hours_by_channel: dict[str, list[float]] = defaultdict(list)

    for failure in failures:
        channel = channel_of(
            failure, retries_by_invoice.get(failure.invoice_id, []), now, open_days
        )
        month = months.setdefault(
            _month(failure.first_failed_at), MonthRow(_month(failure.first_failed_at))
        )
        amount, currency = failure.amount, failure.currency
        failed.add(amount, currency)
        month.failed.add(amount, currency)
        channels[channel].add(amount, currency)
        reason = _reason(failure)
        row = reasons.setdefault(reason.key, reason)
        row.tally.add(amount, currency)
        if channel in RECOVERED_CHANNELS:
            paid = failure.amount_paid if failure.amount_paid is not None else amount
            recovered.add(paid, currency)
            month.recovered.add(paid, currency)
            row.recovered += 1
            assert failure.resolved_at is not None
            took = (failure.resolved_at - failure.first_failed_at).total_seconds() / 3600
            hours.append(took)
            hours_by_channel[channel].append(took)
        elif channel == "lost":
            month.lost.add(amount, currency)
        else:
            month.open.add(amount, currency)

    return Report(
        generated_at=now,
        since=since,
        open_days=open_days,
        failed=failed,
        recovered=recovered,
        median_hours_to_recover=_median(hours),
        months=[months[key] for key in sorted(months)],
        reasons=sorted(reasons.values(), key=lambda r: (-r.tally.count, r.key)),
        channels=channels,
        median_hours_by_channel={c: _median(hours_by_channel[c]) for c in RECOVERED_CHANNELS},
        refunds=_refunds(refunds),
        cancellations=_cancellations(cancellations),
    )


def channel_of(
    failure: FailureRecord, retries: list[AuditEntry], now: datetime, open_days: int
) -> str:
    if failure.resolution in ("voided", "uncollectible"):
        return "lost"
    if failure.resolution != "paid" or failure.resolved_at is None:
        age = now - failure.first_failed_at
        return "open_long" if age > timedelta(days=open_days) else "open"
    ours = [
        entry
        for entry in retries
        if entry.outcome == "succeeded"
        and failure.last_failed_at <= entry.created_at <= failure.resolved_at + PAYMENT_SLACK
    ]
    if not ours:
        return "stripe_retry"
    last = ours[-1]
    if last.reason == "pay_by_card":
        return "card_link"
    if last.actor_type == "admin":
        return "agent_retry"
    return "chat_retry"


def _reason(failure: FailureRecord) -> ReasonRow:
    if failure.method_type == "sepa_debit" and failure.failure_code:
        sepa = sepa_reason(failure.failure_code)
        code = sepa.code if sepa else failure.failure_code
        return ReasonRow(f"sepa:{code}", "sepa_debit", code)
    if failure.method_type == "card":
        code = failure.decline_code or failure.failure_code or "declined"
        return ReasonRow(f"card:{code}", "card", code)
    if failure.failure_code:
        method = failure.method_type or "other"
        return ReasonRow(f"{method}:{failure.failure_code}", method, failure.failure_code)
    return ReasonRow("unknown", failure.method_type or "other", None)


def _refunds(entries: list[AuditEntry]) -> list[ActorRefunds]:
    by_actor = {actor: ActorRefunds(actor) for actor in ("fin", "admin")}
    for entry in entries:
        summary = by_actor.setdefault(entry.actor_type, ActorRefunds(entry.actor_type))
        if entry.outcome == "succeeded":
            summary.refunded.add(entry.amount, entry.currency)
            reason = (entry.reason or "").strip()[:80] or "-"
            summary.by_reason.setdefault(reason, Tally()).add(entry.amount, entry.currency)
        elif entry.outcome == "refused":
            summary.refused += 1
            code = entry.error_code or "refused"
            summary.refused_by_code[code] = summary.refused_by_code.get(code, 0) + 1
        elif entry.outcome == "failed":
            summary.failed += 1
        else:
            summary.pending += 1
    return list(by_actor.values())


def _cancellations(entries: list[AuditEntry]) -> Cancellations:
    done = [e for e in entries if e.outcome == "succeeded"]
    if not entries:
        return Cancellations(available=False)
    offers = Counter(
        (e.reason or "offer") for e in done if not (e.reason or "").startswith("cancel")
    )
    saved = sum(offers.values())
    return Cancellations(
        available=True,
        requests=len(done),
        cancelled=len(done) - saved,
        saved=saved,
        saved_by_offer=dict(offers),
    )


def _months(start: datetime, end: datetime) -> list[str]:
    keys = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
