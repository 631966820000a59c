"""Start-up on SQLite says what several instances need: invalidation stays in-process there."""

from __future__ import annotations

import logging

import pytest


def test_sqlite_start_up_says_that_several_workers_need_postgresql(
    start_app, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kernel.services")
    client = start_app()

    assert "uvicorn --workers need DATABASE_URL=postgresql://" in caplog.text
    assert client.http.get("/healthz").json()["invalidations"] == "in-process"
