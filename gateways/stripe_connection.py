"""The connection to Stripe beneath `StripeGateway`: how every call is sent, waited for and
answered, whatever it asks.

One `StripeClient` per process with the SDK's async aiohttp transport, without request telemetry.
Stripe's failures become the domain's errors: unavailable (timeouts, 429, 5xx: retry later) versus
rejected (Stripe said no, with its code). A rate-limited call waits within the caller's time budget
(`gateways.stripe_budget`), and meanwhile the other calls of this process hold back too, so a burst
slows down instead of piling up 429s. The SDK itself retries a 429 only when Stripe says
`Stripe-Should-Retry: true` (lock timeouts), with its own backoff; such a 429 that reaches us was
already retried and isn't again.

Reads go through the SDK's requestor (the step of `StripeClient.raw_request_async` that
sends: the SDK still does auth, the pinned API version, retries, idempotency keys and turns
error answers into `stripe.StripeError`s) and the JSON of each answer is decoded once into the
slim typed models of `gateways.stripe_models`, skipping every field we don't read. Building the
SDK's `StripeObject` trees cost ~7 ms of CPU per answer (a cold sidebar was 40 ms of CPU).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import msgspec
import stripe

from gateways.errors import (
    BillingError,
    NotFound,
    StripeRateLimited,
    StripeRejected,
    StripeUnavailable,
)
from gateways.stripe_budget import RATE_LIMIT_PATIENCE, rate_limit_deadline

# No request telemetry (the SDK's documented switch, process-wide, so set once when this module
# loads): each request would carry the previous one's timing to Stripe in a JSON header, and
# the host's platform and a persistent per-host `telemetry_id` in its user agent; ~25 µs of CPU
# per request (interleaved A/B).
stripe.enable_telemetry = False

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M")


@functools.cache
def _stripe_tls_context() -> ssl.SSLContext:
    """What the SDK's aiohttp transport would build for each client (Stripe's own CA bundle),
    built once per process: loading the bundle costs ~25 ms of CPU."""
    return ssl.create_default_context(cafile=stripe.ca_bundle_path)


class StripeConnection:
    """One SDK call at a time, made right: waited, translated, observed (see the module)."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        timeout_seconds: float = 8.0,
        max_network_retries: int = 1,
        rate_limit_patience: float = RATE_LIMIT_PATIENCE,
    ) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._client: stripe.StripeClient | None = None
        self._session: aiohttp.ClientSession | None = None
        self._requestor: Any = None
        self.timeout_seconds = timeout_seconds
        self.max_network_retries = max_network_retries
        self.rate_limit_patience = rate_limit_patience
        self._resume_at = 0.0  # after a 429, this process sends nothing before this moment

    @property
    def client(self) -> stripe.StripeClient:
        """The SDK's client on its aiohttp transport (a third of the CPU per request of its
        httpx one), built at the first call: an aiohttp session belongs to a running event
        loop. The session is ours, so that its TLS context is the process's one
        (`_stripe_tls_context`) instead of a CA bundle loaded again by every instance."""
        if self._client is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=_stripe_tls_context())
            )
            self._client = stripe.StripeClient(
                self._api_key,
                base_addresses={"api": self._api_base} if self._api_base else None,
                http_client=stripe.AIOHTTPClient(
                    session=self._session,
                    timeout=aiohttp.ClientTimeout(total=self.timeout_seconds),
                ),
                max_network_retries=self.max_network_retries,
            )
            self._requestor = _sending_requestor(self._client)
        return self._client

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # Set by the app to count and time every request: (operation, outcome, seconds).
    observe: Callable[[str, str, float], None] | None = None

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run one SDK call, translating Stripe's errors into the domain's; a rate-limited
        call is tried again while the time budget allows (see the module docstring)."""
        deadline = rate_limit_deadline(self.rate_limit_patience)
        for attempt in range(1, 100):
            if self._resume_at > time.monotonic():
                await self._hold_back(deadline)
            try:
                return await self._call_once(fn, *args, **kwargs)
            except StripeRateLimited as exc:
                delay = self._rate_limit_delay(exc.__cause__, attempt)
                if delay is None:
                    raise
                self._resume_at = max(self._resume_at, time.monotonic() + delay)
                if self._resume_at >= deadline:
                    raise
                log.info("Stripe rate limit: attempt %d, waiting %.2f s", attempt, delay)
        raise StripeRateLimited("Stripe is rate limiting our requests.")

    async def _hold_back(self, deadline: float) -> None:
        """Wait out another call's rate limit (spread a little, so the waiting calls don't
        all return at once), or give up now if it lasts beyond the deadline."""
        now = time.monotonic()
        if self._resume_at <= now:
            return
        if self._resume_at >= deadline:
            raise StripeRateLimited("Stripe is rate limiting our requests.")
        wait = self._resume_at - now
        await asyncio.sleep(min(wait + random.uniform(0, 0.2) * wait, deadline - now))

    def _rate_limit_delay(self, exc: BaseException | None, attempt: int) -> float | None:
        """How long to wait before trying again, or None when not to try again."""
        headers = {k.lower(): v for k, v in (getattr(exc, "headers", None) or {}).items()}
        should_retry = headers.get("stripe-should-retry")
        if should_retry == "false" or (should_retry == "true" and self.max_network_retries):
            return None  # Stripe says no, or the SDK already retried it with its own backoff
        try:
            retry_after = float(headers.get("retry-after", ""))
        except ValueError:
            retry_after = -1.0
        if retry_after >= 0:
            return retry_after  # honoured; longer than the deadline allows means: give up now
        return min(0.5 * 2 ** (attempt - 1), 8.0) * random.uniform(0.5, 1.0)

    async def _call_once(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """One request, Stripe's errors translated (`_translation`), reported to `observe`
        when set. One frame: a read suspends several times, and each resumption passes
        through every frame above it."""
        observe = self.observe
        started, outcome = (time.perf_counter() if observe else 0.0), "cancelled"
        try:
            result = await fn(*args, **kwargs)
            outcome = "ok"
            return result
        except BillingError as exc:
            outcome = _OUTCOMES.get(type(exc), "unavailable")
            raise
        except Exception as exc:
            error = _translation(exc)
            if error is None:
                raise
            outcome = _OUTCOMES.get(type(error), "unavailable")
            raise error from exc
        finally:
            if observe is not None:
                observe(_operation(fn, args), outcome, time.perf_counter() - started)

    def _read(self, type_: type[M], method: str, path: str, params: dict[str, Any]) -> Awaitable[M]:
        """One request through the SDK's raw API, its JSON decoded once into `type_` (the
        call itself, to await: no frame of its own)."""
        return self.call(self._raw, type_, method, path, params)

    async def _raw(self, type_: type[M], method: str, path: str, params: dict[str, Any]) -> M:
        client = self.client
        requestor = self._requestor
        if requestor is None:  # an SDK without the requestor we know: its public raw API
            response = await client.raw_request_async(method, path, **params)
            return msgspec.json.decode(response.body, type=type_)
        # The steps of `raw_request_async` that build and send the request: the requestor's
        # arguments (auth, the pinned API version, idempotency keys, telemetry) and its HTTP
        # client's retrying send. Skipped: its `json.loads` into OrderedDicts (that parse cost
        # several times our decoding) and its debug log lines, which it formats whether or not
        # anything logs them, the whole answer body among them (~13 % of a cold sidebar's CPU,
        # A/B measured). An error answer goes through the SDK's own reading, so it raises the
        # same `stripe.StripeError` as every other call.
        method_, url, headers, post_data, retries, usage, *_ = (
            requestor._args_for_request_with_retries(
                method, path, params, {}, base_address="api", api_mode="V1", usage=["async"]
            )
        )
        send = requestor._get_http_client().request_with_retries_async
        body, status, answer_headers = await send(
            method_, url, headers, post_data, max_network_retries=retries, _usage=usage
        )
        if not 200 <= status < 300:
            requestor._interpret_response(body, status, answer_headers, "V1")
        return msgspec.json.decode(body, type=type_)


def _sending_requestor(client: stripe.StripeClient) -> Any:
    """The client's requestor, if it has every step `StripeConnection._raw` uses; None with an
    SDK whose steps differ (then reads go through the public `raw_request_async`)."""
    requestor: Any = getattr(client, "_requestor", None)
    steps = ("_args_for_request_with_retries", "_get_http_client", "_interpret_response")
    if requestor is None or not all(callable(getattr(requestor, s, None)) for s in steps):
        return None
    http_client = requestor._get_http_client()
    return requestor if callable(getattr(http_client, "request_with_retries_async", None)) else None


def _translation(exc: Exception) -> BillingError | None:
    """The domain's error for what an SDK call raised; None for anything else (a bug: it
    propagates as it is)."""
    if isinstance(exc, stripe.RateLimitError):
        return StripeRateLimited("Stripe is rate limiting our requests.")
    if isinstance(exc, stripe.APIConnectionError | TimeoutError):
        return StripeUnavailable("Stripe did not answer in time.")
    if isinstance(exc, stripe.APIError):
        return StripeUnavailable("Stripe reported an internal error.")
    if isinstance(exc, stripe.AuthenticationError):
        log.error("Stripe rejected the API key (check STRIPE_API_KEY)")
        return StripeUnavailable("Stripe is not configured correctly.")
    if isinstance(exc, stripe.PermissionError):
        log.error("Stripe key lacks a permission (%s)", exc.code or "permission_error")
        return StripeUnavailable("Stripe refused access with the configured key.")
    if isinstance(exc, stripe.InvalidRequestError):
        if exc.code == "resource_missing":
            return NotFound(f"Not found in Stripe ({exc.param or 'id'}).")
        return StripeRejected(_safe_message(exc), code=exc.code or "invalid_request")
    if isinstance(exc, stripe.StripeError):
        return StripeRejected(_safe_message(exc), code=exc.code or "stripe_error")
    if isinstance(exc, aiohttp.ClientError):
        # The answer broke off while its body was read (the SDK's transport turns only the
        # request's own failures into APIConnectionError).
        return StripeUnavailable("Stripe did not answer in time.")
    if isinstance(exc, msgspec.ValidationError | msgspec.DecodeError):
        log.error("Stripe answered in a shape we can't read: %s", exc)
        return StripeUnavailable("Stripe answered unexpectedly.")
    return None


_OUTCOMES: dict[type[BillingError], str] = {
    NotFound: "not_found",
    StripeRejected: "rejected",
    StripeRateLimited: "rate_limited",
}


def _operation(fn: Callable[..., Any], args: tuple[Any, ...] = ()) -> str:
    """`Customer.retrieve`, `checkout.Session.create`: the SDK service and method, never ids;
    a decoded read (`_raw`) gets the name its SDK service method would have."""
    if getattr(fn, "__name__", None) == "_raw" and len(args) >= 3:
        return _read_operation(str(args[2]))
    owner = getattr(fn, "__self__", None)
    if owner is None:
        return getattr(fn, "__name__", "call")
    namespace = type(owner).__module__.split(".")[1:-1]
    service = type(owner).__name__.removesuffix("Service")
    return ".".join([*namespace, service, fn.__name__.removesuffix("_async")])


_SERVICES = {
    "customers": "Customer",
    "products": "Product",
    "subscriptions": "Subscription",
    "payment_methods": "PaymentMethod",
    "charges": "Charge",
    "invoices": "Invoice",
    "coupons": "Coupon",
}


def _read_operation(path: str) -> str:
    """`/v1/customers/cus_1` → `Customer.retrieve`, `/v1/invoices/create_preview` →
    `Invoice.create_preview`: as `_operation` names the SDK's own calls."""
    parts = path.strip("/").split("/")[1:]
    if parts[:2] == ["billing", "meters"]:
        return "billing.MeterEventSummary.list"
    service = _SERVICES.get(parts[0], parts[0]) if parts else "read"
    if len(parts) == 1:
        return f"{service}.list"
    if parts[1] in ("search", "create_preview"):
        return f"{service}.{parts[1]}"
    return f"{service}.retrieve"


def _safe_message(exc: stripe.StripeError) -> str:
    # user_message is written by Stripe for end users; fall back to the code, never the raw body.
    # A complaint about a parameter quotes its value (a search query names an email): then only
    # the code and the parameter's name travel on, to cards, logs and the audit trail.
    # (stripe-python's `user_message` is that same message.)
    code = exc.code or ""
    param = getattr(exc, "param", None)
    if param == "query" or code.startswith("parameter_"):
        return f"Stripe refused the request ({code or 'invalid_request'}, {param or 'params'})."
    return exc.user_message or getattr(exc.error, "message", None) or (code or "Stripe error")
