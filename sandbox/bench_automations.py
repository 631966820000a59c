"""Benchmark of the Stripe → Intercom automations against both sandboxes with injected latency.

    .venv/bin/python -m sandbox.bench_automations [--stripe-latency-ms 100]
                                                  [--intercom-latency-ms 50] [--runs 5]

1. A failed SEPA renewal (`/_sandbox/demo/fail_payment`), delivered by the sandbox Stripe as
   signed webhooks: the time from the app receiving `invoice.payment_failed` (its ledger's
   `received_at`) to the last Intercom write made for it (the sandbox Intercom's request log),
   and from the first webhook of that payment to the last write of all of them.
2. How many Intercom calls each recipe makes, one signed event at a time.

Everything runs in this process on loopback (servers in threads); both sandboxes are reset and
`intercom-setup` is run before every measurement, so each one starts from the demo world.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import stripe

from automations.setup import set_up_workspace
from sandbox.intercom_api import IntercomState, create_intercom_app, seed_demo_workspace
from sandbox.serving import ThreadedServer
from sandbox.stripe_api import StripeState, create_stripe_app, seed_demo_world

STRIPE_KEY = "sk_test_bench_automations"
INTERCOM_TOKEN = "tok_bench_automations"
WEBHOOK_SECRET = "whsec_bench_automations"
WRITES = ("POST", "PUT", "DELETE")


@dataclass
class RecipeCalls:
    recipe: str
    trigger: str
    reads: int
    writes: int
    paths: list[str]


@dataclass
class BenchResult:
    stripe_latency_ms: float
    intercom_latency_ms: float
    to_last_write: list[float]  # invoice.payment_failed received → its last Intercom write (ms)
    to_handled: list[float]  # invoice.payment_failed received → handled (ms)
    end_to_end: list[float]  # first webhook of the payment received → last write of all (ms)
    events_per_payment: list[str]
    calls: list[RecipeCalls]

    def lines(self) -> list[str]:
        def row(label: str, values: list[float]) -> str:
            return (
                f"  {label:<58}{statistics.median(values):>8.0f}{min(values):>8.0f}"
                f"{max(values):>8.0f}"
            )

        out = [
            f"Failed SEPA payment → Intercom, {len(self.to_last_write)} runs "
            f"(Stripe +{self.stripe_latency_ms:g} ms, Intercom +{self.intercom_latency_ms:g} ms "
            "per request)",
            f"  {'':<58}{'p50 ms':>8}{'min':>8}{'max':>8}",
            row("invoice.payment_failed received → last Intercom write", self.to_last_write),
            row("invoice.payment_failed received → handled (2xx to Stripe)", self.to_handled),
            row("first webhook of the payment → last Intercom write of all", self.end_to_end),
            "  webhooks per failed payment (sandbox order): " + ", ".join(self.events_per_payment),
            "",
            "Intercom calls per recipe (one signed event each, fresh demo world)",
            f"  {'recipe':<20}{'trigger':<44}{'reads':>6}{'writes':>7}  calls",
        ]
        for calls in self.calls:
            out.append(
                f"  {calls.recipe:<20}{calls.trigger:<44}{calls.reads:>6}{calls.writes:>7}  "
                + ", ".join(calls.paths)
            )
        return out


class World:
    """Both sandboxes and the app, on loopback, with the app's webhook endpoint registered."""

    def __init__(self, stripe_latency_ms: float, intercom_latency_ms: float) -> None:
        from canvas_app.app import create_app
        from kernel.settings import load_settings

        self.stripe_latency_ms = stripe_latency_ms
        self.intercom_latency_ms = intercom_latency_ms
        self.stripe_state = StripeState()
        seed_demo_world(self.stripe_state)
        self.intercom_state = IntercomState()
        seed_demo_workspace(self.intercom_state)
        self.stripe = ThreadedServer(create_stripe_app(self.stripe_state, api_key=STRIPE_KEY))
        self.intercom = ThreadedServer(
            create_intercom_app(self.intercom_state, access_token=INTERCOM_TOKEN)
        )
        self.stripe.start()
        self.intercom.start()
        self.db_path = Path(tempfile.mkdtemp(prefix="bench-automations-")) / "app.sqlite3"
        self.settings = load_settings(
            _env_file=None,
            stripe_api_key=STRIPE_KEY,
            stripe_api_base=self.stripe.url,
            stripe_webhook_secret=WEBHOOK_SECRET,
            intercom_client_secret="bench-client-secret",
            intercom_access_token=INTERCOM_TOKEN,
            intercom_api_base=self.intercom.url,
            intercom_admin_id="admin_1",
            secret_key="bench-secret-key-0123456789",
            database_url=f"sqlite+aiosqlite:///{self.db_path}",
            escalation_delay_hours=24,
        )
        self.app = ThreadedServer(create_app(self.settings)).start()
        httpx.post(
            f"{self.stripe.url}/_sandbox/webhook_endpoints",
            json={"url": f"{self.app.url}/webhooks/stripe", "secret": WEBHOOK_SECRET},
        ).raise_for_status()

    def stop(self) -> None:
        for server in (self.app, self.stripe, self.intercom):
            server.stop()

    def fresh(self) -> None:
        """The demo world again, Intercom set up, latency on, logs empty."""
        httpx.post(f"{self.stripe.url}/_sandbox/reset").raise_for_status()
        httpx.post(f"{self.intercom.url}/_sandbox/reset").raise_for_status()
        asyncio.run(set_up_workspace(self.settings))
        httpx.post(f"{self.stripe.url}/_sandbox/latency", json={"ms": self.stripe_latency_ms})
        httpx.post(f"{self.intercom.url}/_sandbox/latency", json={"ms": self.intercom_latency_ms})
        httpx.delete(f"{self.intercom.url}/_sandbox/requests")

    # --- observing ---
    def intercom_log(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.intercom.url}/_sandbox/requests").json()["data"]

    def ledger(self) -> list[dict[str, Any]]:
        with sqlite3.connect(self.db_path) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute("SELECT * FROM webhook_events")]

    def stripe_get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = httpx.get(
            f"{self.stripe.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        )
        response.raise_for_status()
        return response.json()

    def deliver(self, event_type: str, obj: dict[str, Any]) -> httpx.Response:
        event = {
            "id": f"evt_bench_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "type": event_type,
        }
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
        return httpx.post(
            f"{self.app.url}/webhooks/stripe",
            content=payload.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
            timeout=60,
        )


def _timestamp(value: str) -> float:
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def _wait(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise TimeoutError("the webhooks were not handled in time")
        time.sleep(0.05)
    return result


def measure_failed_payment(world: World) -> tuple[float, float, float, list[str]]:
    world.fresh()
    known = {row["event_id"] for row in world.ledger()}
    httpx.post(
        f"{world.stripe.url}/_sandbox/demo/fail_payment", json={"customer": "cus_DemoSepa"}
    ).raise_for_status()
    emitted = len(world.stripe_state.events)

    def settled() -> list[dict[str, Any]] | None:
        rows = [r for r in world.ledger() if r["event_id"] not in known]
        done = len(rows) >= emitted and all(r["handled_at"] for r in rows)
        return rows if done else None

    rows = _wait(settled)
    writes = [r for r in world.intercom_log() if r["method"] in WRITES]
    writes = [r for r in writes if r["path"] != "/contacts/search"]
    failed = next(r for r in rows if r["type"] == "invoice.payment_failed")
    received, handled = _timestamp(failed["received_at"]), _timestamp(failed["handled_at"])
    own = [w["time"] for w in writes if received <= w["time"] <= handled]
    first_received = min(_timestamp(r["received_at"]) for r in rows)
    order = [r["type"] for r in sorted(rows, key=lambda r: r["received_at"])]
    return (
        (max(own) - received) * 1000,
        (handled - received) * 1000,
        (max(w["time"] for w in writes) - first_received) * 1000,
        order,
    )


def count_calls(
    world: World, recipe: str, trigger: str, act: Callable[[], Any], *, fresh: bool = True
) -> RecipeCalls:
    if fresh:
        world.fresh()
    before = len(world.intercom_log())
    act()
    log = world.intercom_log()[before:]
    writes = [r for r in log if r["method"] in WRITES and r["path"] != "/contacts/search"]
    paths = [f"{r['method']} {_template(r['path'])}" for r in log]
    return RecipeCalls(recipe, trigger, len(log) - len(writes), len(writes), paths)


def _template(path: str) -> str:
    parts = path.strip("/").split("/")
    if parts[0] == "contacts" and len(parts) > 1 and parts[1] not in ("search",):
        if parts[1] == "find_by_external_id":
            return "/contacts/find_by_external_id/{id}"
        parts[1] = "{id}"
        if len(parts) > 3:
            parts[3] = "{tag_id}"
    return "/" + "/".join(parts)


def recipe_calls(world: World) -> list[RecipeCalls]:
    def sepa_invoice() -> dict[str, Any]:
        return world.stripe_get("/v1/invoices", {"customer": "cus_DemoSepa", "status": "open"})[
            "data"
        ][0]

    def sepa_intent() -> dict[str, Any]:
        payments = world.stripe_get("/v1/invoice_payments", {"invoice": sepa_invoice()["id"]})
        intent_id = payments["data"][0]["payment"]["payment_intent"]
        return world.stripe_get(f"/v1/payment_intents/{intent_id}")

    def vip_paid_invoice() -> dict[str, Any]:
        return world.stripe_get("/v1/invoices", {"customer": "cus_DemoVip", "status": "paid"})[
            "data"
        ][0]

    def alert() -> dict[str, Any]:
        return {
            "object": "billing.alert_triggered",
            "created": int(time.time()),
            "customer": "cus_DemoUsage",
            "livemode": False,
            "value": 9000,
            "alert": {
                "id": "alrt_bench",
                "object": "billing.alert",
                "alert_type": "usage_threshold",
                "usage_threshold": {"gte": 9000, "meter": "mtr_ApiCalls"},
            },
        }

    def sweep() -> None:
        from automations.handling import Automations
        from automations.sweep import Sweep
        from kernel.services import Services

        async def run() -> None:
            services = Services.build(world.settings)
            await services.start()
            try:
                automations = Automations.from_services(services)
                assert automations is not None
                await Sweep(automations, now=datetime.now(UTC), dry_run=False).run(("escalation",))
            finally:
                await services.stop()

        asyncio.run(run())

    calls = [
        count_calls(
            world,
            "churn preventer",
            "invoice.payment_failed (open SEPA invoice)",
            lambda: world.deliver("invoice.payment_failed", sepa_invoice()),
        )
    ]
    calls.append(
        count_calls(
            world,
            "attribute sync",
            "customer.updated, nothing changed since",
            lambda: world.deliver(
                "customer.updated", world.stripe_get("/v1/customers/cus_DemoSepa")
            ),
            fresh=False,
        )
    )
    calls += [
        count_calls(
            world,
            "SEPA return",
            "payment_intent.payment_failed (sepa_debit)",
            lambda: world.deliver("payment_intent.payment_failed", sepa_intent()),
        ),
        count_calls(
            world,
            "upsell scout",
            "invoice.paid, VIP threshold passed (note)",
            lambda: world.deliver("invoice.paid", vip_paid_invoice()),
        ),
        count_calls(
            world,
            "trial converter",
            "customer.subscription.trial_will_end",
            lambda: world.deliver(
                "customer.subscription.trial_will_end",
                world.stripe_get("/v1/subscriptions/sub_DemoTrial"),
            ),
        ),
        count_calls(
            world,
            "usage threshold",
            "billing.alert.triggered",
            lambda: world.deliver("billing.alert.triggered", alert()),
        ),
        count_calls(
            world,
            "attribute sync",
            "customer.updated, first sync of a contact",
            lambda: world.deliver(
                "customer.updated", world.stripe_get("/v1/customers/cus_DemoHealthy")
            ),
        ),
        count_calls(world, "escalation (sweep)", "sweep --only escalation", sweep),
    ]
    calls.append(
        count_calls(world, "escalation (sweep)", "the same sweep again", sweep, fresh=False)
    )
    return calls


def run_automations_bench(
    *, stripe_latency_ms: float = 100, intercom_latency_ms: float = 50, runs: int = 5
) -> BenchResult:
    world = World(stripe_latency_ms, intercom_latency_ms)
    try:
        samples = [measure_failed_payment(world) for _ in range(runs)]
        calls = recipe_calls(world)
    finally:
        world.stop()
    return BenchResult(
        stripe_latency_ms,
        intercom_latency_ms,
        [s[0] for s in samples],
        [s[1] for s in samples],
        [s[2] for s in samples],
        samples[-1][3],
        calls,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.bench_automations")
    parser.add_argument("--stripe-latency-ms", type=float, default=100)
    parser.add_argument("--intercom-latency-ms", type=float, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    result = run_automations_bench(
        stripe_latency_ms=args.stripe_latency_ms,
        intercom_latency_ms=args.intercom_latency_ms,
        runs=args.runs,
    )
    print("\n".join(result.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
