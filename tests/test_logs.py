"""Logs hold ids, never personal data or capabilities: the app served the way an operator runs it
(`uvicorn canvas_app.app:app`, uvicorn's default access log, the app's own production logging),
driven through the main flows and a few faults, and everything it wrote is searched for
customer emails (raw and URL-encoded) and payment-link tokens."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import stripe

from sandbox.canvas_requests import (
    demo_contact,
    inbox_initialize,
    inbox_submit,
    messenger_content,
    messenger_initialize,
    messenger_submit,
    signed,
)
from sandbox.intercom_api.seed import DEMO_CONTACTS
from sandbox.serving import free_port
from tests.conftest import (
    CLIENT_SECRET,
    FIN_TOKEN,
    INTERCOM_TOKEN,
    SECRET_KEY,
    STRIPE_KEY,
    WEBHOOK_SECRET,
    Sandbox,
)
from tests.http import HTTP, client

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"/l/([A-Za-z0-9_\-.]+)")


class Operator:
    """The app in its own process, as `uvicorn canvas_app.app:app` starts it; its log in a file."""

    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log
        self.http = client(base_url=url, timeout=30)
        self.tokens: set[str] = set()

    def canvas(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body, headers = signed(payload, CLIENT_SECRET)
        response = self.http.post(path, content=body, headers=headers)
        assert response.status_code != 500, (path, response.status_code)
        self.tokens.update(LINK.findall(response.text))
        return response.json()

    def fin(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        response = self.http.post(
            path, json=payload, headers={"Authorization": f"Bearer {FIN_TOKEN}"}
        )
        assert response.status_code != 500, (path, response.status_code, response.text)
        return response


@pytest.fixture
def operator(
    stripe_sandbox: Sandbox, intercom_sandbox: Sandbox, tmp_path: Path
) -> Iterator[Operator]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "INTERCOM_"))},
        "STRIPE_API_KEY": STRIPE_KEY,
        "STRIPE_API_BASE": stripe_sandbox.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        "INTERCOM_CLIENT_SECRET": CLIENT_SECRET,
        "INTERCOM_ACCESS_TOKEN": INTERCOM_TOKEN,
        "INTERCOM_API_BASE": intercom_sandbox.url,
        "INTERCOM_ADMIN_ID": "admin_1",
        "FIN_ACTION_TOKENS": FIN_TOKEN,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "app.log"
    with log.open("wb") as out:
        # Plain uvicorn: its default logging config, access log on, level info.
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "canvas_app.app:app", "--port", str(port)],
            cwd=tmp_path,  # no .env from the repository
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if HTTP.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.1)
        yield Operator(f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        process.wait(timeout=15)


def run_main_flows(app: Operator, stripe_sandbox: Sandbox) -> None:
    keys = [key for key, *_ in DEMO_CONTACTS]
    # Inbox: every demo contact (by stripe_id, user id and email search), details, a submit.
    for key in keys:
        body = app.canvas(
            "/canvas/inbox/initialize", inbox_initialize(demo_contact(key), f"conv_{key}")
        )
        app.canvas(
            "/canvas/inbox/submit",
            inbox_submit(demo_contact(key), f"conv_{key}", "details", body["canvas"]),
        )
    # A contact no customer matches, and one known by email only.
    stranger = {**demo_contact("sepa"), "email": "nobody.here@example.org", "external_id": None}
    app.canvas("/canvas/inbox/initialize", inbox_initialize(stranger, "conv_x"))
    # Messenger: each card, its live canvas, and its buttons.
    for key in keys:
        for card in ("billing_status", "payment_recovery", "savings", "trial"):
            body = app.canvas(
                "/canvas/messenger/initialize",
                messenger_initialize({"card": card}, demo_contact(key)),
            )
            canvas = body["canvas"]
            app.canvas("/canvas/messenger/content", messenger_content(canvas, demo_contact(key)))
            for action in ("show_savings", "switch_plan", "refresh"):
                app.canvas(
                    "/canvas/messenger/submit", messenger_submit(action, canvas, demo_contact(key))
                )
    sepa = app.canvas(
        "/canvas/messenger/initialize",
        messenger_initialize({"card": "payment_recovery"}, demo_contact("sepa")),
    )
    app.canvas(
        "/canvas/messenger/submit",
        messenger_submit("retry_payment", sepa["canvas"], demo_contact("sepa")),
    )
    # Payment links: open, come back without a session, cancel, and a forged one.
    assert app.tokens, "no payment link was minted"
    for token in sorted(app.tokens):
        app.http.get(f"/l/{token}")
        app.http.get(f"/l/{token}/done")
        app.http.get(f"/l/{token}/done?session_id=cs_test_unknown")
        app.http.get(f"/l/{token}/cancel")
    app.http.get("/l/forged.token.value")
    # Fin: reads by email, user id and stripe id; a refund preview and its execution.
    for _key, _name, email, external_id, *_ in DEMO_CONTACTS:
        app.fin("/fin/billing-status", {"email": email})
        app.fin("/fin/next-invoice", {"email": email, "user_id": external_id or ""})
        app.fin("/fin/upgrade-quote", {"email": email, "target_plan": "Business"})
    app.fin("/fin/billing-status", {"email": "nobody.here@example.org"})
    preview = app.fin(
        "/fin/refunds/preview", {"stripe_id": "cus_DemoHealthy", "email": "anna@example.com"}
    )
    token = preview.json().get("confirmation_token")
    if token:
        app.fin(
            "/fin/refunds",
            {"stripe_id": "cus_DemoHealthy", "user_id": "usr_anna", "confirmation_token": token},
        )
    # Webhooks: a real event from the sandbox's own log, and a forged one.
    event = {
        "id": "evt_logs_1",
        "object": "event",
        "type": "customer.updated",
        "created": int(time.time()),
        "data": {"object": {"id": "cus_DemoSepa", "object": "customer"}},
    }
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    app.http.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header})
    app.http.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": "t=1,v1=x"})
    # Faults: Stripe refusing a search and echoing its query, then Stripe down.
    stripe_sandbox.control(
        "POST",
        "/_sandbox/faults",
        {
            "path_prefix": "/v1/customers",
            "status": 400,
            "count": 50,
            "error": {
                "type": "invalid_request_error",
                "code": "parameter_invalid",
                "param": "query",
                "message": "We were unable to parse your search query. "
                "Query: email:'buchhaltung@mueller-maschinenbau.de'",
            },
        },
    )
    app.canvas("/canvas/inbox/initialize", inbox_initialize(demo_contact("sepa"), "conv_f"))
    app.fin("/fin/billing-status", {"email": "buchhaltung@mueller-maschinenbau.de"})
    stripe_sandbox.control("DELETE", "/_sandbox/faults")
    stripe_sandbox.control("POST", "/_sandbox/faults", {"status": 500, "count": 50})
    app.canvas("/canvas/inbox/initialize", inbox_initialize(demo_contact("trial"), "conv_g"))
    app.fin("/fin/billing-status", {"email": "anna@example.com"})
    stripe_sandbox.control("DELETE", "/_sandbox/faults")


def forbidden_strings(stripe_sandbox: Sandbox, tokens: set[str]) -> set[str]:
    emails = {email for _key, _name, email, *_ in DEMO_CONTACTS}
    emails |= {c["email"] for c in stripe_sandbox.state.all("customer") if c.get("email")}
    emails.add("nobody.here@example.org")
    found: set[str] = set()
    for email in emails:
        found |= {email, quote(email, safe=""), quote_plus(email), quote(email)}
    for token in tokens:
        found |= {token, token.rsplit(".", 1)[-1]}  # the whole token, and its signature
    return found


@pytest.mark.slow
def test_logs_hold_no_emails_and_no_link_tokens(operator: Operator, stripe_sandbox: Sandbox):
    run_main_flows(operator, stripe_sandbox)
    operator.http.get("/healthz")
    time.sleep(0.5)  # let the last log lines reach the file
    log = operator.log.read_text(encoding="utf-8", errors="replace")
    assert '"GET /l/' in log, "the access log did not record the link visits"
    assert "GET /healthz" in log
    leaks = sorted(s for s in forbidden_strings(stripe_sandbox, operator.tokens) if s in log)
    lines = [line for line in log.splitlines() if any(s in line for s in leaks)]
    assert not leaks, f"{len(lines)} log lines leak {leaks[:5]}:\n" + "\n".join(lines[:10])
    assert "Traceback" not in log
