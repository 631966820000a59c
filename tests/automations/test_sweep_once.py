"""Time-based work stays once-only with several instances: two `python -m canvas_app sweep`
processes started at the same moment on one PostgreSQL database do the work once (the sweep
holds an advisory lock; the second one says so and exits 0)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from kernel.settings import Settings
from tests.automations.conftest import WRITE_METHODS, settings_env
from tests.conftest import Sandbox
from tests.storage.postgres import postgres_database as postgres_database
from tests.storage.postgres import reset_schema

pytestmark = pytest.mark.slow  # CLI processes on PostgreSQL


def cli(settings: Settings, *argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, **settings_env(settings), "ESCALATION_DELAY_HOURS": "24"}
    return subprocess.Popen(
        [sys.executable, "-m", "canvas_app", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


def intercom_writes(intercom: Sandbox) -> Counter[tuple[str, str]]:
    requests: list[dict[str, Any]] = intercom.control("GET", "/_sandbox/requests")["data"]
    return Counter(
        (r["method"], r["path"])
        for r in requests
        if r["method"] in WRITE_METHODS and r["path"] != "/contacts/search"
    )


@pytest.fixture
def fresh_world(
    make_settings: Callable[..., Settings],
    postgres_database: str,
    stripe_sandbox: Sandbox,
    intercom_sandbox: Sandbox,
) -> Callable[[], Settings]:
    """Sandboxes reset, an empty database, the Intercom workspace set up: returns the settings."""

    def make() -> Settings:
        stripe_sandbox.control("POST", "/_sandbox/reset")
        intercom_sandbox.control("POST", "/_sandbox/reset")
        asyncio.run(reset_schema(postgres_database))
        settings = make_settings(database_url=postgres_database)
        code, output = finished(cli(settings, "intercom-setup"))
        assert code == 0, output
        intercom_sandbox.control("DELETE", "/_sandbox/requests")
        return settings

    return make


def test_two_sweeps_started_together_do_the_work_once(
    fresh_world: Callable[[], Settings], stripe_sandbox: Sandbox, intercom_sandbox: Sandbox
) -> None:
    # What one sweep writes to Intercom (escalation note and tag, trial and usage events…).
    code, output = finished(cli(fresh_world(), "sweep"))
    assert code == 0, output
    one_sweep = intercom_writes(intercom_sandbox)
    assert one_sweep[("POST", "/contacts/contact_sepa/notes")] == 1, one_sweep

    # The same world again, and two sweeps at once (Stripe slowed so that they overlap).
    settings = fresh_world()
    stripe_sandbox.control("POST", "/_sandbox/latency", {"ms": 150})
    first, second = cli(settings, "sweep"), cli(settings, "sweep")
    results = [finished(first), finished(second)]

    assert [code for code, _ in results] == [0, 0], results
    skipped = [out for _, out in results if "another sweep is running" in out]
    assert len(skipped) == 1, results
    assert intercom_writes(intercom_sandbox) == one_sweep
