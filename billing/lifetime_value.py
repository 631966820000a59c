"""A customer's lifetime value: every paid invoice net of every refund, per currency.

It is a sum over the whole history (a request per 100 paid invoices and per 100 charges), so it
is loaded apart from the snapshot and may finish after it (`LifetimeValueLoad.first_round`);
`billing.lookup` caches it longer than snapshots and drops it on the customer's webhooks.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable

from billing.money import Money
from billing.snapshot import LifetimeValue
from gateways.stripe import StripeGateway, gather_all
from gateways.stripe_models import ListObject, PaidAmount

MAX_HISTORY_PAGES = 50  # 5,000 paid invoices and charges each


class LifetimeValueLoad:
    """Every paid invoice and every charge's refunds of a customer, summed; the two lists are
    paged side by side (100 per request: 500 paid invoices are 5 sequential requests).

    `first_round` resolves once the first page of each list is in: with the value if those
    pages were all there is, else None. `complete` resolves with the value. Create it inside a
    running event loop; it runs to its end whoever waits for it.
    """

    def __init__(self, gateway: StripeGateway, customer_id: str) -> None:
        self.first_round: asyncio.Future[LifetimeValue | None] = (
            asyncio.get_running_loop().create_future()
        )
        self.complete: asyncio.Task[LifetimeValue] = asyncio.ensure_future(
            self._load(gateway, customer_id)
        )

    async def _load(self, gateway: StripeGateway, customer_id: str) -> LifetimeValue:
        try:
            invoices, charges = await gather_all(
                gateway.paid_invoice_amounts(customer_id), gateway.charged_amounts(customer_id)
            )
            if not (invoices.has_more or charges.has_more):
                value = lifetime_value(invoices.data, charges.data)
                self._first(value)
                return value
            self._first(None)
            more_invoices, more_charges = await gather_all(
                _rest(gateway.paid_invoice_amounts, customer_id, invoices),
                _rest(gateway.charged_amounts, customer_id, charges),
            )
            return lifetime_value(invoices.data + more_invoices, charges.data + more_charges)
        finally:
            self._first(None)

    def _first(self, value: LifetimeValue | None) -> None:
        if not self.first_round.done():
            self.first_round.set_result(value)


async def _rest(
    page_of: Callable[..., Awaitable[ListObject[PaidAmount]]],
    customer_id: str,
    page: ListObject[PaidAmount],
) -> list[PaidAmount]:
    items: list[PaidAmount] = []
    for _ in range(MAX_HISTORY_PAGES):
        if not page.has_more or not page.data:
            break
        page = await page_of(customer_id, starting_after=page.data[-1].id)
        items.extend(page.data)
    return items


def lifetime_value(invoices: Iterable[PaidAmount], charges: Iterable[PaidAmount]) -> LifetimeValue:
    """Paid invoices net of refunds, per currency (largest first)."""
    totals: dict[str, int] = defaultdict(int)
    for invoice in invoices:
        if invoice.status == "paid":
            totals[invoice.currency] += invoice.amount_paid
    for charge in charges:
        if charge.amount_refunded:
            totals[charge.currency] -= charge.amount_refunded
    return tuple(
        Money(amount, currency)
        for currency, amount in sorted(totals.items(), key=lambda kv: -kv[1])
    )
