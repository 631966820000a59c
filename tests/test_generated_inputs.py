"""Generated inputs, correctly signed, never get a 5xx: schemathesis over `/fin/openapi.json`
(with all of its checks, including conformance to the description), and hypothesis-generated
Canvas Kit requests (inbox and Messenger), Stripe webhooks and `/l/<token>` links. Every
request is counted; the test fails naming each 5xx it saw."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
import stripe
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from messenger.cards.status import CARD_TYPES
from sandbox.canvas_requests import demo_contact, signed
from sandbox.intercom_api.seed import DEMO_CONTACTS
from tests.conftest import FIN_TOKEN, SECRET_KEY, WEBHOOK_SECRET, AppClient
from tests.http import client

pytestmark = pytest.mark.slow

MIN_REQUESTS = 2000
DEMO_KEYS = [key for key, *_ in DEMO_CONTACTS]
DEMO_EMAILS = [email for _key, _name, email, *_ in DEMO_CONTACTS]
DEMO_CUSTOMERS = [
    "cus_DemoHealthy",
    "cus_DemoSepa",
    "cus_DemoTrial",
    "cus_DemoUsage",
    "cus_DemoVip",
]


@dataclass
class Tally:
    """Requests sent, and every answer ≥ 500 with what was sent."""

    sent: int = 0
    server_errors: list[str] = field(default_factory=list)

    def record(self, what: str, status: int, body: str = "") -> None:
        self.sent += 1
        if status >= 500:
            self.server_errors.append(f"{status} {what}: {body[:300]}")


def run(test: Callable[..., None], examples: int) -> None:
    """Run a hypothesis test now, with `examples` generated inputs and no shrinking (the
    failure list already names the input)."""
    settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(test)()


# --- building blocks ---
json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
# Any JSON value, nested two levels at most. Spelled out rather than `st.recursive`: drawing
# through the recursive strategy cost half of the CPU of the canvas tests, and what the
# handlers must survive is a value of the wrong type at any key, not deep nesting.
json_containers = st.lists(json_scalars, max_size=3) | st.dictionaries(
    st.text(max_size=8), json_scalars, max_size=3
)
json_values = (
    json_scalars
    | json_containers
    | st.lists(json_containers, max_size=2)
    | st.dictionaries(st.text(max_size=8), json_containers, max_size=2)
)
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def prefixed(*prefixes: str) -> st.SearchStrategy[str]:
    """Stripe-looking ids: `cus_…`, `in_…`."""
    return st.builds(
        "{}_{}".format, st.sampled_from(prefixes), st.text(ALNUM, min_size=1, max_size=14)
    )


ids = st.sampled_from(DEMO_CUSTOMERS) | st.text(max_size=30) | prefixed("cus")
anything_or_id = ids | json_values


@st.composite
def contacts(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 3)) == 0:  # a demo contact as Intercom sends it, maybe altered
        contact = demo_contact(draw(st.sampled_from(DEMO_KEYS)))
    else:
        contact = {"type": "contact", "id": draw(st.text(max_size=12))}
    for key, values in (
        (
            "email",
            st.sampled_from(DEMO_EMAILS)
            | st.builds("{}@{}".format, st.text(max_size=8), st.text(max_size=8))
            | json_values,
        ),
        ("external_id", st.text(max_size=20) | json_values),
        ("role", st.sampled_from(["user", "lead", "visitor"]) | json_values),
        ("custom_attributes", st.fixed_dictionaries({"stripe_id": anything_or_id}) | json_values),
        ("language_override", st.sampled_from(["de", "en", "fr"]) | json_values),
    ):
        if draw(st.booleans()):
            contact[key] = draw(values)
    return contact if draw(st.integers(0, 15)) else draw(json_values)


inbox_components = st.sampled_from(
    [
        "details",
        "summary",
        "retry",
        "pick_other",
        "refund",
        "refund:confirm",
        "send_card:savings",
        "send_card:payment_recovery",
    ]
) | st.builds(
    lambda prefix, arg: f"{prefix}:{arg}",
    st.sampled_from(
        [
            "pick",
            "refund:charge",
            "refund:review",
            "retry_invoice",
            "confirm_retry_invoice",
            "send_card",
            "send_document",
        ]
    ),
    st.text(max_size=30) | st.sampled_from(DEMO_CUSTOMERS),
)
messenger_components = st.sampled_from(
    ["retry_payment", "show_savings", "switch_plan", "confirm_switch", "refresh", "back"]
    + [f"show:{c}" for c in CARD_TYPES]
    + [f"card:{c}" for c in CARD_TYPES]
)
stored_data = st.fixed_dictionaries(
    {},
    optional={
        "customer_id": anything_or_id,
        "matches": json_values,
        "card": st.sampled_from(CARD_TYPES) | json_values,
        "quote": st.text(max_size=60) | json_values,
        "shown": st.text(max_size=60) | json_values,
        "refund_token": st.text(max_size=60) | json_values,
        "refund": json_values,
        "last_view": st.sampled_from(["summary", "details", "pick"]) | json_values,
    },
)


@st.composite
def canvases(draw: st.DrawFn) -> Any:
    components = draw(
        st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["text", "button", "list", "spacer"]) | json_values},
                optional={"id": st.text(max_size=40) | json_values, "text": json_values},
            ),
            max_size=3,
        )
    )
    canvas = {"content": {"components": components}, "stored_data": draw(stored_data | json_values)}
    return canvas if draw(st.integers(0, 10)) else draw(json_values)


@st.composite
def canvas_requests(draw: st.DrawFn, components: st.SearchStrategy[str]) -> dict[str, Any]:
    contact = draw(contacts())
    body: dict[str, Any] = {
        "workspace_id": "ws_1",
        "contact": contact,
        "customer": contact,
        "context": {"locale": draw(st.sampled_from(["en", "de", "fr-FR"]) | json_values)},
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "admin": st.fixed_dictionaries({"id": st.text(max_size=10) | json_values}) | json_values,
        "conversation": st.fixed_dictionaries({"id": st.text(max_size=10) | json_values}),
        "component_id": components | st.text(max_size=40) | json_values,
        "input_values": st.dictionaries(st.text(max_size=12), json_values, max_size=3)
        | json_values,
        "current_canvas": canvases(),
        "canvas": canvases(),
        "card_creation_options": st.fixed_dictionaries(
            {"card": st.sampled_from(CARD_TYPES) | json_values},
            optional={"customer_id": anything_or_id},
        )
        | json_values,
    }
    for key, values in optional.items():
        if draw(st.booleans()):
            body[key] = draw(values)
    return body


# --- webhooks ---
HANDLED_TYPES = [
    "invoice.payment_failed",
    "invoice.paid",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "payment_intent.payment_failed",
    "customer.updated",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "billing.alert.triggered",
]


@st.composite
def webhook_payloads(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return json.dumps(draw(json_values))
    obj: dict[str, Any] = {
        "id": draw(prefixed("in", "sub", "pi", "cus", "alrt") | ids),
        "object": draw(st.sampled_from(["invoice", "subscription", "payment_intent", "customer"])),
    }
    if draw(st.booleans()):
        obj["customer"] = draw(st.sampled_from(DEMO_CUSTOMERS) | anything_or_id)
    if draw(st.integers(0, 3)):  # an invoice's amounts, as Stripe always sends them
        for key in ("amount_due", "amount_paid", "amount_remaining"):
            obj[key] = draw(st.integers(0, 10**6))
        obj["currency"] = draw(st.sampled_from(["eur", "usd"]))
    for key in ("value", "status", "amount", "currency", "latest_charge", "last_payment_error"):
        if draw(st.integers(0, 3)) == 0:
            obj[key] = draw(json_values)
    event: dict[str, Any] = {
        "id": draw(prefixed("evt")),
        "object": "event",
        "type": draw(st.sampled_from(HANDLED_TYPES) | st.text(max_size=30)),
        "created": draw(st.integers(0, 2**31)),
        "data": {"object": obj},
    }
    if draw(st.integers(0, 7)) == 0:
        del event[draw(st.sampled_from(["id", "type", "data", "created"]))]
    return json.dumps(event)


# --- payment links ---
link_payloads = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["recover", "trial"]) | json_values,
        "customer": st.sampled_from(DEMO_CUSTOMERS) | anything_or_id,
    },
    optional={
        "invoice": st.text(max_size=20) | json_values,
        "locale": st.sampled_from(["en", "de"]) | json_values,
        "contact": json_values,
        "payment_method": st.text(max_size=20) | json_values,
    },
)


# How many inputs each surface gets: 2,100 requests in all, each test asserting its share.
COUNTS = {"fin": 400, "inbox": 450, "messenger": 600, "webhooks": 300, "links": 350}
assert sum(COUNTS.values()) >= MIN_REQUESTS


@dataclass
class Target:
    """The app under test, a client on it, and the tally of what it answered."""

    app: AppClient
    http: httpx.Client
    tally: Tally = field(default_factory=Tally)
    started: float = field(default_factory=time.monotonic)
    cpu_started: float = field(default_factory=time.process_time)

    def post_canvas(self, path: str, payload: Any) -> None:
        secret = self.app.settings.intercom_client_secret.get_secret_value()
        body, headers = signed(payload, secret)
        response = self.http.post(path, content=body, headers=headers)
        self.tally.record(f"POST {path} {body[:200]!r}", response.status_code, response.text)

    def check(self, surface: str) -> None:
        elapsed = time.monotonic() - self.started
        print(
            f"\n{surface}: generated requests {self.tally.sent}, "
            f"5xx {len(self.tally.server_errors)}, {elapsed:.1f} s "
            f"({time.process_time() - self.cpu_started:.1f} s CPU in this process, app included)"
        )
        assert not self.tally.server_errors, (
            f"{len(self.tally.server_errors)} of {self.tally.sent} requests got a 5xx:\n"
            + "\n".join(self.tally.server_errors[:15])
        )
        assert self.tally.sent >= COUNTS[surface]


@pytest.fixture
def target(start_app: Callable[..., AppClient]) -> Target:
    # A generous Stripe timeout: a busy machine must not turn the sandbox into "unavailable" (503).
    app = start_app(stripe_timeout_seconds=20)
    return Target(app, client(base_url=app.url, timeout=30))


def test_generated_fin_requests_get_no_5xx_and_match_the_description(target: Target) -> None:
    # schemathesis over the published Fin description, every check it has.
    app, tally = target.app, target.tally
    schema = schemathesis.openapi.from_url(f"{app.url}/fin/openapi.json")
    auth = {"Authorization": f"Bearer {FIN_TOKEN}"}
    failures: list[str] = []

    def fin_cases(operation: Any, mode: GenerationMode) -> Callable[..., None]:
        @given(case=operation.as_strategy(generation_mode=mode))
        def fin_case(case: Any) -> None:
            response = case.call(base_url=app.url, headers=auth)
            tally.record(f"POST {case.path} {case.body!r}", response.status_code, response.text)
            try:
                case.validate_response(response, headers=auth)
            except AssertionError as exc:  # schemathesis' FailureGroup is one
                failures.append(f"{case.path} {mode}: {str(exc)[:500]}")

        return fin_case

    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"/fin/openapi.json is not a valid description: {result}"
        operations.append(result.ok())
    per_run = -(-COUNTS["fin"] // (2 * len(operations)))
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run(fin_cases(operation, mode), per_run)
    assert not failures, "\n\n".join(failures[:5])
    target.check("fin")


def test_generated_inbox_requests_get_no_5xx(target: Target) -> None:
    @given(payload=canvas_requests(inbox_components), initialize=st.booleans())
    def inbox_case(payload: dict[str, Any], initialize: bool) -> None:
        target.post_canvas(f"/canvas/inbox/{'initialize' if initialize else 'submit'}", payload)

    run(inbox_case, COUNTS["inbox"])
    target.check("inbox")


def test_generated_messenger_requests_get_no_5xx(target: Target) -> None:
    @given(
        payload=canvas_requests(messenger_components),
        flow=st.sampled_from(["configure", "initialize", "submit", "content"]),
    )
    def messenger_case(payload: dict[str, Any], flow: str) -> None:
        target.post_canvas(f"/canvas/messenger/{flow}", payload)

    run(messenger_case, COUNTS["messenger"])
    target.check("messenger")


def test_generated_webhooks_get_no_5xx(target: Target) -> None:
    # Stripe webhooks, signed with the endpoint's secret.
    @given(payload=webhook_payloads())
    def webhook_case(payload: str) -> None:
        header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
        response = target.http.post(
            "/webhooks/stripe", content=payload.encode(), headers={"Stripe-Signature": header}
        )
        target.tally.record(f"webhook {payload[:200]}", response.status_code, response.text)

    run(webhook_case, COUNTS["webhooks"])
    target.check("webhooks")


def test_generated_link_visits_get_no_5xx(target: Target) -> None:
    # Payment links: signed by the app's serializer with generated payloads, and garbage.
    link_signer = URLSafeTimedSerializer(SECRET_KEY, salt="payment-link")

    @given(
        token=st.builds(link_signer.dumps, link_payloads | json_values)
        | st.text(min_size=1, max_size=80),
        page=st.sampled_from(["", "/done", "/cancel", "/done?session_id=cs_test_x"]),
        post=st.booleans(),
    )
    def link_case(token: str, page: str, post: bool) -> None:
        path = f"/l/{quote(token, safe='')}{page}"
        method = "POST" if post and page.startswith("/done") else "GET"
        form = {"payment_method": "pm_x"} if method == "POST" else None
        response = target.http.request(method, path, data=form)
        target.tally.record(f"{method} {path[:80]}…{page} {token!r}", response.status_code)

    run(link_case, COUNTS["links"])
    target.check("links")
