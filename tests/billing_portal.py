"""Following a billing-details link (`/l/<token>`) the way a customer's browser does: to the
sandbox Stripe's Billing Portal page, and what that page lets them change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import STRIPE_KEY, Sandbox
from tests.http import HTTP

MULTI = "cus_DemoMulti"  # Weber Design Studio GmbH: a Berlin address and a verified DE VAT id


@dataclass
class PortalVisit:
    link: str
    url: str  # the hosted Billing Portal page
    session: dict[str, Any]  # as the sandbox Stripe keeps it (Stripe has no GET for sessions)
    configuration: dict[str, Any]  # through the API
    page: httpx.Response

    def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        return HTTP.post(f"{self.url}{path}", data=form)

    @property
    def return_url(self) -> str:
        found = re.search(r"<a href='([^']+)'>Return</a>", self.page.text)
        assert found, self.page.text
        return found.group(1)


def stripe_get(sandbox: Sandbox, path: str) -> dict[str, Any]:
    response = HTTP.get(
        f"{sandbox.url}{path}", headers={"Authorization": f"Bearer {STRIPE_KEY}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def open_portal(link: str, sandbox: Sandbox) -> PortalVisit:
    to_stripe = HTTP.get(link)
    assert to_stripe.status_code == 303, to_stripe.text
    assert to_stripe.headers["cache-control"] == "no-store"
    url = to_stripe.headers["location"]
    session = sandbox.state.find(url.rsplit("/", 1)[1], "billing_portal.session")
    assert session is not None, url
    configuration = stripe_get(
        sandbox, f"/v1/billing_portal/configurations/{session['configuration']}"
    )
    page = HTTP.get(url)
    assert page.status_code == 200
    return PortalVisit(link, url, session, configuration, page)


def enabled_features(configuration: dict[str, Any]) -> dict[str, Any]:
    return {name: f for name, f in configuration["features"].items() if f["enabled"]}


def our_configurations(sandbox: Sandbox) -> list[dict[str, Any]]:
    listed = stripe_get(sandbox, "/v1/billing_portal/configurations?limit=100")["data"]
    return [c for c in listed if c["metadata"].get("purpose") == "billing_details"]
