"""The report page in headless Chromium (Debian's), opened with HTTP basic auth as an operator's
browser would, and the README's screenshot taken from it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox.report_history import previous_month_start
from sandbox.simulator.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import AppClient
from tests.reporting.test_report import ADMIN_TOKEN, seeded

pytestmark = pytest.mark.slow  # headless Chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_report_page_renders_with_its_charts_in_the_browser(
    browser: Any, start_app: Callable[..., AppClient], tmp_path: Path
) -> None:
    app = start_app(admin_tokens=ADMIN_TOKEN)
    # Playwright's sync API runs an event loop in this thread: seed from another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(seeded, app.settings.database_url, datetime.now(UTC)).result()
    context = browser.new_context(
        http_credentials={"username": "operator", "password": ADMIN_TOKEN},
        viewport={"width": 1120, "height": 900},
        locale="de-DE",
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # From the empty month before the seeded one.
    since = previous_month_start(previous_month_start(datetime.now(UTC))).strftime("%Y-%m-%d")
    response = page.goto(f"{app.url}/admin/report?since={since}")
    assert response is not None and response.status == 200

    assert page.locator("h1").inner_text() == "Bericht zu Zahlungsrettung und Erstattungen"
    assert page.locator("#rate .value").inner_text() == "62,5 %"
    bars = page.locator('svg rect[data-kind="recovered"]')
    assert bars.count() == 1 and bars.first.bounding_box()["height"] > 50
    assert page.locator('svg rect[data-reason="sepa:AM04"]').bounding_box()["width"] > 100
    assert page.locator("#months tr[data-month]").count() == 3  # the empty month included
    assert "noch nicht verfügbar" in page.locator("#cancellations").inner_text()
    assert not errors

    english = context.new_page()
    english.goto(f"{app.url}/admin/report?locale=en&since={since}")
    assert english.locator("#rate .label").inner_text() == "Recovery rate"
    # The README's copy comes from `make screenshots` (scripts/screenshots.py), same page.
    shot = tmp_path / "report.png"
    english.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
    context.close()
