"""`python -m canvas_app sweep`: the automations' time-based work, safe to run on a schedule.

- escalation: an open invoice still unpaid `ESCALATION_DELAY_HOURS` after its first failed
  payment → tag `Billing-Escalated` and one note for customer success;
- trials: a trial ending within `TRIAL_WARNING_DAYS` with no payment method → the trial
  converter (once per trial; the `trial_will_end` webhook and the sweep share the mark);
- usage: metered usage at or above `USAGE_HIGH_RATIO` of the plan's limit (price/product
  metadata) → `usage_status` = high_risk and one `stripe-usage-threshold` per billing period.

Running it twice in a row is harmless: notes and once-only events are marked, tags and
attributes are only written when Intercom's differ. `--dry-run` reads everything, writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from automations.facts import Decision
from automations.handling import Automations, CustomerState, invoice_facts
from automations.recipes import (
    escalation,
    trial_converter,
    usage_reading,
    usage_threshold,
)
from billing.errors import BillingError
from billing.money import to_datetime
from gateways.intercom import IntercomError

log = logging.getLogger(__name__)

JOBS = ("escalation", "trials", "usage")
CONCURRENCY = 8  # customers handled at once: Stripe and Intercom rate limits leave room


@dataclass
class SweepItem:
    """One thing the sweep looked at, and what it did (or would do) about it."""

    job: str
    subject: str  # invoice or subscription id
    customer_id: str
    outcome: str  # acted | unchanged | waiting | no_contact | ambiguous_contact | failed | ...
    contact_id: str | None = None
    writes: list[str] = field(default_factory=list)
    note: str = ""

    def line(self, dry_run: bool) -> str:
        prefix = "[dry-run] " if dry_run else ""
        target = f"{self.customer_id} → {self.contact_id}" if self.contact_id else self.customer_id
        what = "; ".join(self.writes) if self.writes else self.note or self.outcome
        verb = "would write" if dry_run and self.writes else self.outcome
        return f"{prefix}{self.job:<10} {self.subject:<28} {target}: {verb}: {what}"


Entry = SweepItem | Awaitable[SweepItem]


@dataclass
class SweepReport:
    dry_run: bool
    items: list[SweepItem] = field(default_factory=list)

    @property
    def failed(self) -> list[SweepItem]:
        return [item for item in self.items if item.outcome == "failed"]

    @property
    def write_count(self) -> int:
        return sum(len(item.writes) for item in self.items)

    def lines(self) -> list[str]:
        lines = [item.line(self.dry_run) for item in self.items]
        acted = sum(1 for item in self.items if item.writes)
        verb = "would change" if self.dry_run else "changed"
        lines.append(
            f"sweep: {len(self.items)} checked, {acted} {verb} "
            f"({self.write_count} Intercom writes), {len(self.failed)} failed"
        )
        return lines


class Sweep:
    """One run: loads each customer at most once, whatever jobs need it."""

    def __init__(self, automations: Automations, *, now: datetime, dry_run: bool) -> None:
        self.automations = automations
        self.now = now
        self.dry_run = dry_run
        self.report = SweepReport(dry_run)
        self._states: dict[str, asyncio.Future[CustomerState]] = {}

    async def run(self, jobs: tuple[str, ...] = JOBS) -> SweepReport:
        if "escalation" in jobs:
            await self.escalations()
        if "trials" in jobs:
            await self.trials()
        if "usage" in jobs:
            await self.usage()
        return self.report

    # --- jobs ---
    async def escalations(self) -> None:
        policy = self.automations.policy
        entries: list[Entry] = []
        for invoice in await self.automations.stripe.list_open_invoices():
            if not invoice.attempt_count:
                continue
            customer_id = _id_of(invoice.customer)
            if await self._marked(f"escalated/{invoice.id}"):
                entries.append(_item("escalation", invoice.id, customer_id, "escalated before"))
                continue
            # The first failure can't predate the invoice: young invoices need no Stripe reads.
            created = to_datetime(invoice.created)
            if created and self.now - created < policy.escalation_delay:
                entries.append(
                    _item("escalation", invoice.id, customer_id, "delay not reached", "waiting")
                )
                continue

            async def decide(state: CustomerState, invoice: Any = invoice) -> Decision:
                payments = await self.automations.stripe.list_invoice_payments(invoice.id)
                facts = invoice_facts(invoice, payments, state.snapshot)
                return escalation(state.snapshot, facts, self.now, policy)

            entries.append(self._act("escalation", invoice.id, customer_id, decide))
        await self._settle(entries)

    async def trials(self) -> None:
        policy = self.automations.policy
        warning = timedelta(days=policy.trial_warning_days)
        entries: list[Entry] = []
        for sub in await self.automations.stripe.list_subscriptions_with_status("trialing"):
            trial_end = to_datetime(sub.trial_end)
            if trial_end is None or trial_end <= self.now or trial_end - self.now > warning:
                continue
            customer_id = _id_of(sub.customer)
            if await self._marked(f"trial-ending/{sub.id}/{sub.trial_end}"):
                entries.append(_item("trial", sub.id, customer_id, "trial warning sent before"))
                continue

            async def decide(state: CustomerState, sub_id: str = sub.id) -> Decision:
                summary = next((s for s in state.snapshot.subscriptions if s.id == sub_id), None)
                created_at = int(self.now.timestamp())
                return trial_converter(state.snapshot, summary, created_at, policy, now=self.now)

            entries.append(self._act("trial", sub.id, customer_id, decide))
        await self._settle(entries)

    async def usage(self) -> None:
        policy = self.automations.policy
        entries: list[Entry] = []
        subscriptions = [
            sub
            for status in ("active", "past_due")
            for sub in await self.automations.stripe.list_subscriptions_with_status(status)
        ]
        for sub in subscriptions:
            metered = next((item for item in sub.items.data if _metered(item)), None)
            if metered is None:
                continue
            customer_id = _id_of(sub.customer)
            key = f"usage-high/{customer_id}/{metered.current_period_start}"
            if await self._marked(key):
                entries.append(_item("usage", sub.id, customer_id, "alerted this period"))
                continue

            async def decide(state: CustomerState) -> Decision:
                reading = usage_reading(state.snapshot)
                if reading.ratio is None:
                    return Decision([], "no usage limit in the plan's metadata")
                if reading.ratio < policy.usage_high_ratio:
                    return Decision([], f"usage at {reading.ratio:.0%}, below the threshold")
                created_at = int(self.now.timestamp())
                return usage_threshold(state.snapshot, reading, created_at, policy)

            entries.append(self._act("usage", sub.id, customer_id, decide))
        await self._settle(entries)

    # --- plumbing ---
    async def _act(self, job: str, subject: str, customer_id: str, decide: Any) -> SweepItem:
        try:
            state = await self._state(customer_id)
            decision: Decision = await decide(state)
            if not decision.effects:
                return _item(job, subject, customer_id, decision.reason, "waiting")
            contact = state.match.contact
            if contact is None:
                return _item(job, subject, customer_id, decision.reason, state.match.outcome)
            applied = await self.automations.apply(contact, decision, dry_run=self.dry_run)
        except (BillingError, IntercomError) as exc:
            log.warning("sweep %s %s failed: %s", job, subject, exc)
            return _item(job, subject, customer_id, f"{type(exc).__name__}: {exc}", "failed")
        if applied.writes and not self.dry_run:
            # The contact changed: a later job for this customer reads it again.
            self._states.pop(customer_id, None)
        outcome = "acted" if applied.writes else "unchanged"
        return SweepItem(
            job, subject, customer_id, outcome, contact.id, applied.writes, decision.reason
        )

    async def _settle(self, entries: list[Entry]) -> None:
        """Work through a job's customers a few at a time; report them in listing order."""
        slots = asyncio.Semaphore(CONCURRENCY)

        async def run(entry: Entry) -> SweepItem:
            if isinstance(entry, SweepItem):
                return entry
            async with slots:
                return await entry

        self.report.items.extend(await asyncio.gather(*(run(entry) for entry in entries)))

    async def _state(self, customer_id: str) -> CustomerState:
        """Each customer is read once per sweep, however many jobs and items need it."""
        if customer_id not in self._states:
            self._states[customer_id] = asyncio.ensure_future(self._load(customer_id))
        return await self._states[customer_id]

    async def _load(self, customer_id: str) -> CustomerState:
        self.automations.billing.forget(customer_id)  # this process reads afresh; tells no one
        customer = await self.automations.stripe.retrieve_customer(customer_id)
        return await self.automations.customer_state(customer)

    async def _marked(self, key: str) -> bool:
        mark = await self.automations.marks.get(key)
        return mark is not None and mark.state == "done"


def _item(
    job: str, subject: str, customer_id: str, note: str, outcome: str = "unchanged"
) -> SweepItem:
    return SweepItem(job, subject, customer_id, outcome, note=note)


def _metered(item: Any) -> bool:
    recurring = item.price.recurring
    return bool(recurring and getattr(recurring, "usage_type", None) == "metered")


def _id_of(value: Any) -> str:
    return value if isinstance(value, str) else value.id
