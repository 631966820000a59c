"""How long a Stripe call may wait on rate limits: the caller's time budget.

Rate limits (429) are per Stripe account, shared by every instance: a rate-limited call waits
(`Retry-After` if Stripe sends one, else exponential backoff with jitter) and tries again, but
only while the caller's time budget (`time_budget`/`wait_budget`, e.g. a render's 8 s) or,
without one, the gateway's `rate_limit_patience` allows; then it raises `StripeRateLimited`.
The edges set the budget; `gateways.stripe_connection` keeps to it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

RATE_LIMIT_PATIENCE = 60.0  # s a call without a budget (the sweep) may spend waiting on 429s
_deadline: ContextVar[float | None] = ContextVar("stripe_deadline", default=None)


@contextmanager
def wait_budget(seconds: float) -> Iterator[None]:
    """Stripe calls in this context wait on rate limits only until `seconds` from now."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


@asynccontextmanager
async def time_budget(seconds: float) -> AsyncIterator[None]:
    """`asyncio.timeout(seconds)` that Stripe calls know about: a rate-limited call gives up
    as soon as waiting would overrun it, instead of being cancelled at the end."""
    with wait_budget(seconds):
        async with asyncio.timeout(seconds):
            yield


def rate_limit_deadline(patience: float) -> float:
    """When (`time.monotonic()`) a call started now stops waiting on rate limits: at the end
    of the budget it runs in, else `patience` seconds from now."""
    end = _deadline.get()
    return time.monotonic() + patience if end is None else end
