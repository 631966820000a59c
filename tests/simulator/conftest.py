"""Fixtures for the simulator: our app on a known URL, the gallery app, the simulator in front of
either, and headless Chromium (Debian's `chromium`) driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from canvas_app.app import create_app
from sandbox.serving import ThreadedServer, free_port
from sandbox.simulator import SimulatorConfig, create_simulator_app
from sandbox.simulator.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import CLIENT_SECRET, INTERCOM_TOKEN, Sandbox
from tests.simulator.gallery import Received, create_gallery_app


def _missing(message: str) -> None:
    """Outside CI a missing browser skips the browser tests; in CI it fails them."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _missing(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) "
            "for the browser tests"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is missing: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page; a JavaScript error on it fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    yield new_page
    context.close()
    assert not errors, f"JavaScript errors on the simulator page: {errors}"


@dataclass
class RunningApp:
    url: str
    received: Received | None = None


@pytest.fixture
def our_app(make_settings: Callable[..., Any]) -> Iterator[RunningApp]:
    """Our app under uvicorn, its PUBLIC_URL its real address (live canvas URLs point there)."""
    port = free_port()
    settings = make_settings(public_url=f"http://127.0.0.1:{port}")
    server = ThreadedServer(create_app(settings), port=port).start()
    yield RunningApp(server.url)
    server.stop()


@pytest.fixture
def gallery() -> Iterator[RunningApp]:
    port = free_port()
    app, received = create_gallery_app(CLIENT_SECRET, f"http://127.0.0.1:{port}")
    server = ThreadedServer(app, port=port).start()
    yield RunningApp(server.url, received)
    server.stop()


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., str]]:
    """`start_simulator(app_url, intercom=..., stripe=..., **config)` → the simulator's URL."""
    servers: list[ThreadedServer] = []

    def start(
        app_url: str,
        *,
        intercom: Sandbox | None = None,
        stripe: Sandbox | None = None,
        **overrides: Any,
    ) -> str:
        values: dict[str, Any] = {
            "app_url": app_url,
            "client_secret": CLIENT_SECRET,
            "intercom_url": intercom.url if intercom else None,
            "intercom_token": INTERCOM_TOKEN if intercom else None,
            "stripe_url": stripe.url if stripe else None,
        }
        config = SimulatorConfig(**{**values, **overrides})
        server = ThreadedServer(create_simulator_app(config)).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()
