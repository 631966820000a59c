"""The recovery and refund report over a seeded month (sandbox/report_history.py): the numbers,
the empty month, the channels, the CLI in three formats, and the admin page with its auth."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from canvas_app.__main__ import main as cli_main
from kernel.settings import SettingsError, load_settings
from reporting.report import Report, build_report
from sandbox.report_history import seed_report_history
from storage import Database
from tests.conftest import FIN_TOKEN, AppClient

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
SINCE = datetime(2026, 10, 1, tzinfo=UTC)
ADMIN_TOKEN = "admin-token-0123456789"


def seeded(url: str, now: datetime) -> None:
    async def run() -> None:
        db = Database(url)
        await db.start()
        try:
            await seed_report_history(db, now)
        finally:
            await db.stop()

    asyncio.run(run())


def report_for(url: str, *, since: datetime | None = SINCE, now: datetime = NOW) -> Report:
    async def run() -> Report:
        db = Database(url)
        await db.start()
        try:
            return await build_report(db, since=since, now=now)
        finally:
            await db.stop()

    return asyncio.run(run())


@pytest.fixture
def history(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'history.sqlite3'}"
    seeded(url, NOW)
    return url


def test_totals_rate_and_median_time_to_recover(history: str) -> None:
    report = report_for(history)

    assert report.failed.count == 8 and report.failed.amounts == {"eur": 33200}
    assert report.recovered.count == 5 and report.recovered.amounts == {"eur": 22500}
    assert report.recovery_rate == pytest.approx(0.625)
    # 4.0 h (card link), 6 h (agent), 72 h and 192 h (Stripe), 145 h (chat): the middle is 72 h.
    assert report.median_hours_to_recover == 72.0


def test_every_month_is_shown_including_the_empty_one(history: str) -> None:
    months = {m.month: m for m in report_for(history).months}

    assert list(months) == ["2026-10", "2026-11", "2026-12"]
    october, november, december = months["2026-10"], months["2026-11"], months["2026-12"]
    assert october.failed.count == 0 and october.recovery_rate is None
    assert (november.failed.count, november.failed.amounts) == (7, {"eur": 30300})
    assert (november.recovered.count, november.recovered.amounts) == (5, {"eur": 22500})
    assert (november.lost.count, november.lost.amounts) == (1, {"eur": 2900})
    assert (november.open.count, november.open.amounts) == (1, {"eur": 4900})
    assert november.recovery_rate == pytest.approx(5 / 7)
    assert (december.failed.count, december.open.count, december.recovery_rate) == (1, 1, 0.0)


def test_failures_by_reason_name_the_sepa_code_and_the_card_decline(history: str) -> None:
    reasons = {
        r.key: (r.tally.count, r.tally.amounts["eur"], r.recovered)
        for r in report_for(history).reasons
    }

    assert reasons == {
        "sepa:AM04": (4, 13600, 3),
        "sepa:AC04": (1, 2900, 0),
        "card:insufficient_funds": (1, 9900, 1),
        "card:expired_card": (1, 4900, 0),
        "card:generic_decline": (1, 1900, 1),
    }


def test_what_happened_next_by_channel(history: str) -> None:
    report = report_for(history)
    counts = {name: (t.count, t.amounts.get("eur", 0)) for name, t in report.channels.items()}

    assert counts == {
        "chat_retry": (1, 2900),
        "card_link": (1, 4900),
        "agent_retry": (1, 1900),
        # the chat retry of in_hist_g was returned by the bank: Stripe's later retry paid it
        "stripe_retry": (2, 12800),
        "lost": (1, 2900),
        "open": (1, 2900),
        "open_long": (1, 4900),
    }
    assert report.median_hours_by_channel == {
        "chat_retry": 145.0,
        "card_link": 4.0,
        "agent_retry": 6.0,
        "stripe_retry": 132.0,
    }


def test_refunds_by_fin_and_agents_with_refusals_by_rule(history: str) -> None:
    refunds = {r.actor: r for r in report_for(history).refunds}

    fin, agents = refunds["fin"], refunds["admin"]
    assert (fin.refunded.count, fin.refunded.amounts, fin.refused) == (2, {"eur": 4150}, 1)
    assert fin.refused_by_code == {"refund_limit_reached": 1}
    assert {k: t.count for k, t in fin.by_reason.items()} == {
        "charged twice": 1,
        "service outage": 1,
    }
    assert (agents.refunded.count, agents.refunded.amounts, agents.refused) == (1, {"eur": 4900}, 1)
    assert agents.refused_by_code == {"refund_too_old": 1}


def test_cancellations_are_not_available_until_the_cancel_flow_records_them(history: str) -> None:
    assert report_for(history).cancellations.available is False


def test_since_leaves_out_earlier_failures(history: str) -> None:
    report = report_for(history, since=datetime(2026, 12, 1, tzinfo=UTC))

    assert report.failed.count == 1 and [m.month for m in report.months] == ["2026-12"]
    assert all(r.refunded.count == 0 for r in report.refunds)


# --- the command ---
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: Any, url: str, *argv: str) -> str:
    for key, value in {
        "STRIPE_API_KEY": "sk_test_sandbox",
        "INTERCOM_CLIENT_SECRET": "x",
        "SECRET_KEY": "test-secret-key-0123456789",
        "DATABASE_URL": url,
    }.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    assert cli_main(["report", *argv]) == 0
    return str(capsys.readouterr().out)


@pytest.fixture
def live_history(tmp_path: Path) -> str:
    """The same history, relative to the real clock (the command has no --now)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite3'}"
    seeded(url, datetime.now(UTC))
    return url


def test_command_prints_json_csv_and_a_table(
    live_history: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    data = json.loads(run_cli(monkeypatch, capsys, live_history, "--format", "json"))
    assert data["failed"] == {"count": 8, "amounts": {"eur": 33200}}
    assert data["recovered"] == {"count": 5, "amounts": {"eur": 22500}}
    assert data["recovery_rate"] == 0.625
    assert data["cancellations"]["available"] is False

    rows = list(
        csv.DictReader(io.StringIO(run_cli(monkeypatch, capsys, live_history, "--format", "csv")))
    )
    value = {(r["section"], r["key"], r["measure"], r["currency"]): r["value"] for r in rows}
    assert value[("total", "all", "recovered_amount", "eur")] == "22500"
    assert value[("reason", "sepa:AM04", "failed_count", "")] == "4"
    assert value[("channel", "card_link", "invoices_count", "")] == "1"

    table = run_cli(monkeypatch, capsys, live_history)
    assert "Recovery rate" in table and "62.5 %" in table
    assert "SEPA AM04 – insufficient funds" in table
    assert "Paid by card through our link" in table
    assert "not available yet" in table

    german = run_cli(monkeypatch, capsys, live_history, "--locale", "de")
    assert "Rettungsquote" in german and "62,5 %" in german and "332,00\xa0€" in german


def test_command_refuses_a_malformed_date(
    history: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("DATABASE_URL", history)
    with pytest.raises(SystemExit) as exited:
        cli_main(["report", "--since", "01.11.2026"])
    assert exited.value.code == 2


# --- the page ---
@pytest.fixture
def admin_app(start_app: Callable[..., AppClient]) -> AppClient:
    app = start_app(admin_tokens=ADMIN_TOKEN)
    seeded(app.settings.database_url, datetime.now(UTC))
    return app


def test_page_needs_an_admin_token(admin_app: AppClient) -> None:
    anonymous = admin_app.http.get("/admin/report")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    wrong = admin_app.http.get(
        "/admin/report", headers={"Authorization": "Bearer nope-nope-nope-nope"}
    )
    assert wrong.status_code == 401
    # Fin's token is not an admin token.
    fin = admin_app.http.get("/admin/report", headers={"Authorization": f"Bearer {FIN_TOKEN}"})
    assert fin.status_code == 401


def test_page_shows_the_report_with_charts_in_english_and_german(admin_app: AppClient) -> None:
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    page = admin_app.http.get("/admin/report", headers=bearer)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Recovery and refund report" in html and "62.5 %" in html and "€332.00" in html
    assert html.count("<svg") == 2 and "<script" not in html
    assert 'data-kind="recovered"' in html and 'data-reason="sepa:AM04"' in html
    assert "not available yet" in html

    basic = base64.b64encode(f"operator:{ADMIN_TOKEN}".encode()).decode()
    german = admin_app.http.get(
        "/admin/report",
        headers={"Authorization": f"Basic {basic}", "Accept-Language": "de-DE,de;q=0.9"},
    )
    assert german.status_code == 200
    assert (
        "Rettungsquote" in german.text and "62,5 %" in german.text and "332,00\xa0€" in german.text
    )
    assert "Im Chat erneut versucht" in german.text
    assert "Recovery rate" not in german.text
    assert "Rettungsquote" in admin_app.http.get("/admin/report?locale=de", headers=bearer).text


def test_page_rejects_a_malformed_since(admin_app: AppClient) -> None:
    response = admin_app.http.get(
        "/admin/report?since=yesterday", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_since"


def test_without_admin_tokens_the_page_does_not_exist(app_client: AppClient) -> None:
    response = app_client.http.get(
        "/admin/report", headers={"Authorization": "Bearer anything-at-all-16"}
    )
    assert response.status_code == 404


def test_a_short_admin_token_stops_start_up_without_printing_it() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(
            _env_file=None,
            stripe_api_key="sk_test_x",
            intercom_client_secret="x",
            secret_key="test-secret-key-0123456789",
            admin_tokens=f"{ADMIN_TOKEN},short-secret",
        )
    assert "ADMIN_TOKENS" in str(refused.value) and "short-secret" not in str(refused.value)
