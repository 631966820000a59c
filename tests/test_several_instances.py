"""Two app instances (separate uvicorn processes) on one PostgreSQL database stay coherent: a
Stripe webhook delivered to A drops B's cached snapshot within a second (LISTEN/NOTIFY), and
while B's listener connection is down B serves nothing older than SNAPSHOT_CACHE_OFFLINE_SECONDS,
then reconnects by itself."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import stripe
from sqlalchemy.ext.asyncio import create_async_engine

from kernel.settings import Settings
from sandbox.canvas_requests import demo_contact, inbox_initialize, signed
from sandbox.serving import free_port
from sandbox.stripe_api import objects as stripe_objects
from storage.invalidations import PING_SECONDS, application_name
from tests.automations.conftest import settings_env
from tests.conftest import STRIPE_KEY, WEBHOOK_SECRET, Sandbox, stripe_post
from tests.http import HTTP
from tests.storage.postgres import postgres_database as postgres_database
from tests.storage.postgres import reset_schema

OFFLINE_SECONDS = 1.0

pytestmark = pytest.mark.slow  # app and CLI processes on PostgreSQL
CANCELS = "Cancels at period end"


@dataclass
class Instance:
    """One app process."""

    url: str
    process: subprocess.Popen[bytes]
    settings: Settings

    def sidebar(self, key: str = "healthy") -> str:
        body, headers = signed(
            inbox_initialize(demo_contact(key), f"conv_{key}"),
            self.settings.intercom_client_secret.get_secret_value(),
        )
        response = HTTP.post(
            f"{self.url}/canvas/inbox/initialize", content=body, headers=headers, timeout=15
        )
        assert response.status_code == 200, response.text
        return json.dumps(response.json()["canvas"]["content"], ensure_ascii=False)

    def deliver(self, event: dict[str, Any]) -> httpx.Response:
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(
            payload, WEBHOOK_SECRET, timestamp=int(time.time())
        )
        return HTTP.post(
            f"{self.url}/webhooks/stripe",
            content=payload.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
            timeout=15,
        )

    def health(self) -> dict[str, Any]:
        return HTTP.get(f"{self.url}/healthz", timeout=5).json()

    @property
    def listener_name(self) -> str:
        return application_name(self.process.pid)


def start_instance(settings: Settings, log: Path) -> Instance:
    port = free_port()
    env = {**os.environ, **settings_env(settings)}
    args = [sys.executable, "-m", "uvicorn", "canvas_app.app:app", "--port", str(port)]
    with open(log, "ab") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    instance = Instance(f"http://127.0.0.1:{port}", process, settings)
    deadline = time.monotonic() + 30
    while True:
        try:
            if instance.health()["status"] == "ok":
                return instance
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"app did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


@pytest.fixture
def two_instances(
    make_settings: Callable[..., Settings], postgres_database: str, tmp_path: Path
) -> Iterator[tuple[Instance, Instance]]:
    asyncio.run(reset_schema(postgres_database))
    settings = make_settings(
        database_url=postgres_database,
        intercom_access_token="",  # the automations off: the webhook only invalidates
        snapshot_cache_seconds=30,
        snapshot_cache_offline_seconds=OFFLINE_SECONDS,
    )
    instances = [start_instance(settings, tmp_path / f"app-{i}.log") for i in (1, 2)]
    yield instances[0], instances[1]
    for instance in instances:
        instance.process.terminate()
    for instance in instances:
        instance.process.wait(timeout=10)


def set_cancel_at_period_end(sandbox: Sandbox, value: bool) -> dict[str, Any]:
    """Change the customer's subscription in Stripe (no webhook is sent by the sandbox here)."""
    subs = HTTP.get(
        f"{sandbox.url}/v1/subscriptions",
        params={"customer": "cus_DemoHealthy"},
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
    ).json()["data"]
    return stripe_post(
        sandbox,
        f"/v1/subscriptions/{subs[0]['id']}",
        {"cancel_at_period_end": "true" if value else "false"},
    )


def subscription_updated(subscription: dict[str, Any]) -> dict[str, Any]:
    return stripe_objects.event(
        id=f"evt_test_{os.urandom(10).hex()}",
        created=int(time.time()),
        type="customer.subscription.updated",
        obj=subscription,
        previous_attributes=None,
        request_id=None,
        idempotency_key=None,
        pending_webhooks=1,
    )


def stripe_requests(sandbox: Sandbox) -> int:
    return len([r for r in sandbox.requests() if r["path"].startswith("/v1/")])


async def _terminate(database_url: str, name: str) -> int:
    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": name},
            )
            return len(result.all())
    finally:
        await engine.dispose()


def kill_listener(instance: Instance) -> int:
    return asyncio.run(_terminate(instance.settings.database_url, instance.listener_name))


class ListenerKiller:
    """Keeps an instance's listener connection down: terminates it whenever it reconnects."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.stop = threading.Event()
        self.kills = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.kills += kill_listener(self.instance)
            time.sleep(0.02)

    def __enter__(self) -> ListenerKiller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def test_a_webhook_to_one_instance_refreshes_the_others_cache_within_a_second(
    two_instances: tuple[Instance, Instance], stripe_sandbox: Sandbox
) -> None:
    a, b = two_instances
    assert a.health()["invalidations"] == b.health()["invalidations"] == "listening"
    assert CANCELS not in b.sidebar()
    stripe_sandbox.control("DELETE", "/_sandbox/requests")
    assert CANCELS not in b.sidebar()
    assert stripe_requests(stripe_sandbox) == 0  # B serves its cached snapshot

    subscription = set_cancel_at_period_end(stripe_sandbox, True)
    assert CANCELS not in b.sidebar()  # nobody told B yet: still the cached snapshot

    answer = a.deliver(subscription_updated(subscription))
    told = time.monotonic()
    assert answer.status_code == 200, answer.text
    while CANCELS not in b.sidebar():
        assert time.monotonic() - told < 1.0, "B still shows the old snapshot after 1 s"
    assert CANCELS in a.sidebar()


def test_without_its_listener_an_instance_serves_nothing_staler_than_the_bound_and_recovers(
    two_instances: tuple[Instance, Instance], stripe_sandbox: Sandbox
) -> None:
    a, b = two_instances
    assert CANCELS not in b.sidebar()  # cached in B

    # A change nobody is told about, then B's listener connection is killed: B can't know
    # what it missed, so its snapshot (older than the bound by now) is not served.
    time.sleep(OFFLINE_SECONDS + 0.2)
    set_cancel_at_period_end(stripe_sandbox, True)
    assert kill_listener(b) == 1
    # B learns of the loss from the connection itself, or at the latest from its next ping.
    deadline = time.monotonic() + PING_SECONDS + 1.0
    while CANCELS not in b.sidebar():
        assert time.monotonic() < deadline, "B served a stale snapshot after losing its listener"
        time.sleep(0.05)

    with ListenerKiller(b) as killer:
        # Each kill takes a connection of its own; on a busy machine B may be back for a moment
        # between two kills, so the health check is watched rather than read once.
        deadline = time.monotonic() + 3
        while b.health() != {"status": "ok", "invalidations": "reconnecting"}:
            assert time.monotonic() < deadline, "B never said its listener was down"
            time.sleep(0.02)
        assert CANCELS in b.sidebar()  # cached again, for at most the bound
        changed = time.monotonic()
        set_cancel_at_period_end(stripe_sandbox, False)  # again, nobody is told
        while CANCELS in b.sidebar():
            assert time.monotonic() - changed < OFFLINE_SECONDS + 0.5, "stale beyond the bound"
            time.sleep(0.05)
        # The listener keeps reconnecting (with backoff) while it is being killed.
        deadline = time.monotonic() + 5
        while killer.kills < 2:
            assert time.monotonic() < deadline, "B's listener stopped reconnecting"
            time.sleep(0.05)

    # B reconnects by itself; then invalidations reach it again and it caches again.
    deadline = time.monotonic() + 10
    while b.health()["invalidations"] != "listening":
        assert time.monotonic() < deadline, "B's listener did not come back"
        time.sleep(0.1)
    assert CANCELS not in b.sidebar()
    subscription = set_cancel_at_period_end(stripe_sandbox, True)
    answer = a.deliver(subscription_updated(subscription))
    told = time.monotonic()
    assert answer.status_code == 200, answer.text
    while CANCELS not in b.sidebar():
        assert time.monotonic() - told < 1.0
    time.sleep(OFFLINE_SECONDS + 0.2)
    stripe_sandbox.control("DELETE", "/_sandbox/requests")
    assert CANCELS in b.sidebar()
    assert stripe_requests(stripe_sandbox) == 0  # live again: the full cache lifetime applies
