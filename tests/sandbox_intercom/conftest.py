"""Fixtures: one sandbox Intercom server per test session, re-seeded before every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from intercom import AsyncIntercom

from sandbox.intercom_api import IntercomState, create_intercom_app, seed_demo_workspace
from sandbox.serving import serve_in_thread
from tests.http import async_client

TOKEN = "tok_test_sandbox"


@dataclass
class RunningSandbox:
    """What tests need: the base URL and the live state behind it."""

    base_url: str
    state: IntercomState


@pytest.fixture(scope="session")
def running_intercom() -> Iterator[RunningSandbox]:
    state = seed_demo_workspace(IntercomState())
    base_url, stop = serve_in_thread(create_intercom_app(state, access_token=TOKEN))
    try:
        yield RunningSandbox(base_url, state)
    finally:
        stop()


@pytest.fixture(autouse=True)
def _fresh_workspace(running_intercom: RunningSandbox) -> None:
    """Each test starts from the seeded demo world with an empty request log."""
    running_intercom.state.reset()


@pytest.fixture
async def intercom(running_intercom: RunningSandbox) -> AsyncIterator[AsyncIntercom]:
    """The official SDK pointed at the sandbox, sending the version header our product pins."""
    http = async_client(timeout=10)
    client = AsyncIntercom(
        token=TOKEN,
        base_url=running_intercom.base_url,
        headers={"Intercom-Version": "2.14"},
        httpx_client=http,
    )
    yield client
    await http.aclose()


@pytest.fixture
async def control(running_intercom: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP client for the ``/_sandbox`` control plane."""
    async with async_client(base_url=running_intercom.base_url, timeout=10) as client:
        yield client
