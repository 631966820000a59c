"""Fixtures for the Messenger tests: the app over HTTP against both sandboxes, driven like
Intercom drives it, with PUBLIC_URL its real address (the signed links and the live-canvas URL
must lead back to it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from canvas_app.app import create_app
from kernel.settings import Settings
from sandbox.serving import ThreadedServer, free_port
from tests.conftest import AppClient, Sandbox
from tests.messenger.driver import Messenger


@pytest.fixture
def start_messenger(
    make_settings: Callable[..., Settings],
    stripe_sandbox: Sandbox,
    assert_canvas: Callable[[str, dict[str, Any]], None],
) -> Iterator[Callable[..., Messenger]]:
    """Start the app with particular settings; returns a driver for it."""
    servers: list[ThreadedServer] = []

    def start(**overrides: Any) -> Messenger:
        port = free_port()
        settings = make_settings(public_url=f"http://127.0.0.1:{port}", **overrides)
        app = create_app(settings)
        servers.append(ThreadedServer(app, port=port).start())
        return Messenger(
            AppClient(settings.public_url, settings, app), stripe_sandbox, assert_canvas
        )

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def messenger(start_messenger: Callable[..., Messenger]) -> Messenger:
    return start_messenger()
