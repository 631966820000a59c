"""A world for the automations: the app and both sandboxes over HTTP, with Intercom set up.

`loop` gives each test the app (its Intercom attributes and tags created by `intercom-setup`),
and helpers to talk like Stripe (signed events, the sandbox's own webhook delivery) and to look
at what reached Intercom (the sandbox's request log and per-contact activity).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe

from canvas_app.__main__ import main as cli_main
from kernel.settings import Settings
from tests.conftest import STRIPE_KEY, WEBHOOK_SECRET, AppClient, Sandbox, stripe_post
from tests.http import HTTP

WRITE_METHODS = ("POST", "PUT", "DELETE")


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment an operator would set to get exactly these settings."""
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        elif isinstance(value, list):
            value = ",".join(
                v.get_secret_value() if hasattr(v, "get_secret_value") else v for v in value
            )
        env[name.upper()] = str(value)
    return env


@dataclass
class Loop:
    """The Stripe → app → Intercom loop under test."""

    app: AppClient
    stripe: Sandbox
    intercom: Sandbox
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    # --- Stripe side ---
    def stripe_api(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = HTTP.get(
            f"{self.stripe.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {STRIPE_KEY}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def stripe_post(self, path: str, data: dict[str, Any]) -> Any:
        return stripe_post(self.stripe, path, data)

    def stripe_delete(self, path: str) -> Any:
        response = HTTP.delete(
            f"{self.stripe.url}{path}",
            headers={"Authorization": f"Bearer {STRIPE_KEY}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def connect_webhooks(self) -> None:
        """Let the sandbox Stripe deliver its events to the app, signed like Stripe does."""
        self.stripe.control(
            "POST",
            "/_sandbox/webhook_endpoints",
            {"url": f"{self.app.url}/webhooks/stripe", "secret": WEBHOOK_SECRET},
        )

    def emitted(self, event_type: str, customer: str) -> list[dict[str, Any]]:
        """Events the sandbox Stripe emitted (newest first), as Stripe would deliver them."""
        events = self.stripe_api("/v1/events", {"type": event_type, "limit": 100})["data"]
        return [e for e in events if _customer_of(e["data"]["object"]) == customer]

    def event(self, event_type: str, obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """A new event in Stripe's shape with a fresh id."""
        return {
            "id": f"evt_test_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            **extra,
        }

    def deliver(
        self,
        event: dict[str, Any],
        *,
        secret: str = WEBHOOK_SECRET,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """POST an event to the app as Stripe does (raw JSON body, `Stripe-Signature`)."""
        payload = json.dumps(event)
        header = signature or stripe.WebhookSignature.generate_signature_header(
            payload, secret, timestamp=timestamp or int(time.time())
        )
        return self.app.http.post(
            "/webhooks/stripe",
            content=payload.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )

    # --- Intercom side ---
    def activity(self, contact_id: str) -> dict[str, Any]:
        return self.intercom.control("GET", f"/_sandbox/contacts/{contact_id}/activity")

    def requests(self) -> list[dict[str, Any]]:
        return self.intercom.control("GET", "/_sandbox/requests")["data"]

    def writes(self) -> list[dict[str, Any]]:
        """Requests that change Intercom (a search is a POST that only reads)."""
        return [
            r
            for r in self.requests()
            if r["method"] in WRITE_METHODS and r["path"] != "/contacts/search"
        ]

    def tags(self, contact_id: str) -> set[str]:
        return {tag["name"] for tag in self.activity(contact_id)["tags"]}

    def events(self, contact_id: str, name: str | None = None) -> list[dict[str, Any]]:
        events = self.activity(contact_id)["events"]
        return [e for e in events if name is None or e["event_name"] == name]

    def notes(self, contact_id: str) -> list[str]:
        return [note["body"] for note in self.activity(contact_id)["notes"]]

    def attributes(self, contact_id: str) -> dict[str, Any]:
        return self.activity(contact_id)["custom_attributes"]

    def wait_for(
        self, check: Callable[[], Any], *, timeout: float = 15.0, what: str = "condition"
    ) -> Any:
        """Poll until `check()` is truthy (bounded): webhooks arrive asynchronously."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.1)

    # --- the app ---
    def ledger(self, event_id: str) -> dict[str, Any] | None:
        """The app's record of an event, read straight from its database file."""
        path = self.app.settings.database_url.split(":///", 1)[1]
        with sqlite3.connect(path) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute(
                "SELECT * FROM webhook_events WHERE event_id = ?", (event_id,)
            ).fetchone()
        return dict(row) if row is not None else None

    def ledger_row(self, event_id: str) -> dict[str, Any]:
        """The app's record of an event that must have been recorded."""
        row = self.ledger(event_id)
        assert row is not None, f"event {event_id} is not in the ledger"
        return row

    def cli(self, *argv: str, **overrides: Any) -> tuple[int, str]:
        """`python -m canvas_app <argv>` with the app's settings (plus overrides) in the env."""
        env = settings_env(self.app.settings)
        env.update({key.upper(): str(value) for key, value in overrides.items()})
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        self.capsys.readouterr()
        code = cli_main(list(argv))
        return code, self.capsys.readouterr().out


@pytest.fixture
def make_loop(
    start_app: Callable[..., AppClient],
    stripe_sandbox: Sandbox,
    intercom_sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Callable[..., Loop]]:
    """Start the app (settings overrides as keyword arguments) and run `intercom-setup`."""

    def make(*, setup: bool = True, **overrides: Any) -> Loop:
        loop = Loop(start_app(**overrides), stripe_sandbox, intercom_sandbox, monkeypatch, capsys)
        if setup:
            code, output = loop.cli("intercom-setup")
            assert code == 0, output
        intercom_sandbox.control("DELETE", "/_sandbox/requests")
        return loop

    yield make
    # The sandbox Stripe outlives the test; its endpoints must not point at stopped apps.
    stripe_sandbox.state.webhooks.endpoints.clear()


@pytest.fixture
def loop(make_loop: Callable[..., Loop]) -> Loop:
    return make_loop()


def _customer_of(obj: dict[str, Any]) -> str | None:
    if obj.get("object") == "customer":
        return obj["id"]
    customer = obj.get("customer")
    return customer if isinstance(customer, str) or customer is None else customer["id"]
