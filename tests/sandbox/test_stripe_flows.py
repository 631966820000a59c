"""Hosted Checkout/Portal, meters, injected latency and faults, request log, webhooks."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import cast

import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from stripe.params.checkout import SessionCreateParams as CheckoutSessionCreateParams

from sandbox.stripe_api import serve_in_thread
from tests.http import async_client

from .conftest import Sandbox


async def test_checkout_sessions_expire_on_request_or_at_expires_at(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    params: CheckoutSessionCreateParams = {
        "mode": "setup",
        "customer": "cus_DemoSepa",
        "currency": "eur",
        "success_url": "https://app.example/ok",
    }
    first = await client.v1.checkout.sessions.create_async(params)
    expired = await client.v1.checkout.sessions.expire_async(first.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.checkout.sessions.expire_async(first.id)
    second = await client.v1.checkout.sessions.create_async(params)
    assert second.expires_at == second.created + 86400
    sandbox.control("POST", "/_sandbox/clock/advance", {"seconds": 86400})
    later = await client.v1.checkout.sessions.retrieve_async(second.id)
    assert (later.status, later.url) == ("expired", None)


async def test_checkout_setup_flow(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    # `payment_method_types` is gone from the API version (and so from the SDK's params type).
    removed = cast(
        stripe.params.checkout.SessionCreateParams,
        {
            "mode": "setup",
            "customer": "cus_DemoSepa",
            "payment_method_types": ["card"],
            "success_url": "https://app.example/ok",
        },
    )
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.checkout.sessions.create_async(removed)
    assert ei.value.code == "parameter_unknown"
    session = await client.v1.checkout.sessions.create_async(
        {
            "mode": "setup",
            "customer": "cus_DemoSepa",
            "currency": "eur",
            "success_url": "https://app.example/ok?s={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://app.example/cancel",
            "metadata": {"ticket": "42"},
            "setup_intent_data": {"metadata": {"ticket": "42"}},
        }
    )
    assert session.status == "open" and session.url == f"{sandbox.base_url}/checkout/{session.id}"
    async with async_client() as h:
        page = await h.get(session.url)
        r = await h.post(
            session.url, data={"card": "4242424242424242", "exp_month": "10", "exp_year": "2031"}
        )
    assert (
        page.status_code == 200
        and "4242" in page.text
        and "https://app.example/cancel" in page.text
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"https://app.example/ok?s={session.id}"
    done = await client.v1.checkout.sessions.retrieve_async(
        session.id, {"expand": ["setup_intent.payment_method"]}
    )
    assert done.status == "complete"
    si = done.setup_intent
    assert isinstance(si, stripe.SetupIntent) and si.metadata is not None
    assert si.status == "succeeded" and si.metadata["ticket"] == "42"
    pm = si.payment_method
    assert isinstance(pm, stripe.PaymentMethod) and pm.card is not None
    assert pm.customer == "cus_DemoSepa" and pm.card.last4 == "4242"
    types = [e.type for e in (await client.v1.events.list_async({"limit": 3})).data]
    assert set(types) == {
        "checkout.session.completed",
        "setup_intent.succeeded",
        "payment_method.attached",
    }


async def test_portal_payment_method_update(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    ps = await client.v1.billing_portal.sessions.create_async(
        {
            "customer": "cus_DemoTrial",
            "return_url": "https://app.example/account",
            "flow_data": {
                "type": "payment_method_update",
                "after_completion": {
                    "type": "redirect",
                    "redirect": {"return_url": "https://app.example/done"},
                },
            },
        }
    )
    assert ps.flow is not None
    assert ps.url.endswith(f"/portal/{ps.id}") and ps.flow.type == "payment_method_update"
    async with async_client() as h:
        assert (await h.get(ps.url)).status_code == 200
        r = await h.post(
            ps.url, data={"card": "5555555555554444", "exp_month": "1", "exp_year": "2030"}
        )
    assert r.status_code == 303 and r.headers["location"] == "https://app.example/done"
    cus = await client.v1.customers.retrieve_async(
        "cus_DemoTrial", {"expand": ["invoice_settings.default_payment_method"]}
    )
    assert cus.invoice_settings is not None
    pm = cus.invoice_settings.default_payment_method
    assert isinstance(pm, stripe.PaymentMethod) and pm.card is not None
    assert pm.card.brand == "mastercard"


async def test_meter_event_summaries(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    meters = await client.v1.billing.meters.list_async()
    assert [m.id for m in meters.data] == ["mtr_ApiCalls"]
    sub = await client.v1.subscriptions.retrieve_async("sub_DemoUsage")
    item = sub["items"].data[0]
    end = item.current_period_end
    res = await client.v1.billing.meters.event_summaries.list_async(
        "mtr_ApiCalls",
        {"customer": "cus_DemoUsage", "start_time": item.current_period_start, "end_time": end},
    )
    assert len(res.data) == 1 and res.data[0].aggregated_value == 8500
    assert res.data[0].object == "billing.meter_event_summary"
    with pytest.raises(stripe.InvalidRequestError) as ei:
        await client.v1.billing.meters.event_summaries.list_async(
            "mtr_ApiCalls",
            {
                "customer": "cus_DemoUsage",
                "start_time": item.current_period_start + 1,
                "end_time": end,
            },
        )
    assert ei.value.param == "start_time"
    await client.v1.billing.meter_events.create_async(
        {
            "event_name": "api_call",
            "payload": {"stripe_customer_id": "cus_DemoUsage", "value": "100"},
            "identifier": "evt-1",
        }
    )
    await client.v1.billing.meter_events.create_async(
        {
            "event_name": "api_call",
            "payload": {"stripe_customer_id": "cus_DemoUsage", "value": "100"},
            "identifier": "evt-1",
        }
    )  # deduplicated by identifier
    now = sandbox.state.now()
    res = await client.v1.billing.meters.event_summaries.list_async(
        "mtr_ApiCalls",
        {
            "customer": "cus_DemoUsage",
            "start_time": item.current_period_start,
            "end_time": now - now % 60 + 120,
        },
    )
    assert res.data[0].aggregated_value == 8600
    day = 86400
    start = item.current_period_start - item.current_period_start % day
    daily = await client.v1.billing.meters.event_summaries.list_async(
        "mtr_ApiCalls",
        {
            "customer": "cus_DemoUsage",
            "start_time": start,
            "end_time": start + 30 * day,
            "value_grouping_window": "day",
            "limit": 100,
        },
    )
    assert sum(s.aggregated_value for s in daily.data) == 8600


async def test_latency_and_request_log(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    sandbox.control("DELETE", "/_sandbox/requests")
    sandbox.control("POST", "/_sandbox/latency", {"ms": 150})
    t0 = time.monotonic()
    await asyncio.gather(
        client.v1.customers.retrieve_async("cus_DemoVip"),
        client.v1.customers.retrieve_async("cus_DemoUsage"),
    )
    elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed < 0.29  # concurrent, each delayed
    log = sandbox.control("GET", "/_sandbox/requests")["requests"]
    assert len(log) == 2 and all(r["status"] == 200 for r in log)
    a, b = log
    assert a["start"] < b["end"] and b["start"] < a["end"]  # overlapping = concurrent


async def test_fault_injection(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    sandbox.control(
        "POST", "/_sandbox/faults", {"path_prefix": "/v1/invoices", "status": 500, "count": 1}
    )
    with pytest.raises(stripe.APIError):
        await client.v1.invoices.list_async()
    await client.v1.invoices.list_async()  # count exhausted
    sandbox.control(
        "POST", "/_sandbox/faults", {"path_prefix": "/v1/customers", "status": 429, "count": 1}
    )
    with pytest.raises(stripe.RateLimitError):
        await client.v1.customers.retrieve_async("cus_DemoVip")
    # the SDK retries 5xx with the same idempotency key; the retry succeeds once the fault is used up
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/refunds", "method": "POST", "status": 503, "count": 1},
    )
    ch = (await client.v1.charges.list_async({"customer": "cus_DemoUsage", "limit": 1})).data[0]
    retrying = sandbox.client(retries=2)
    ref = await retrying.v1.refunds.create_async({"charge": ch.id, "amount": 100})
    assert ref.amount == 100
    assert len((await client.v1.refunds.list_async({"charge": ch.id})).data) == 1
    sandbox.control("POST", "/_sandbox/faults", {"status": "hang", "delay_ms": 200, "count": 1})
    t0 = time.monotonic()
    await client.v1.customers.retrieve_async("cus_DemoVip")
    assert time.monotonic() - t0 >= 0.2
    assert sandbox.control("DELETE", "/_sandbox/faults") == {"faults": []}


async def test_webhook_delivery_signed(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    secret = "whsec_test_receiver"
    received: list[tuple[bytes, str]] = []
    fail_first = {"n": 1}
    got_both = threading.Event()

    async def hook(request: Request) -> Response:
        body = await request.body()
        if fail_first["n"]:
            fail_first["n"] -= 1
            return Response(status_code=500)
        received.append((body, request.headers["stripe-signature"]))
        if len(received) >= 2:
            got_both.set()
        return Response("ok")

    base, stop = serve_in_thread(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    try:
        sandbox.control(
            "POST", "/_sandbox/webhook_endpoints", {"url": base + "/hook", "secret": secret}
        )
        ch = (await client.v1.charges.list_async({"customer": "cus_DemoVip", "limit": 1})).data[0]
        await client.v1.refunds.create_async(
            {"charge": ch.id, "amount": 500}, options={"idempotency_key": "wh-refund"}
        )
        await asyncio.to_thread(got_both.wait, 5)
    finally:
        stop()
    events = [stripe.Webhook.construct_event(body, sig, secret) for body, sig in received]
    assert {e.type for e in events} == {"refund.created", "charge.refunded"}
    refunded = next(e for e in events if e.type == "charge.refunded")
    assert refunded.data.object.amount_refunded == 500
    assert refunded.data.previous_attributes.amount_refunded == 0
    assert refunded.request.idempotency_key == "wh-refund"
    assert refunded.api_version == "2026-10-28.endive"
    deliveries = sandbox.control("GET", "/_sandbox/deliveries")["deliveries"]
    assert [d["status"] for d in deliveries][0] == 500 and deliveries[-1]["status"] == 200
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(received[0][0], received[0][1], "whsec_other")


async def test_billing_alert_and_reset(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    evt = sandbox.control(
        "POST",
        "/_sandbox/billing_alerts/trigger",
        {"customer": "cus_DemoUsage", "meter": "mtr_ApiCalls", "value": 8500},
    )
    assert evt["type"] == "billing.alert.triggered"
    fetched = await client.v1.events.retrieve_async(evt["id"])
    assert fetched.data.object.customer == "cus_DemoUsage"
    await client.v1.customers.update_async("cus_DemoVip", {"name": "Changed"})
    sandbox.control("POST", "/_sandbox/reset")
    assert (await client.v1.customers.retrieve_async("cus_DemoVip")).name == "Lena Fischer"
    summary = sandbox.control("GET", "/_sandbox/state/summary")
    assert len(summary["customers"]) == 9  # docs/demo-world.md, plus cus_DemoMulti


async def test_an_injected_4xx_is_worded_as_stripe_words_it(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    error = {
        "type": "invalid_request_error",
        "code": "parameter_invalid",
        "param": "query",
        "message": "We were unable to parse your search query.",
    }
    sandbox.control(
        "POST",
        "/_sandbox/faults",
        {"path_prefix": "/v1/customers/search", "status": 400, "count": 1, "error": error},
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await client.v1.customers.search_async({"query": "email:'a@example.com'"})
    assert refused.value.http_status == 400
    assert (refused.value.code, refused.value.param) == ("parameter_invalid", "query")
    assert refused.value.user_message == error["message"]
    # The fault is used up: the next search is answered.
    await client.v1.customers.search_async({"query": "email:'a@example.com'"})


async def test_a_url_no_route_takes_is_stripes_json_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await client.v1.customers.retrieve_async("line\nbreak")
    assert refused.value.http_status == 404
    assert "Unrecognized request URL" in str(refused.value.user_message)
