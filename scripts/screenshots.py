"""Screenshots of the main cards for the README, taken in the local Intercom simulator.

Starts the sandbox Stripe and Intercom (seeded with the demo world), the app and the simulator on
loopback, opens each card in headless Chromium (Debian's `chromium`) and writes PNGs cropped to
the card into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--scale 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
CLIENT_SECRET = "screenshots-client-secret"
STRIPE_KEY = "sk_test_screenshots"
INTERCOM_TOKEN = "tok_screenshots"
ADMIN_TOKEN = "screenshots-admin-token"
# README images: no 400 px guide line, no simulator chrome inside the crop.
CLEAN_CSS = (
    ".sim-fold { display: none !important; } .sim-messenger__customer { visibility: hidden; }"
)


@dataclass(frozen=True)
class Shot:
    """One PNG: which conversation, which surface, what to click first, what to crop."""

    name: str
    contact: str
    view: str = "inbox"
    card: str | None = None  # Messenger card type (card_creation_options["card"])
    clicks: tuple[str, ...] = ()
    crop: str = "#inbox-app"
    margin: int = 0
    scale: float | None = None  # device pixel ratio; None: the --scale option


SHOTS = [
    Shot("inbox-healthy", "contact_healthy"),
    Shot("inbox-sepa", "contact_sepa"),
    Shot("inbox-trial", "contact_trial"),
    Shot("inbox-usage", "contact_usage"),
    Shot("inbox-details", "contact_healthy", clicks=('[data-component-id="details"]',)),
    Shot("inbox-picker", "contact_shared_b"),
    Shot("inbox-multi", "contact_multi"),
    Shot(
        "messenger-billing-status",
        "contact_healthy",
        "messenger",
        "billing_status",
        crop="#messenger-frame",
        margin=16,
    ),
    Shot(
        "messenger-billing-status-multi",
        "contact_multi",
        "messenger",
        "billing_status",
        crop="#messenger-frame",
        margin=16,
    ),
    Shot(
        "messenger-savings",
        "contact_usage",
        "messenger",
        "savings",
        crop="#messenger-frame",
        margin=16,
    ),
    Shot(
        "messenger-payment-recovery",
        "contact_sepa",
        "messenger",
        "payment_recovery",
        crop="#messenger-frame",
        margin=16,
    ),
    Shot(
        "messenger-trial", "contact_trial", "messenger", "trial", crop="#messenger-frame", margin=16
    ),
    Shot(
        "messenger-invoices",
        "contact_healthy",
        "messenger",
        "invoices",
        crop="#messenger-frame",
        margin=16,
    ),
    # Weber Design Studio (cus_DemoMulti): a Berlin address and a verified DE VAT id.
    Shot(
        "messenger-billing-details",
        "contact_multi",
        "messenger",
        "billing_details",
        crop="#messenger-frame",
        margin=16,
    ),
    Shot(
        "messenger-cancel",
        "contact_healthy",
        "messenger",
        "cancel",
        crop="#messenger-frame",
        margin=16,
    ),
    # The simulator itself, mid-story: the SEPA customer's sidebar and the recovery card sent.
    Shot(
        "simulator",
        "contact_sepa",
        clicks=('#inbox-frame [data-component-id="send_card:payment_recovery"]',),
        crop=".sim-main",
        scale=1.0,
    ),
]


@dataclass(frozen=True)
class World:
    simulator: str
    app: str


@contextmanager
def running_world() -> Iterator[World]:
    """Sandboxes, app and simulator on loopback; the app's database holds the report's seeded
    history (sandbox/report_history.py)."""
    from canvas_app.app import create_app
    from kernel.settings import load_settings
    from sandbox.intercom_api import IntercomState, create_intercom_app, seed_demo_workspace
    from sandbox.serving import ThreadedServer, free_port
    from sandbox.simulator import SimulatorConfig, create_simulator_app
    from sandbox.stripe_api import StripeState, create_stripe_app, seed_demo_world

    stripe_state = StripeState()
    seed_demo_world(stripe_state)
    intercom_state = IntercomState()
    seed_demo_workspace(intercom_state)
    servers = [
        ThreadedServer(create_stripe_app(stripe_state, api_key=STRIPE_KEY)).start(),
        ThreadedServer(create_intercom_app(intercom_state, access_token=INTERCOM_TOKEN)).start(),
    ]
    stripe, intercom = servers[0].url, servers[1].url
    with tempfile.TemporaryDirectory() as scratch:
        app_port = free_port()
        settings = load_settings(
            _env_file=None,
            stripe_api_key=STRIPE_KEY,
            stripe_api_base=stripe,
            stripe_webhook_secret="whsec_screenshots",
            intercom_client_secret=CLIENT_SECRET,
            intercom_access_token=INTERCOM_TOKEN,
            intercom_api_base=intercom,
            intercom_admin_id="admin_1",
            fin_action_tokens="screenshots-fin-token",
            secret_key="screenshots-secret-key-0123456789",
            public_url=f"http://127.0.0.1:{app_port}",
            database_url=f"sqlite+aiosqlite:///{scratch}/screenshots.sqlite3",
            admin_tokens=ADMIN_TOKEN,
            retention_coupon="RETENTION20",
        )
        seed_history(settings.database_url)
        servers.append(ThreadedServer(create_app(settings), port=app_port).start())
        simulator = ThreadedServer(
            create_simulator_app(
                SimulatorConfig(
                    app_url=servers[-1].url,
                    client_secret=CLIENT_SECRET,
                    intercom_url=intercom,
                    intercom_token=INTERCOM_TOKEN,
                    stripe_url=stripe,
                )
            )
        ).start()
        servers.append(simulator)
        try:
            yield World(simulator.url, servers[-2].url)
        finally:
            for server in reversed(servers):
                server.stop()


def seed_history(database_url: str) -> None:
    import asyncio
    from datetime import UTC, datetime

    from sandbox.report_history import seed_report_history
    from storage import Database

    async def run() -> None:
        db = Database(database_url)
        await db.start()
        try:
            await seed_report_history(db, datetime.now(UTC))
        finally:
            await db.stop()

    asyncio.run(run())


def take_report(browser: Any, app_url: str, out: Path, scale: float) -> Path:
    """The operator's report page (English), from the empty month before the seeded one."""
    from datetime import UTC, datetime

    from sandbox.report_history import previous_month_start

    since = previous_month_start(previous_month_start(datetime.now(UTC)))
    context = browser.new_context(
        viewport={"width": 1120, "height": 900},
        device_scale_factor=scale,
        http_credentials={"username": "operator", "password": ADMIN_TOKEN},
    )
    page = context.new_page()
    page.goto(f"{app_url}/admin/report?locale=en&since={since:%Y-%m-%d}")
    path = out / "report.png"
    page.screenshot(path=str(path), full_page=True)
    context.close()
    return path


def shot_url(base: str, shot: Shot) -> str:
    params = {"view": shot.view, "contact": shot.contact}
    if shot.card:
        params["options"] = json.dumps({"card": shot.card}, separators=(",", ":"))
    return f"{base}/?{urlencode(params)}"


def settle(page: Any, shot: Shot) -> None:
    """Wait until every Canvas Kit exchange of this page has been answered and drawn."""
    frame = "#messenger-frame" if shot.view == "messenger" else "#inbox-frame"
    page.wait_for_selector(f"{frame} .ck-canvas")
    if shot.view == "messenger":
        page.wait_for_selector('.sim-exchange[data-flow="messenger live canvas"]', state="attached")
    page.wait_for_function("() => !document.querySelector('.sim-frame[aria-busy=\"true\"]')")


def take(page: Any, base: str, shot: Shot, out: Path) -> tuple[Path, list[str]]:
    page.goto(shot_url(base, shot))
    page.add_style_tag(content=CLEAN_CSS)
    settle(page, shot)
    for selector in shot.clicks:
        page.click(selector)
        page.wait_for_timeout(100)
        settle(page, shot)
        if "send_card" in selector:
            page.wait_for_selector('[data-role="inserted-card"] .ck-canvas')
            page.wait_for_selector(
                '.sim-exchange[data-flow="messenger live canvas"]', state="attached"
            )
            page.wait_for_function(
                "() => !document.querySelector('.sim-frame[aria-busy=\"true\"]')"
            )
    problems = [
        text.strip()
        for text in page.locator('[data-role="warning"]:visible').all_inner_texts()
        if text.strip()
    ]
    box = page.locator(shot.crop).bounding_box()
    if box is None:
        raise RuntimeError(f"{shot.name}: {shot.crop} is not on the page")
    clip = {
        "x": max(box["x"] - shot.margin, 0),
        "y": max(box["y"] - shot.margin, 0),
        "width": box["width"] + 2 * shot.margin,
        "height": box["height"] + 2 * shot.margin,
    }
    path = out / f"{shot.name}.png"
    page.screenshot(path=str(path), clip=clip)
    return path, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--scale", type=float, default=2.0, help="device pixel ratio")
    parser.add_argument("--only", nargs="*", help="names of the shots to take")
    args = parser.parse_args(argv)
    from sandbox.simulator.chromium import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    from playwright.sync_api import sync_playwright

    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    failed = False
    with running_world() as world, sync_playwright() as playwright:
        base = world.simulator
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pages: dict[float, Any] = {}
        for shot in shots:
            scale = shot.scale or args.scale
            if scale not in pages:
                context = browser.new_context(
                    viewport={"width": 1400, "height": 1000}, device_scale_factor=scale
                )
                pages[scale] = context.new_page()
            path, problems = take(pages[scale], base, shot, args.out)
            size = path.stat().st_size // 1024
            print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}  {size} KB")
            for problem in problems:
                failed = True
                print(f"  ⚠ {problem}", file=sys.stderr)
        if not args.only or "report" in args.only:
            path = take_report(browser, world.app, args.out, 1.0)
            print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
