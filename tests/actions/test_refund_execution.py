"""`refunds` spends a confirmation token at most once, even under retries and races: a replay
returns the first result without calling Stripe again, concurrent executions create one refund,
and a Stripe failure half-way can be retried with the same token without refunding twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from billing.refund_tokens import RefundTokens
from storage import Database
from storage.actions import ActionStore
from tests.actions.conftest import Stripe, audit_entries, who
from tests.conftest import FIN_TOKEN, SECRET_KEY, AppClient
from tests.http import HTTP


def preview_token(app: AppClient, key: str = "healthy", **fields: object) -> dict:
    body = app.fin("/fin/refunds/preview", who(key, **fields)).json()
    assert body["eligible"] is True, body
    return body


def execute(app: AppClient, token: str, key: str = "healthy", **fields: object) -> httpx.Response:
    return app.fin("/fin/refunds", who(key, confirmation_token=token, **fields))


def test_a_confirmed_refund_moves_exactly_the_previewed_amount(
    fin: AppClient, stripe: Stripe
) -> None:
    previewed = preview_token(
        fin, amount=2500, conversation_id="conv_healthy", reason="Charged twice this month"
    )

    response = execute(fin, previewed["confirmation_token"])

    body = response.json()
    assert response.status_code == 200
    [refund] = stripe.refunds(previewed["charge"]["id"])
    assert body["refund_id"] == refund["id"]
    assert (body["refunded"], body["replayed"], body["refund_status"]) == (True, False, "succeeded")
    assert body["amount"] == {"amount": 2500, "currency": "eur", "formatted": "€25.00"}
    assert (refund["amount"], refund["reason"]) == (2500, "requested_by_customer")
    assert refund["metadata"]["requested_by"] == "fin"
    assert refund["metadata"]["intercom_conversation_id"] == "conv_healthy"
    [post] = stripe.refund_posts()
    assert post["idempotency_key"] == f"fin-refund:{refund['metadata']['token_id']}"
    assert body["message"] == (
        "Done: €25.00 is on its way back to your card ending in 4242. It usually arrives within "
        "5 to 10 business days."
    )
    [entry] = audit_entries(fin)
    assert (entry.actor_type, entry.actor_id, entry.conversation_id) == (
        "fin",
        None,
        "conv_healthy",
    )
    assert (entry.customer_id, entry.object_id) == ("cus_DemoHealthy", previewed["charge"]["id"])
    assert (entry.amount, entry.currency, entry.reason) == (2500, "eur", "Charged twice this month")
    assert (entry.outcome, entry.stripe_id) == ("succeeded", refund["id"])


def test_executing_the_same_token_again_returns_the_first_result_without_stripe(
    fin_on_both_databases: AppClient, stripe: Stripe
) -> None:
    fin = fin_on_both_databases
    token = preview_token(fin)["confirmation_token"]
    first = execute(fin, token).json()

    again = execute(fin, token, locale="de")

    assert again.status_code == 200
    assert again.json()["refund_id"] == first["refund_id"]
    assert again.json()["replayed"] is True
    assert again.json()["message"].startswith("Erledigt: 79,00\xa0€ werden")
    assert len(stripe.refund_posts()) == 1
    assert len(stripe.refunds(first["charge_id"])) == 1


def test_concurrent_executions_of_one_token_create_one_refund(
    fin_on_both_databases: AppClient, stripe: Stripe
) -> None:
    app = fin_on_both_databases
    # Slow Stripe down so the executions really overlap.
    stripe.sandbox.control("POST", "/_sandbox/latency", {"ms": 150})
    previewed = preview_token(app)

    def run(_: int) -> httpx.Response:
        return HTTP.post(
            f"{app.url}/fin/refunds",
            json=who("healthy", confirmation_token=previewed["confirmation_token"]),
            headers={"Authorization": f"Bearer {FIN_TOKEN}"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(run, range(8)))

    assert [r.status_code for r in responses] == [200] * 8
    assert len({r.json()["refund_id"] for r in responses}) == 1
    assert sum(not r.json()["replayed"] for r in responses) == 1
    assert len(stripe.refunds(previewed["charge"]["id"])) == 1
    assert len(stripe.refund_posts()) == 1


def test_two_tokens_racing_past_a_limit_of_one_refund_only_once(
    start_app: Callable[..., AppClient], stripe: Stripe
) -> None:
    app = start_app(refund_max_per_customer=1)
    tokens = [preview_token(app, amount=1000)["confirmation_token"] for _ in range(2)]
    stripe.sandbox.control("POST", "/_sandbox/latency", {"ms": 100})

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda t: execute(app, t), tokens))

    assert sorted(r.status_code for r in responses) == [200, 409]
    refused = next(r for r in responses if r.status_code == 409).json()["error"]
    assert refused["code"] == "refund_limit_reached"
    assert len(stripe.refund_posts()) == 1
    outcomes = sorted((e.outcome, e.error_code) for e in audit_entries(app))
    assert outcomes == [("refused", "refund_limit_reached"), ("succeeded", None)]


def test_the_charge_is_judged_again_when_the_token_is_spent(fin: AppClient, stripe: Stripe) -> None:
    previewed = preview_token(fin)
    stripe.post("/v1/refunds", {"charge": previewed["charge"]["id"]})  # e.g. from the dashboard
    stripe.forget_requests()

    first = execute(fin, previewed["confirmation_token"])
    again = execute(fin, previewed["confirmation_token"])

    assert (first.status_code, again.status_code) == (409, 409)
    assert first.json()["error"]["code"] == again.json()["error"]["code"] == "refunded_already"
    assert stripe.refund_posts() == []
    assert len(stripe.refunds(previewed["charge"]["id"])) == 1
    [entry] = audit_entries(fin)
    assert (entry.outcome, entry.error_code) == ("refused", "refunded_already")


def test_an_expired_token_is_refused_before_stripe(fin: AppClient, stripe: Stripe) -> None:
    token = preview_token(fin)["confirmation_token"]
    stripe.forget_requests()

    response = execute(fin, signed_an_hour_ago(token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "confirmation_token_expired"
    assert "expired" in response.json()["error"]["message"]
    assert stripe.refund_posts() == []


def test_a_tampered_token_is_refused(fin: AppClient, stripe: Stripe) -> None:
    token = preview_token(fin)["confirmation_token"]
    payload, rest = token.split(".", 1)
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest

    response = execute(fin, tampered)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_confirmation_token"
    assert stripe.refund_posts() == []


def test_a_token_from_another_server_secret_is_refused(fin: AppClient, stripe: Stripe) -> None:
    payload = {"t": "x", "cus": "cus_DemoHealthy", "ch": "ch_1", "amt": 100, "cur": "eur"}
    forged = URLSafeTimedSerializer("some-other-secret-key", salt="fin-refund").dumps(payload)

    response = execute(fin, forged)

    assert response.status_code == 403
    assert stripe.refund_posts() == []


def test_a_token_cannot_be_spent_by_another_customer(fin: AppClient, stripe: Stripe) -> None:
    token = preview_token(fin)["confirmation_token"]

    response = execute(fin, token, key="vip")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_confirmation_token"
    assert stripe.refund_posts() == []


def test_an_ambiguous_customer_cannot_execute_a_refund(fin: AppClient, stripe: Stripe) -> None:
    token = preview_token(fin)["confirmation_token"]

    response = execute(fin, token, key="shared_b")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ambiguous_customer"
    assert stripe.refund_posts() == []


def test_a_503_from_stripe_can_be_retried_with_the_same_token_and_refunds_once(
    fin: AppClient, stripe: Stripe
) -> None:
    previewed = preview_token(fin, amount=1500)
    stripe.fault(status=503, path_prefix="/v1/refunds", method="POST", count=1)

    first = execute(fin, previewed["confirmation_token"])
    retry = execute(fin, previewed["confirmation_token"])

    assert first.status_code == 503
    assert first.json()["error"] == {
        "code": "stripe_unavailable",
        "message": "Our billing system did not confirm the refund in time. Please try again in a "
        "moment with the same confirmation; you will not be refunded twice.",
    }
    assert retry.status_code == 200 and retry.json()["replayed"] is False
    [refund] = stripe.refunds(previewed["charge"]["id"])
    assert refund["id"] == retry.json()["refund_id"] and refund["amount"] == 1500
    keys = {post["idempotency_key"] for post in stripe.refund_posts()}
    assert len(keys) == 1  # both attempts carried the same key


def test_stripe_timing_out_after_refunding_is_resolved_by_the_retry_without_a_second_refund(
    start_app: Callable[..., AppClient], stripe: Stripe
) -> None:
    app = start_app(stripe_timeout_seconds=0.5)
    previewed = preview_token(app, amount=2000)
    charge = previewed["charge"]["id"]
    # Stripe accepts the refund but answers only after our client gave up.
    stripe.fault(status="hang", delay_ms=1500, path_prefix="/v1/refunds", method="POST")

    timed_out = execute(app, previewed["confirmation_token"])
    while_stripe_still_works = execute(app, previewed["confirmation_token"])
    wait_for(lambda: len(stripe.refunds(charge)) == 1)
    retry = execute(app, previewed["confirmation_token"])

    assert timed_out.status_code == 503
    assert while_stripe_still_works.status_code == 503
    assert retry.status_code == 200
    [refund] = stripe.refunds(charge)
    assert retry.json()["refund_id"] == refund["id"] and refund["amount"] == 2000
    posts = stripe.refund_posts()
    assert len({post["idempotency_key"] for post in posts}) == 1
    assert posts[-1].get("replayed") is True  # Stripe answered the first attempt's refund
    history = [(e.outcome, e.error_code, e.stripe_id) for e in reversed(audit_entries(app))]
    assert history == [
        ("failed", "stripe_unavailable", None),
        ("failed", "stripe_unavailable", None),
        ("succeeded", None, refund["id"]),
    ]


def test_stripes_own_refusal_on_a_retry_is_named_not_leaked(fin: AppClient, stripe: Stripe) -> None:
    previewed = preview_token(fin)
    stripe.fault(status=500, path_prefix="/v1/refunds", method="POST", count=1)
    assert execute(fin, previewed["confirmation_token"]).status_code == 503
    # Meanwhile the whole payment was refunded elsewhere; the retry goes straight to Stripe.
    stripe.post("/v1/refunds", {"charge": previewed["charge"]["id"]})

    retry = execute(fin, previewed["confirmation_token"], locale="de")

    assert retry.status_code == 409
    assert retry.json()["error"]["code"] == "refunded_already"
    assert "bereits vollständig erstattet" in retry.json()["error"]["message"]
    assert "Charge" not in retry.json()["error"]["message"]


def test_a_token_that_failed_longer_ago_than_stripe_keeps_keys_is_not_retried(
    fin: AppClient, stripe: Stripe
) -> None:
    token = preview_token(fin)["confirmation_token"]
    token_id = RefundTokens(SECRET_KEY, kind="fin-refund").read(token).token_id
    asyncio.run(failed_a_day_ago(fin.settings.database_url, token_id))

    response = execute(fin, token)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "confirmation_token_expired"
    assert stripe.refund_posts() == []


def test_a_token_whose_attempt_failed_is_refused_once_its_lifetime_is_over(
    start_app: Callable[..., AppClient], stripe: Stripe
) -> None:
    app = start_app(confirmation_token_seconds=30)
    previewed = preview_token(app, amount=1500)
    # The same grant, as if previewed 28 s ago: 2 s of its 30 s lifetime are left.
    token = signed_seconds_ago(previewed["confirmation_token"], 28)
    stripe.fault(status=503, path_prefix="/v1/refunds", method="POST", count=1)
    assert execute(app, token).status_code == 503
    time.sleep(3)  # the lifetime ends

    late = execute(app, token)

    assert late.status_code == 403
    assert late.json()["error"]["code"] == "confirmation_token_expired"
    assert "check the refund again" in late.json()["error"]["message"]
    assert stripe.refunds(previewed["charge"]["id"]) == []
    assert len(stripe.refund_posts()) == 1  # only the failed attempt reached Stripe
    # Previewing again judges the payment as it is now and gives a fresh token.
    fresh = preview_token(app, amount=1500)
    assert execute(app, fresh["confirmation_token"]).status_code == 200
    assert len(stripe.refunds(previewed["charge"]["id"])) == 1


async def failed_a_day_ago(database_url: str, token_id: str) -> None:
    db = Database(database_url)
    await db.start()
    try:
        yesterday = datetime.now(UTC) - timedelta(hours=25)
        tokens = ActionStore(db)
        await tokens.claim(
            token_id,
            "fin-refund",
            lease=timedelta(minutes=2),
            retry_failed_within=timedelta(0),
            now=yesterday,
        )
        await tokens.fail(token_id, {"outcome": "unknown"}, now=yesterday)
    finally:
        await db.stop()


def signed_an_hour_ago(token: str) -> str:
    """The same grant, signed with the server's key, as if issued an hour ago."""
    return signed_seconds_ago(token, 3600)


def signed_seconds_ago(token: str, seconds: int) -> str:
    """The same grant, signed with the server's key, as if issued `seconds` ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    payload = URLSafeTimedSerializer(SECRET_KEY, salt="fin-refund").loads(token)
    return URLSafeTimedSerializer(SECRET_KEY, salt="fin-refund", signer=Earlier).dumps(payload)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
