"""Fixtures for the Fin edge: the app over HTTP against the sandbox Stripe, the demo customers
as Intercom would identify them, and plain Stripe API helpers to build a world or check what
really happened in Stripe (refunds are counted there, not in our own tables)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from storage import Database
from storage.actions import ActionStore, AuditEntry
from tests.conftest import STRIPE_KEY, AppClient, Sandbox
from tests.http import client
from tests.storage.postgres import postgres_database as postgres_database
from tests.storage.postgres import reset_schema

# How Intercom identifies each demo customer (docs/demo-world.md): email and user_id.
CUSTOMERS: dict[str, dict[str, str]] = {
    "healthy": {"email": "anna@example.com", "user_id": "usr_anna"},
    "sepa": {"email": "buchhaltung@mueller-maschinenbau.de", "user_id": "usr_mueller"},
    "trial": {"email": "jonas@startup.example", "user_id": "usr_jonas"},
    "vip": {"email": "lena@fischer-digital.example", "user_id": "usr_lena"},
    "usage": {"email": "paul@wagner-cloud.example", "user_id": "usr_paul"},
    "shared_b": {"email": "shared@agency.example", "user_id": "usr_beta"},
    "multi": {"email": "klara@weber-design.example", "user_id": "usr_klara"},
    "nobody": {"email": "nobody@example.com", "user_id": "usr_nobody"},
}


def who(key: str, **fields: Any) -> dict[str, Any]:
    """A Fin request body for the demo customer `key`, plus the action's own fields."""
    return {**CUSTOMERS[key], **fields}


def audit_entries(app: AppClient, customer_id: str | None = None) -> list[AuditEntry]:
    """The app's audit trail, newest first, read from its database."""

    async def read() -> list[AuditEntry]:
        db = Database(app.settings.database_url)
        await db.start()
        try:
            return await ActionStore(db).entries(customer_id=customer_id, limit=100)
        finally:
            await db.stop()

    return asyncio.run(read())


class Stripe:
    """The sandbox Stripe through its public API, as a test's second pair of eyes."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.http = client(
            base_url=sandbox.url, headers={"Authorization": f"Bearer {STRIPE_KEY}"}, timeout=30
        )

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(path, data=data or {})
        response.raise_for_status()
        return response.json()

    def charges(self, customer: str) -> list[dict[str, Any]]:
        return self.get("/v1/charges", customer=customer, limit=100)["data"]

    def latest_charge(self, customer: str, status: str = "succeeded") -> dict[str, Any]:
        return next(c for c in self.charges(customer) if c["status"] == status)

    def refunds(self, charge: str) -> list[dict[str, Any]]:
        return self.get("/v1/refunds", charge=charge, limit=100)["data"]

    def requests(self) -> list[dict[str, Any]]:
        return self.sandbox.control("GET", "/_sandbox/requests")["requests"]

    def forget_requests(self) -> None:
        self.sandbox.control("DELETE", "/_sandbox/requests")

    def refund_posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r["method"] == "POST" and r["path"] == "/v1/refunds"]

    def fault(self, **fault: Any) -> None:
        self.sandbox.control("POST", "/_sandbox/faults", fault)


@pytest.fixture
def stripe(stripe_sandbox: Sandbox) -> Stripe:
    return Stripe(stripe_sandbox)


@pytest.fixture
def fin(app_client: AppClient) -> AppClient:
    """The app with default settings (SQLite in a temporary folder)."""
    return app_client


@pytest.fixture(params=["sqlite", "postgresql"])
def fin_on_both_databases(
    request: pytest.FixtureRequest, start_app: Callable[..., AppClient]
) -> AppClient:
    """The app on SQLite, then on PostgreSQL (a throwaway database)."""
    if request.param == "sqlite":
        return start_app()
    url = request.getfixturevalue("postgres_database")
    asyncio.run(reset_schema(url))
    return start_app(database_url=url)
