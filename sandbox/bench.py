"""`make bench`: the inbox sidebar against the sandbox Stripe with injected latency.

Each server runs in its own process (so the load generator, the app and the sandbox don't share
a GIL): the sandbox Stripe with `--latency-ms` on every API request, and two app instances, one
with the snapshot cache off (every render cold) and one with the default cache (warm renders).
Reports p50/p95 at concurrency 1 and 32, Stripe requests per render and the longest chain of
sequential Stripe requests, read from the sandbox's request log.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from sandbox.canvas_requests import demo_contact, inbox_initialize, signed
from sandbox.serving import free_port

CONTACTS = ["healthy", "sepa", "trial", "vip", "usage", "shared_a"]
CLIENT_SECRET = "bench-client-secret"
STRIPE_KEY = "sk_test_bench"
FIN_TOKEN = "bench-fin-token"


@contextmanager
def process(args: list[str], env: dict[str, str], url: str) -> Iterator[None]:
    proc = subprocess.Popen(
        args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(args)} did not start")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def app_env(stripe_url: str, cache_seconds: float, db: str) -> dict[str, str]:
    return {
        "STRIPE_API_KEY": STRIPE_KEY,
        "STRIPE_API_BASE": stripe_url,
        "INTERCOM_CLIENT_SECRET": CLIENT_SECRET,
        "SECRET_KEY": "bench-secret-key-0123456789",
        "FIN_ACTION_TOKENS": FIN_TOKEN,
        "SNAPSHOT_CACHE_SECONDS": str(cache_seconds),
        "DATABASE_URL": f"sqlite:///./var/{db}.sqlite3",
        "PUBLIC_URL": "http://127.0.0.1",
    }


def app_process(port: int, env: dict[str, str]) -> Any:
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "canvas_app.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return process(args, env, f"http://127.0.0.1:{port}/healthz")


async def render(client: httpx.AsyncClient, app_url: str, key: str) -> float:
    body, headers = signed(inbox_initialize(demo_contact(key), f"conv_{key}"), CLIENT_SECRET)
    started = time.perf_counter()
    response = await client.post(
        f"{app_url}/canvas/inbox/initialize", content=body, headers=headers
    )
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or "temporarily unavailable" in response.text:
        raise RuntimeError(f"render for {key} failed: {response.status_code} {response.text[:200]}")
    return elapsed


async def measure(app_url: str | list[str], *, concurrency: int, requests: int) -> list[float]:
    """Renders rotating over the demo contacts; several app URLs are used round robin."""
    urls = [app_url] if isinstance(app_url, str) else app_url
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        queue = [(urls[i % len(urls)], CONTACTS[i % len(CONTACTS)]) for i in range(requests)]
        timings: list[float] = []

        async def worker() -> None:
            while queue:
                url, key = queue.pop()
                timings.append(await render(client, url, key))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def longest_chain(log: list[dict[str, Any]]) -> int:
    """Requests overlapping in time ran concurrently; the chain counts requests that each
    started after the previous one ended."""
    spans = sorted((r["start"], r["end"]) for r in log if r.get("end"))
    best: list[int] = []
    for i, (start, _end) in enumerate(spans):
        best.append(1 + max((best[j] for j in range(i) if spans[j][1] <= start), default=0))
    return max(best, default=0)


def stripe_log(stripe_url: str) -> list[dict[str, Any]]:
    return [
        r
        for r in httpx.get(f"{stripe_url}/_sandbox/requests").json()["requests"]
        if r["path"].startswith("/v1/")
    ]


def run_bench(*, latency_ms: float = 100, requests: int = 64) -> int:
    os.makedirs("var", exist_ok=True)
    stripe_port, cold_port, warm_port = free_port(), free_port(), free_port()
    stripe_url = f"http://127.0.0.1:{stripe_port}"
    cold_url, warm_url = f"http://127.0.0.1:{cold_port}", f"http://127.0.0.1:{warm_port}"
    stripe_args = [
        sys.executable,
        "-m",
        "sandbox.stripe_api",
        "--port",
        str(stripe_port),
        "--api-key",
        STRIPE_KEY,
        "--latency-ms",
        str(latency_ms),
    ]
    rows: list[tuple[str, int, list[float]]] = []
    with (
        process(stripe_args, {}, f"{stripe_url}/_sandbox/clock"),
        app_process(cold_port, app_env(stripe_url, 0, "bench-cold")),
        app_process(warm_port, app_env(stripe_url, 30, "bench-warm")),
    ):
        # Stripe requests per cold render, one contact at a time.
        per_render = []
        for key in CONTACTS:
            httpx.delete(f"{stripe_url}/_sandbox/requests")
            asyncio.run(_one(cold_url, key))
            log = stripe_log(stripe_url)
            per_render.append((key, len(log), longest_chain(log)))
        for concurrency in (1, 32):
            rows.append(
                (
                    "cold",
                    concurrency,
                    asyncio.run(measure(cold_url, concurrency=concurrency, requests=requests)),
                )
            )
        asyncio.run(measure(warm_url, concurrency=1, requests=len(CONTACTS)))  # prime the cache
        for concurrency in (1, 32):
            rows.append(
                (
                    "warm",
                    concurrency,
                    asyncio.run(measure(warm_url, concurrency=concurrency, requests=requests)),
                )
            )
        extra = fin_rows(cold_url, stripe_url, latency_ms)
        from sandbox.bench_instances import run_instances_bench

        instances = run_instances_bench(stripe_url, latency_ms=latency_ms, requests=requests)

    print(
        f"\nInbox initialize against the sandbox Stripe, {latency_ms:g} ms injected per Stripe request"
        f" ({requests} renders per row, contacts rotating over {', '.join(CONTACTS)})\n"
    )
    print(f"{'render':<8}{'concurrency':>12}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for kind, concurrency, timings in rows:
        print(
            f"{kind:<8}{concurrency:>12}{statistics.median(timings):>10.1f}"
            f"{percentile(timings, 0.95):>10.1f}{max(timings):>10.1f}"
        )
    print(f"\n{'contact':<10}{'Stripe requests / cold render':>32}{'longest sequential chain':>28}")
    for key, count, chain in per_render:
        print(f"{key:<10}{count:>32}{chain:>28}")
    cold_p50 = statistics.median(rows[0][2])
    warm_p50 = statistics.median(rows[2][2])
    print(
        f"\ntargets: cold p50 ≤ {2.5 * latency_ms:g} ms → {cold_p50:.1f} ms "
        f"({'ok' if cold_p50 <= 2.5 * latency_ms else 'MISSED'}); "
        f"warm p50 ≤ 10 ms → {warm_p50:.1f} ms ({'ok' if warm_p50 <= 10 else 'MISSED'}); "
        f"chain ≤ 2 → max {max(c for _, _, c in per_render)}"
    )
    for line in extra:
        print(line)
    for line in instances:
        print(line)
    from sandbox.bench_automations import run_automations_bench

    print("\nStripe webhook → Intercom (failed SEPA payment), separate sandboxes:\n")
    print("\n".join(run_automations_bench(stripe_latency_ms=latency_ms, runs=3).lines()))
    return 0


async def _one(app_url: str, key: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        await render(client, app_url, key)


def fin_rows(app_url: str, stripe_url: str, latency_ms: float) -> list[str]:
    """The Fin endpoints' latency, when the Fin edge's benchmark is available."""
    try:
        from sandbox.bench_fin import format_fin_bench, run_fin_bench
    except ImportError:
        return []
    return format_fin_bench(run_fin_bench(app_url, FIN_TOKEN, stripe_url, latency_ms, 30))
