"""`make demo`: the sandbox Stripe and Intercom, the demo world, the app and the simulator, all
on loopback, with freshly generated demo secrets. Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from sandbox.serving import ThreadedServer

STATE_FILE = Path("var/demo.json")


@dataclass
class DemoConfig:
    """Ports and the generated secrets, written to var/demo.json for `python -m sandbox
    initialize` (demo-only secrets: they protect nothing but this local demo)."""

    app_port: int
    stripe_port: int
    intercom_port: int
    simulator_port: int
    stripe_api_key: str
    intercom_client_secret: str
    intercom_access_token: str
    webhook_secret: str
    fin_token: str
    secret_key: str
    admin_token: str = ""

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def stripe_url(self) -> str:
        return f"http://127.0.0.1:{self.stripe_port}"

    @property
    def intercom_url(self) -> str:
        return f"http://127.0.0.1:{self.intercom_port}"

    @property
    def simulator_url(self) -> str:
        return f"http://127.0.0.1:{self.simulator_port}"

    @classmethod
    def generate(cls) -> DemoConfig:
        def port(name: str, default: int) -> int:
            return int(os.environ.get(name, default))

        return cls(
            app_port=port("DEMO_APP_PORT", 8000),
            stripe_port=port("DEMO_STRIPE_PORT", 12111),
            intercom_port=port("DEMO_INTERCOM_PORT", 12112),
            simulator_port=port("DEMO_SIMULATOR_PORT", 12110),
            stripe_api_key="sk_test_demo_" + secrets.token_hex(8),
            intercom_client_secret=secrets.token_hex(16),
            intercom_access_token="tok_demo_" + secrets.token_hex(8),
            webhook_secret="whsec_" + secrets.token_hex(16),
            fin_token="fin_demo_" + secrets.token_hex(12),
            secret_key=secrets.token_urlsafe(32),
            admin_token="admin_demo_" + secrets.token_hex(12),
        )

    def save(self) -> None:
        STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
        STATE_FILE.write_text(json.dumps(asdict(self), indent=2))
        STATE_FILE.chmod(0o600)

    @classmethod
    def load(cls) -> DemoConfig:
        if not STATE_FILE.exists():
            raise SystemExit("No running demo found (var/demo.json): start it with `make demo`.")
        return cls(**json.loads(STATE_FILE.read_text()))


def app_settings(config: DemoConfig):
    from kernel.settings import load_settings

    return load_settings(
        _env_file=None,
        stripe_api_key=config.stripe_api_key,
        stripe_api_base=config.stripe_url,
        stripe_webhook_secret=config.webhook_secret,
        intercom_client_secret=config.intercom_client_secret,
        intercom_access_token=config.intercom_access_token,
        intercom_api_base=config.intercom_url,
        intercom_admin_id="admin_1",
        fin_action_tokens=config.fin_token,
        admin_tokens=config.admin_token,
        secret_key=config.secret_key,
        public_url=config.app_url,
        database_url="sqlite+aiosqlite:///./var/demo.sqlite3",
        retention_coupon="RETENTION20",
    )


def run_demo() -> None:
    from automations.setup import set_up_workspace
    from canvas_app.app import create_app
    from sandbox.intercom_api import IntercomState, create_intercom_app, seed_demo_workspace
    from sandbox.simulator import SimulatorConfig, create_simulator_app
    from sandbox.stripe_api import StripeState, create_stripe_app, seed_demo_world

    config = DemoConfig.generate()
    config.save()
    stripe_state = StripeState(
        public_base_url=config.stripe_url,
        webhook_endpoints=[
            {"url": f"{config.app_url}/webhooks/stripe", "secret": config.webhook_secret}
        ],
    )
    seed_demo_world(stripe_state)
    intercom_state = IntercomState()
    seed_demo_workspace(intercom_state)

    servers = [
        ThreadedServer(
            create_stripe_app(stripe_state, api_key=config.stripe_api_key), port=config.stripe_port
        ),
        ThreadedServer(
            create_intercom_app(intercom_state, access_token=config.intercom_access_token),
            port=config.intercom_port,
        ),
        ThreadedServer(create_app(app_settings(config)), port=config.app_port, log_level="info"),
        ThreadedServer(
            create_simulator_app(
                SimulatorConfig(
                    app_url=config.app_url,
                    client_secret=config.intercom_client_secret,
                    intercom_url=config.intercom_url,
                    intercom_token=config.intercom_access_token,
                    stripe_url=config.stripe_url,
                )
            ),
            port=config.simulator_port,
        ),
    ]
    for server in servers:
        server.start()
    # The automations write custom attributes: create them as an operator would (intercom-setup).
    asyncio.run(set_up_workspace(app_settings(config)))
    print(welcome(config), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for server in reversed(servers):
        server.stop()


def welcome(config: DemoConfig) -> str:
    return f"""
  Stripe × Intercom demo is running (all on loopback, demo secrets in var/demo.json)

  ▸ Simulator (play Intercom: inbox sidebar + Messenger cards)  {config.simulator_url}
  ▸ App                                                         {config.app_url}  (/healthz)
  ▸ Sandbox Stripe  (API + hosted Checkout pages)                {config.stripe_url}
  ▸ Sandbox Intercom (REST API; what reached a contact: /_sandbox/contacts/contact_sepa/activity)
                                                                {config.intercom_url}

  Next:
  1. Open the simulator, pick "Müller Maschinenbau GmbH": the sidebar shows the failed SEPA
     debit (insufficient funds, AM04). Press "Send recovery card", then in the customer's card
     "Retry payment" (→ processing) or "Pay by card instead" (→ the sandbox Checkout page).
  2. Print a card from the terminal with a correctly signed initialize request:
       .venv/bin/python -m sandbox initialize sepa        (any of: healthy sepa trial vip usage
                                                           shared_a shared_b nobody)
  3. Make a payment fail and watch the webhook loop reach Intercom:
       curl -X POST {config.stripe_url}/_sandbox/demo/fail_payment -d '{{"customer": "cus_DemoHealthy"}}'
       curl {config.intercom_url}/_sandbox/contacts/contact_healthy/activity
  4. Ask like Fin does:
       curl -H "Authorization: Bearer {config.fin_token}" -H "Content-Type: application/json" \\
            -d '{{"email": "anna@example.com"}}' {config.app_url}/fin/next-invoice
  5. The recovery and refund report of what you did (user: anything, password: the token),
     and the metrics:
       {config.app_url}/admin/report          password {config.admin_token}
       curl -H "Authorization: Bearer {config.admin_token}" {config.app_url}/metrics

  6. Billing conversations (cancel or save, invoice copies, billing details): Anna asks for a
     copy of her last invoice — open her conversation, press "Details" (her invoices, with the
     page and the PDF) and "Send invoices", or ask like Fin does:
       curl -H "Authorization: Bearer {config.fin_token}" -H "Content-Type: application/json" \\
            -d '{{"user_id": "usr_anna", "limit": 1}}' {config.app_url}/fin/invoices
     Anna's invoices have numbers and PDFs (GET /v1/invoices?customer=cus_DemoHealthy), the
     coupon RETENTION20 gives 20 % off for 3 months, "Weber Design Studio GmbH"
     (cus_DemoMulti) has two subscriptions and a verified DE VAT id, and time moves with
       curl -X POST {config.stripe_url}/_sandbox/clock/advance -d '{{"seconds": 2678400}}'

  Ctrl-C stops everything.
"""
