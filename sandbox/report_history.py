"""A month of failed payments, recoveries and refunds, written through the storage API the app
itself uses (the webhook records and the audit trail), for the report's tests, its screenshot
and `python -m sandbox report-history`.

The month before `now` holds seven failures and what became of them; the month before that is
empty; the current month has one fresh failure. Every number in the report follows from here:
8 failures (€332.00), 5 recovered (€225.00, 62.5 %), median 72 h; by channel: chat 1, card link 1,
agent 1, Stripe's retries 2, lost 1, open 1, open after 7 days 1.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta

from storage import Database
from storage.actions import ActionStore, Actor, ActorType, Attempt, Outcome
from storage.payment_failures import FailedPayment, record_end, record_failure


def previous_month_start(now: datetime) -> datetime:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first - timedelta(days=1)).replace(day=1)


async def seed_report_history(db: Database, now: datetime) -> None:
    start = previous_month_start(now)

    def day(d: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
        return start + timedelta(days=d - 1, hours=hour, minutes=minute, seconds=second)

    async def fail(
        invoice: str, customer: str, amount: int, method: str, code: str, decline: str | None, at
    ) -> None:
        await record_failure(
            db,
            FailedPayment(invoice, customer, amount, "eur", method, code, decline, at),
            event_id=f"evt_{invoice}_{at:%d%H}",
        )

    async def retry(
        invoice: str,
        customer: str,
        amount: int,
        at: datetime,
        *,
        how: str = "retry",
        actor: ActorType = "customer",
        outcome: Outcome = "succeeded",
    ) -> None:
        await ActionStore(db).record(
            Attempt(
                actor=Actor(actor, "contact_1" if actor == "customer" else "admin_7"),
                action="invoice_retry",
                customer_id=customer,
                object_id=invoice,
                amount=amount,
                currency="eur",
                reason=how,
            ),
            outcome,
            now=at,
        )

    # 1. SEPA AM04, retried in the chat, the debit settles six days later.
    await fail("in_hist_a", "cus_hist_1", 2900, "sepa_debit", "insufficient_funds", None, day(3, 9))
    await retry("in_hist_a", "cus_hist_1", 2900, day(3, 10))
    await record_end(db, "in_hist_a", "paid", at=day(9, 10), amount_paid=2900)
    # 2. SEPA AM04, paid by card through the link the same day.
    await fail("in_hist_b", "cus_hist_2", 4900, "sepa_debit", "insufficient_funds", None, day(5, 8))
    await retry("in_hist_b", "cus_hist_2", 4900, day(5, 12), how="pay_by_card")
    await record_end(db, "in_hist_b", "paid", at=day(5, 12, 0, 30), amount_paid=4900)
    # 3. A card declined for insufficient funds; Stripe's own retry pays it three days later.
    await fail(
        "in_hist_c", "cus_hist_3", 9900, "card", "card_declined", "insufficient_funds", day(10)
    )
    await record_end(db, "in_hist_c", "paid", at=day(13), amount_paid=9900)
    # 4. SEPA account closed (AC04): our retry is declined, the invoice is voided.
    await fail("in_hist_d", "cus_hist_4", 2900, "sepa_debit", "account_closed", None, day(12))
    await retry("in_hist_d", "cus_hist_4", 2900, day(12, 2), outcome="failed")
    await record_end(db, "in_hist_d", "voided", at=day(20))
    # 5. An expired card, still unpaid a week later.
    await fail("in_hist_e", "cus_hist_5", 4900, "card", "expired_card", None, day(25))
    # 6. SEPA AM04: retried in the chat, returned again, then paid by Stripe's next retry.
    await fail(
        "in_hist_g", "cus_hist_6", 2900, "sepa_debit", "insufficient_funds", None, day(15, 9)
    )
    await retry("in_hist_g", "cus_hist_6", 2900, day(15, 10))
    await fail(
        "in_hist_g", "cus_hist_6", 2900, "sepa_debit", "insufficient_funds", None, day(20, 9)
    )
    await record_end(db, "in_hist_g", "paid", at=day(23, 9), amount_paid=2900)
    # 7. A generic card decline an agent retried from the sidebar.
    await fail("in_hist_h", "cus_hist_7", 1900, "card", "card_declined", "generic_decline", day(18))
    await retry("in_hist_h", "cus_hist_7", 1900, day(18, 6), actor="admin")
    await record_end(db, "in_hist_h", "paid", at=day(18, 6), amount_paid=1900)
    # 8. This month: a fresh SEPA return, still open.
    await fail(
        "in_hist_f",
        "cus_hist_8",
        2900,
        "sepa_debit",
        "insufficient_funds",
        None,
        now - timedelta(hours=1),
    )

    # Refunds: Fin refunds twice and is refused once by the per-customer limit; an agent
    # refunds once and is refused once (payment too old).
    audit = ActionStore(db)
    refunds: tuple[tuple[ActorType, str, int, str, Outcome, str | None, datetime], ...] = (
        ("fin", "cus_hist_1", 1250, "charged twice", "succeeded", None, day(4)),
        ("fin", "cus_hist_3", 2900, "service outage", "succeeded", None, day(14)),
        ("fin", "cus_hist_3", 900, "service outage", "refused", "refund_limit_reached", day(16)),
        ("admin", "cus_hist_2", 4900, "goodwill", "succeeded", None, day(6)),
        ("admin", "cus_hist_5", 4900, "goodwill", "refused", "refund_too_old", day(26)),
    )
    for actor, customer, amount, reason, outcome, code, at in refunds:
        slot = await audit.begin(
            Attempt(
                actor=Actor(actor, None if actor == "fin" else "admin_7"),
                action="refund",
                customer_id=customer,
                object_id=f"ch_hist_{customer[-1]}",
                amount=amount,
                currency="eur",
                reason=reason,
                token_id=f"tok_hist_{customer}_{at:%d}",
            ),
            now=at,
        )
        await audit.finish(
            slot.entry_id,
            outcome,
            stripe_id=f"re_hist_{customer[-1]}" if outcome == "succeeded" else None,
            error_code=code,
            now=at,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True, help="e.g. sqlite+aiosqlite:///./x.db")
    args = parser.parse_args(argv)

    async def run() -> None:
        db = Database(args.database_url)
        await db.start()
        try:
            await seed_report_history(db, datetime.now(UTC))
        finally:
            await db.stop()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
