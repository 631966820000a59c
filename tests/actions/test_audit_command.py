"""`python -m canvas_app audit` lists every money-moving attempt, newest first, as a table or
as JSON lines, for everyone or one customer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.actions.conftest import who
from tests.conftest import AppClient


def audit(app: AppClient, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STRIPE_API_KEY": "sk_test_unused",
        "INTERCOM_CLIENT_SECRET": "unused",
        "SECRET_KEY": "unused-but-long-enough",
        "DATABASE_URL": app.settings.database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "canvas_app", "audit", *args],
        env=env,
        cwd=cwd,  # away from any .env of the repository
        capture_output=True,
        text=True,
        timeout=60,
    )


def refund(app: AppClient, key: str, **fields: object) -> dict:
    token = app.fin("/fin/refunds/preview", who(key, **fields)).json()["confirmation_token"]
    return app.fin("/fin/refunds", who(key, confirmation_token=token)).json()


def test_the_audit_lists_refunds_newest_first_with_who_what_and_stripes_id(
    start_app: Callable[..., AppClient], tmp_path: Path
) -> None:
    app = start_app(refund_max_amount=50_000)
    first = refund(app, "healthy", amount=700, conversation_id="conv_healthy")
    second = refund(app, "vip", amount=1200, reason="Double charge")

    result = audit(app, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    header, rule, newest, older = result.stdout.splitlines()
    assert header.split()[:3] == ["time", "(UTC)", "actor"]
    assert set(rule) <= {"-", " "}
    assert "cus_DemoVip" in newest and second["refund_id"] in newest
    assert "€12.00" in newest and "succeeded" in newest and "Double charge" in newest
    assert "cus_DemoHealthy" in older and first["refund_id"] in older
    assert "conv_healthy" in older and "fin" in older


def test_the_audit_as_json_filtered_by_customer(
    start_app: Callable[..., AppClient], tmp_path: Path
) -> None:
    app = start_app()
    done = refund(app, "healthy", amount=900)
    refund(app, "usage", amount=300)

    result = audit(app, "--customer", "cus_DemoHealthy", "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["customer_id"] == "cus_DemoHealthy" and row["stripe_id"] == done["refund_id"]
    assert (row["actor_type"], row["action"], row["amount"], row["currency"]) == (
        "fin",
        "refund",
        900,
        "eur",
    )
    assert row["outcome"] == "succeeded" and row["created_at"].endswith("Z")


def test_an_empty_audit_says_so(start_app: Callable[..., AppClient], tmp_path: Path) -> None:
    app = start_app()

    result = audit(app, "--limit", "5", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.strip() == "No money-moving attempts recorded."
