"""Two app instances (separate processes) on one PostgreSQL database: the warm sidebar behind a
round-robin client at concurrency 32, and the invalidation delay across instances — a Stripe
webhook delivered to instance A until instance B's next render shows the change (≥ 20 trials).

Run alone: `python -m sandbox.bench_instances [--trials 20]` (starts the sandbox Stripe and the
two apps); `sandbox.bench` calls `run_instances_bench` with the sandbox Stripe it started. Needs
PostgreSQL (`BENCH_POSTGRES_URL`, default the CI server's `test` database's server): each run
creates a throwaway database and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import sqlalchemy as sa
import stripe
from sqlalchemy.ext.asyncio import create_async_engine

from sandbox.bench import (
    CLIENT_SECRET,
    CONTACTS,
    STRIPE_KEY,
    app_env,
    app_process,
    measure,
    percentile,
    process,
)
from sandbox.canvas_requests import demo_contact, inbox_initialize, signed
from sandbox.serving import free_port
from sandbox.stripe_api import objects as stripe_objects

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
WEBHOOK_SECRET = "whsec_bench"
CANCELS = "Cancels at period end"


async def _admin(statement: str) -> None:
    url = "postgresql+asyncpg://" + POSTGRES_URL.split("://", 1)[1]
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@contextmanager
def throwaway_database() -> Iterator[str]:
    name = f"bench_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_instances_bench(
    stripe_url: str, *, latency_ms: float, requests: int = 64, trials: int = 20
) -> list[str]:
    """Lines to print: the round-robin row and the invalidation delay."""
    try:
        database = throwaway_database()
        database_url = database.__enter__()
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        return [f"\n(two instances: skipped, PostgreSQL at {POSTGRES_URL} not reachable: {exc})"]
    try:
        env = {
            **app_env(stripe_url, 30, "unused"),
            "DATABASE_URL": database_url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        ports = [free_port(), free_port()]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        httpx.post(f"{stripe_url}/_sandbox/latency", json={"ms": latency_ms}, timeout=10)
        with ExitStack() as stack:
            for port in ports:
                stack.enter_context(app_process(port, env))
            for url in urls:  # prime both caches
                asyncio.run(measure(url, concurrency=1, requests=len(CONTACTS)))
            timings = asyncio.run(measure(urls, concurrency=32, requests=requests))
            delays = [invalidation_delay(urls[0], urls[1], stripe_url, i) for i in range(trials)]
    finally:
        database.__exit__(None, None, None)
    return [
        f"\nTwo instances (separate processes, one PostgreSQL), round-robin client, "
        f"{requests} warm renders:\n",
        f"{'render':<8}{'concurrency':>12}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}",
        f"{'2× warm':<8}{32:>12}{statistics.median(timings):>10.1f}"
        f"{percentile(timings, 0.95):>10.1f}{max(timings):>10.1f}",
        f"\nInvalidation across instances (webhook to A → B's render shows the change), "
        f"{trials} trials: p50 {statistics.median(delays):.1f} ms, max {max(delays):.1f} ms",
    ]


def invalidation_delay(a_url: str, b_url: str, stripe_url: str, trial: int) -> float:
    """ms from sending the webhook to A until a render on B (started then) shows the change."""
    cancel = trial % 2 == 0
    subscription = _set_cancel_at_period_end(stripe_url, cancel)
    # B has the old state cached (its render now costs no Stripe request).
    while (CANCELS in _sidebar(b_url)) == cancel:
        time.sleep(0.05)  # the previous trial's change still reaching B
    return asyncio.run(_race(a_url, b_url, _event(subscription), cancel))


async def _race(a_url: str, b_url: str, event: dict[str, Any], cancel: bool) -> float:
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=int(time.time())
    )
    async with httpx.AsyncClient(timeout=30) as client:
        sent = time.perf_counter()
        delivery = asyncio.ensure_future(
            client.post(
                f"{a_url}/webhooks/stripe",
                content=payload.encode(),
                headers={"Content-Type": "application/json", "Stripe-Signature": header},
            )
        )
        while True:
            started = time.perf_counter()
            if (CANCELS in await _sidebar_async(client, b_url)) == cancel:
                break
            if started - sent > 10:
                raise RuntimeError("B never saw the change")
        response = await delivery
        if response.status_code != 200:
            raise RuntimeError(f"webhook to A failed: {response.status_code} {response.text}")
        return (started - sent) * 1000


def _render_request() -> tuple[bytes, dict[str, str]]:
    return signed(inbox_initialize(demo_contact("healthy"), "conv_healthy"), CLIENT_SECRET)


def _sidebar(app_url: str) -> str:
    body, headers = _render_request()
    response = httpx.post(
        f"{app_url}/canvas/inbox/initialize", content=body, headers=headers, timeout=30
    )
    return response.text


async def _sidebar_async(client: httpx.AsyncClient, app_url: str) -> str:
    body, headers = _render_request()
    response = await client.post(
        f"{app_url}/canvas/inbox/initialize", content=body, headers=headers
    )
    return response.text


def _set_cancel_at_period_end(stripe_url: str, value: bool) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {STRIPE_KEY}"}
    subs = httpx.get(
        f"{stripe_url}/v1/subscriptions", params={"customer": "cus_DemoHealthy"}, headers=auth
    ).json()["data"]
    response = httpx.post(
        f"{stripe_url}/v1/subscriptions/{subs[0]['id']}",
        data={"cancel_at_period_end": "true" if value else "false"},
        headers=auth,
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _event(subscription: dict[str, Any]) -> dict[str, Any]:
    return stripe_objects.event(
        id=f"evt_bench_{secrets.token_hex(10)}",
        created=int(time.time()),
        type="customer.subscription.updated",
        obj=subscription,
        previous_attributes=None,
        request_id=None,
        idempotency_key=None,
        pending_webhooks=1,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.bench_instances")
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    port = free_port()
    stripe_url = f"http://127.0.0.1:{port}"
    stripe_args = [sys.executable, "-m", "sandbox.stripe_api", "--port", str(port)]
    stripe_args += ["--api-key", STRIPE_KEY]
    with process(stripe_args, {}, f"{stripe_url}/_sandbox/clock"):
        lines = run_instances_bench(
            stripe_url, latency_ms=args.latency_ms, requests=args.requests, trials=args.trials
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
