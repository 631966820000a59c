"""Latency of Fin's `next-invoice` and `upgrade-quote` against the sandbox Stripe with injected
latency: p50/p95 per endpoint, Stripe requests per call and the longest chain of sequential
Stripe requests, read from the sandbox's request log. Target: p50 ≤ 2.15 × the injected latency.

Run alone (`python -m sandbox.bench_fin`), it starts the sandbox Stripe and an app with the
snapshot cache off, so every call pays its Stripe round trips; `sandbox.bench` calls
`run_fin_bench` against the app it started.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

import httpx

from sandbox.bench import longest_chain, percentile

# The demo customers as Intercom identifies them (docs/demo-world.md).
FIN_CUSTOMERS = [
    {"email": "anna@example.com", "user_id": "usr_anna"},
    {"email": "buchhaltung@mueller-maschinenbau.de", "user_id": "usr_mueller"},
    {"email": "jonas@startup.example", "user_id": "usr_jonas"},
    {"email": "lena@fischer-digital.example", "user_id": "usr_lena"},
    {"email": "paul@wagner-cloud.example", "user_id": "usr_paul"},
    {"email": "rechnung@schulz-logistik.example", "user_id": "usr_schulz"},  # 500 invoices
]
# Business yearly is an upgrade or an interval change for every demo customer: always a preview.
CALLS = {
    "/fin/next-invoice": {},
    "/fin/upgrade-quote": {"target_plan": "Business", "interval": "year"},
}


def run_fin_bench(
    app_url: str, fin_token: str, stripe_control_url: str, latency_ms: float, n: int
) -> list[dict[str, Any]]:
    """One row per endpoint: p50/p95 over `n` sequential calls rotating over the demo customers,
    Stripe requests per call and the longest sequential chain of one call."""
    httpx.post(f"{stripe_control_url}/_sandbox/latency", json={"ms": latency_ms}, timeout=10)
    rows = []
    with httpx.Client(
        base_url=app_url, headers={"Authorization": f"Bearer {fin_token}"}, timeout=30
    ) as client:
        for path, fields in CALLS.items():
            chains = []
            for customer in FIN_CUSTOMERS:
                _forget(stripe_control_url)
                _call(client, path, {**customer, **fields})
                chains.append(longest_chain(_log(stripe_control_url)))
            _forget(stripe_control_url)
            timings = [
                _call(client, path, {**FIN_CUSTOMERS[i % len(FIN_CUSTOMERS)], **fields})
                for i in range(n)
            ]
            requests = len(_log(stripe_control_url))
            p50 = statistics.median(timings)
            rows.append(
                {
                    "endpoint": path,
                    "latency_ms": latency_ms,
                    "calls": n,
                    "p50_ms": round(p50, 1),
                    "p95_ms": round(percentile(timings, 0.95), 1),
                    "max_ms": round(max(timings), 1),
                    "p50_over_latency": round(p50 / latency_ms, 2) if latency_ms else None,
                    "stripe_requests_per_call": round(requests / n, 1),
                    "longest_chain": max(chains),
                }
            )
    return rows


def format_fin_bench(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    latency = rows[0]["latency_ms"]
    lines = [
        "",
        f"Fin data connectors, {latency:g} ms injected per Stripe request "
        f"({rows[0]['calls']} sequential calls per row, customers rotating)",
        "",
        f"{'endpoint':<22}{'p50 ms':>9}{'p95 ms':>9}{'p50/lat':>9}"
        f"{'Stripe req/call':>17}{'chain':>7}  target p50 ≤ {2.15 * latency:g} ms",
    ]
    for row in rows:
        ok = row["p50_ms"] <= 2.15 * latency
        lines.append(
            f"{row['endpoint']:<22}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
            f"{row['p50_over_latency'] or 0:>9.2f}{row['stripe_requests_per_call']:>17.1f}"
            f"{row['longest_chain']:>7}  {'ok' if ok else 'MISSED'}"
        )
    return lines


def _call(client: httpx.Client, path: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = client.post(path, json=body)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")
    return elapsed


def _log(stripe_control_url: str) -> list[dict[str, Any]]:
    data = httpx.get(f"{stripe_control_url}/_sandbox/requests", timeout=10).json()
    return [r for r in data["requests"] if r["path"].startswith("/v1/")]


def _forget(stripe_control_url: str) -> None:
    httpx.delete(f"{stripe_control_url}/_sandbox/requests", timeout=10)


def main(argv: list[str] | None = None) -> int:
    from sandbox.bench import STRIPE_KEY, app_env, app_process, process
    from sandbox.serving import free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args(argv)
    os.makedirs("var", exist_ok=True)
    stripe_port, app_port = free_port(), free_port()
    stripe_url, app_url = f"http://127.0.0.1:{stripe_port}", f"http://127.0.0.1:{app_port}"
    stripe_args = [
        sys.executable,
        "-m",
        "sandbox.stripe_api",
        "--port",
        str(stripe_port),
        "--api-key",
        STRIPE_KEY,
    ]
    env = app_env(stripe_url, 0, "bench-fin")
    with process(stripe_args, {}, f"{stripe_url}/_sandbox/clock"), app_process(app_port, env):
        rows = run_fin_bench(
            app_url, env["FIN_ACTION_TOKENS"], stripe_url, args.latency_ms, args.calls
        )
    for line in format_fin_bench(rows):
        print(line)
    return 0 if all(r["p50_ms"] <= 2.15 * args.latency_ms for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
