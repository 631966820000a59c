"""Shared test fixtures: the two sandboxes over HTTP, the app over HTTP, signed requests, and the
official contracts that travel with the repository (contracts/)."""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from canvas_app.app import create_app
from kernel.settings import Settings, load_settings
from sandbox.canvas_requests import signed
from sandbox.contracts import CANVAS_KIT
from sandbox.intercom_api import IntercomState, create_intercom_app, seed_demo_workspace
from sandbox.serving import ThreadedServer
from sandbox.stripe_api import StripeState, create_stripe_app, seed_demo_world
from storage.database import Database
from tests.http import HTTP, client

STRIPE_KEY = "sk_test_sandbox"
INTERCOM_TOKEN = "tok_sandbox"
CLIENT_SECRET = "test-client-secret"
WEBHOOK_SECRET = "whsec_test_secret"
FIN_TOKEN = "fin-token-1-for-the-tests"
SECRET_KEY = "test-secret-key-0123456789"


@pytest.fixture(scope="session")
def canvas_schema() -> dict[str, Any]:
    return json.loads(CANVAS_KIT.read_text())


@pytest.fixture(scope="session")
def assert_canvas(canvas_schema: dict[str, Any]) -> Callable[[str, dict[str, Any]], None]:
    """`assert_canvas("initialize_response", body)` fails with the contract's complaints."""
    from openapi_schema_validator import OAS30Validator

    def check(schema: str, body: dict[str, Any]) -> None:
        validator = OAS30Validator(
            {"$ref": f"#/components/schemas/{schema}", "components": canvas_schema["components"]}
        )
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, f"{schema} violates the Canvas Kit contract:\n" + "\n".join(errors[:10])

    return check


@dataclass
class Sandbox:
    """A running sandbox server and its control API."""

    url: str
    _state: Any

    @property
    def state(self) -> Any:
        """The sandbox's state, to read or change in place: a sandbox Stripe world reached
        into is reset at the next test even if no request changed it."""
        if hasattr(self._state, "untouched"):
            self._state.untouched = False
        return self._state

    def control(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = HTTP.request(method, f"{self.url}{path}", json=payload, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def requests(self) -> list[dict[str, Any]]:
        data = self.control("GET", "/_sandbox/requests")
        return data["requests"] if isinstance(data, dict) else data


def stripe_post(sandbox: Sandbox, path: str, data: dict[str, Any]) -> dict[str, Any]:
    """A write to the sandbox Stripe through its public API (form-encoded, as Stripe takes it),
    for a test to change the world behind the app's back."""
    response = HTTP.post(
        f"{sandbox.url}{path}",
        data=data,
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        timeout=10,
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[Sandbox]:
    state = StripeState()
    seed_demo_world(state)
    server = ThreadedServer(create_stripe_app(state, api_key=STRIPE_KEY)).start()
    yield Sandbox(server.url, state)
    server.stop()


@pytest.fixture(scope="session")
def intercom_server() -> Iterator[Sandbox]:
    state = IntercomState()
    seed_demo_workspace(state)
    server = ThreadedServer(create_intercom_app(state, access_token=INTERCOM_TOKEN)).start()
    yield Sandbox(server.url, state)
    server.stop()


@pytest.fixture
def stripe_sandbox(stripe_server: Sandbox) -> Sandbox:
    """The sandbox Stripe, freshly seeded, with no latency, faults or logged requests."""
    stripe_server.control("POST", "/_sandbox/reset")
    # No endpoint, and no delivery, of an earlier test's app: its events are not this test's.
    stripe_server.control("DELETE", "/_sandbox/webhook_endpoints")
    stripe_server.control("DELETE", "/_sandbox/faults")
    stripe_server.control("POST", "/_sandbox/latency", {"ms": 0})
    stripe_server.control("DELETE", "/_sandbox/requests")
    return stripe_server


@pytest.fixture
def intercom_sandbox(intercom_server: Sandbox) -> Sandbox:
    intercom_server.control("POST", "/_sandbox/reset")
    intercom_server.control("DELETE", "/_sandbox/requests")
    return intercom_server


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database the app's migrations have run on, to copy: migrating one costs an app
    start ~50 ms of CPU (DDL through aiosqlite's thread), copying it a fraction of a millisecond.
    The app still runs its migrations on the copy at start, and finds them all applied.
    (tests/storage/test_migrations.py migrates empty databases.)"""
    path = tmp_path_factory.mktemp("template") / "app.sqlite3"

    async def migrate() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await database.start()
        await database.stop()

    asyncio.run(migrate())
    return path


@pytest.fixture
def make_settings(
    stripe_sandbox: Sandbox, intercom_sandbox: Sandbox, tmp_path: Path, migrated_sqlite: Path
) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        database = tmp_path / "app.sqlite3"
        if "database_url" not in overrides and not database.exists():
            shutil.copyfile(migrated_sqlite, database)
        values: dict[str, Any] = {
            "stripe_api_key": STRIPE_KEY,
            "stripe_api_base": stripe_sandbox.url,
            "stripe_webhook_secret": WEBHOOK_SECRET,
            "intercom_client_secret": CLIENT_SECRET,
            "intercom_access_token": INTERCOM_TOKEN,
            "intercom_api_base": intercom_sandbox.url,
            "intercom_admin_id": "admin_1",
            "fin_action_tokens": FIN_TOKEN,
            "secret_key": SECRET_KEY,
            "database_url": f"sqlite+aiosqlite:///{database}",
            "stripe_timeout_seconds": 3,
            "stripe_max_network_retries": 0,
        }
        values.update(overrides)
        return load_settings(_env_file=None, **values)

    return build


@dataclass
class AppClient:
    """The app running under uvicorn, with helpers to talk to it like Intercom and Fin do."""

    url: str
    settings: Settings
    app: Any
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = client(base_url=self.url, timeout=30)

    def canvas(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        body, headers = signed(payload, self.settings.intercom_client_secret.get_secret_value())
        return self.http.post(path, content=body, headers=headers)

    def fin(self, path: str, payload: Any, token: str = FIN_TOKEN) -> httpx.Response:
        return self.http.post(path, json=payload, headers={"Authorization": f"Bearer {token}"})

    @property
    def services(self) -> Any:
        return self.app.state.services


@pytest.fixture(scope="session")
def stopping_servers() -> Iterator[list[ThreadedServer]]:
    """Servers asked to stop by a finished test. uvicorn takes ~0.2 s to notice and shut down;
    the next test needn't wait for that (each app has its own database), the session does."""
    servers: list[ThreadedServer] = []
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def start_app(
    make_settings: Callable[..., Settings], stopping_servers: list[ThreadedServer]
) -> Iterator[Callable[..., AppClient]]:
    servers: list[ThreadedServer] = []

    def start(**overrides: Any) -> AppClient:
        settings = make_settings(**overrides)
        app = create_app(settings)
        server = ThreadedServer(app).start()
        servers.append(server)
        return AppClient(server.url, settings, app)

    yield start
    for server in servers:
        server.request_stop()
    stopping_servers.extend(servers)


@pytest.fixture
def app_client(start_app: Callable[..., AppClient]) -> AppClient:
    return start_app()


# Each worker process holds the app, both sandboxes and the test run, and allocates fast (a
# sandbox reset alone makes ~200,000 objects): with the default thresholds the cyclic garbage
# collector took ~12 % of a worker's CPU, mostly walking objects that live as long as the
# process. Collections are rarer, and what exists once the tests are collected (modules,
# classes, session fixtures) is frozen out of them; about a third of that cost remains.
gc.set_threshold(20_000, 50, 100)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first (marked `slow`: browsers, generated inputs, long waits, other
    processes): with `--maxschedchunk 1` (Makefile) each worker takes the next test when it is
    free, so the long ones spread over the workers at the start instead of trailing the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
