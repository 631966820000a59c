"""The Stripe gateway: the only module that calls the `stripe` SDK.

One `StripeClient` per process with the SDK's async aiohttp transport; every method is a thin,
named wrapper over one SDK call that maps Stripe's failures onto the domain's errors:
unavailable (timeouts, 429, 5xx: retry later) versus rejected (Stripe said no, with its code).

Rate limits (429) are per Stripe account, shared by every instance: a rate-limited call waits
(`Retry-After` if Stripe sends one, else exponential backoff with jitter) and tries again, but
only while the caller's time budget (`time_budget`/`wait_budget`, e.g. a render's 8 s) or,
without one, `rate_limit_patience` allows; then it raises `StripeRateLimited`. Meanwhile the
other calls of this process hold back too, so a burst slows down instead of piling up 429s.
The SDK itself retries a 429 only when Stripe says `Stripe-Should-Retry: true` (lock
timeouts), with its own backoff; such a 429 that reaches us was already retried and isn't again.

Reads go through the SDK's requestor (the step of `StripeClient.raw_request_async` that
sends: the SDK still does auth, the pinned API version, retries, idempotency keys and turns
error answers into `stripe.StripeError`s) and the JSON of each answer is decoded once into the
slim typed models of `gateways.stripe_models`, skipping every field we don't read. Building the SDK's
`StripeObject` trees cost ~7 ms of CPU per answer (a cold sidebar was 40 ms of CPU). Writes
and the rarer reads of the money-moving flows keep the SDK's typed services.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast, overload
from urllib.parse import quote

import aiohttp
import msgspec
import stripe
from stripe import StripeObject

from gateways.errors import (
    BillingError,
    InvalidWebhook,
    NotFound,
    StripeRateLimited,
    StripeRejected,
    StripeUnavailable,
)
from gateways.stripe_models import (
    Charge,
    Customer,
    Invoice,
    InvoicePreview,
    ListObject,
    MeterEventSummary,
    PaidAmount,
    PaymentMethod,
    Product,
    Subscription,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M")

# A customer comes with everything round two would otherwise ask for one by one: its
# subscriptions, and the payment methods that pay them (the subscription's own wins).
CUSTOMER_EXPAND = [
    "subscriptions",
    "subscriptions.data.default_payment_method",
    "invoice_settings.default_payment_method",
]
CUSTOMER_LIST_EXPAND = [f"data.{path}" for path in CUSTOMER_EXPAND]


RATE_LIMIT_PATIENCE = 60.0  # s a call without a budget (the sweep) may spend waiting on 429s
_deadline: ContextVar[float | None] = ContextVar("stripe_deadline", default=None)


@contextmanager
def wait_budget(seconds: float) -> Iterator[None]:
    """Stripe calls in this context wait on rate limits only until `seconds` from now."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


@asynccontextmanager
async def time_budget(seconds: float) -> AsyncIterator[None]:
    """`asyncio.timeout(seconds)` that Stripe calls know about: a rate-limited call gives up
    as soon as waiting would overrun it, instead of being cancelled at the end."""
    with wait_budget(seconds):
        async with asyncio.timeout(seconds):
            yield


def quote_search_value(value: str) -> str:
    """Stripe search query strings are single-quoted; quotes and backslashes are escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class StripeGateway:
    """Async access to the Stripe API for everything the product reads and changes."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        timeout_seconds: float = 8.0,
        max_network_retries: int = 1,
        rate_limit_patience: float = RATE_LIMIT_PATIENCE,
    ) -> None:
        # The SDK's aiohttp transport: a third of the CPU per request of its httpx one.
        self._http = stripe.AIOHTTPClient(timeout=aiohttp.ClientTimeout(total=timeout_seconds))
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )
        self.timeout_seconds = timeout_seconds
        self.max_network_retries = max_network_retries
        self.rate_limit_patience = rate_limit_patience
        self._resume_at = 0.0  # after a 429, this process sends nothing before this moment
        self.rate_limited = 0  # 429s this process has seen
        requestor = getattr(self.client, "_requestor", None)
        self._requestor: Any = requestor if hasattr(requestor, "request_raw_async") else None

    async def close(self) -> None:
        await self._http.close_async()

    # Set by the app to count and time every request: (operation, outcome, seconds).
    observe: Callable[[str, str, float], None] | None = None

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run one SDK call, translating Stripe's errors into the domain's; a rate-limited
        call is tried again while the time budget allows (see the module docstring)."""
        deadline = _deadline.get()
        if deadline is None:
            deadline = time.monotonic() + self.rate_limit_patience
        for attempt in range(1, 100):
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
        """One request (`_translated`), reported to `observe` when set."""
        if self.observe is None:
            return await self._translated(fn, *args, **kwargs)
        started, outcome = time.perf_counter(), "cancelled"
        try:
            result = await self._translated(fn, *args, **kwargs)
            outcome = "ok"
            return result
        except BillingError as exc:
            outcome = _OUTCOMES.get(type(exc), "unavailable")
            raise
        finally:
            self.observe(_operation(fn, args), outcome, time.perf_counter() - started)

    async def _translated(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """One SDK call, Stripe's errors translated into the domain's."""
        try:
            return await fn(*args, **kwargs)
        except stripe.RateLimitError as exc:
            self.rate_limited += 1
            raise StripeRateLimited("Stripe is rate limiting our requests.") from exc
        except (stripe.APIConnectionError, TimeoutError) as exc:
            raise StripeUnavailable("Stripe did not answer in time.") from exc
        except stripe.APIError as exc:
            raise StripeUnavailable("Stripe reported an internal error.") from exc
        except stripe.AuthenticationError as exc:
            log.error("Stripe rejected the API key (check STRIPE_API_KEY)")
            raise StripeUnavailable("Stripe is not configured correctly.") from exc
        except stripe.PermissionError as exc:
            log.error("Stripe key lacks a permission (%s)", exc.code or "permission_error")
            raise StripeUnavailable("Stripe refused access with the configured key.") from exc
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                raise NotFound(f"Not found in Stripe ({exc.param or 'id'}).") from exc
            raise StripeRejected(_safe_message(exc), code=exc.code or "invalid_request") from exc
        except stripe.StripeError as exc:
            raise StripeRejected(_safe_message(exc), code=exc.code or "stripe_error") from exc
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            log.error("Stripe answered in a shape we can't read: %s", exc)
            raise StripeUnavailable("Stripe answered unexpectedly.") from exc

    async def _read(self, type_: type[M], method: str, path: str, params: dict[str, Any]) -> M:
        """One request through the SDK's raw API, its JSON decoded once into `type_`."""
        return await self.call(self._raw, type_, method, path, params)

    async def _raw(self, type_: type[M], method: str, path: str, params: dict[str, Any]) -> M:
        requestor = self._requestor
        if requestor is None:  # an SDK without the requestor we know: its public raw API
            response = await self.client.raw_request_async(method, path, **params)
            return msgspec.json.decode(response.body, type=type_)
        # The step of `raw_request_async` that sends the request (auth, API version, retries,
        # idempotency keys), without its `json.loads` into OrderedDicts: that parse cost
        # several times our decoding. An error answer goes through the SDK's own reading, so
        # it raises the same `stripe.StripeError` as every other call.
        body, status, headers = await requestor.request_raw_async(
            method, path, params=params, options={}, base_address="api", api_mode="V1"
        )
        if not 200 <= status < 300:
            requestor._interpret_response(body, status, headers, "V1")
        return msgspec.json.decode(cast(bytes, body), type=type_)

    # --- customers ---
    async def retrieve_customer(self, customer_id: str) -> Customer:
        return await self._read(
            Customer, "get", f"/v1/customers/{_id(customer_id)}", {"expand": CUSTOMER_EXPAND}
        )

    async def customers_with_email(self, email: str) -> list[Customer]:
        """Exact, case-sensitive match: `customers.list(email=)` is strongly consistent."""
        page = await self._read(
            ListObject[Customer],
            "get",
            "/v1/customers",
            {"email": email, "limit": 10, "expand": CUSTOMER_LIST_EXPAND},
        )
        return page.data

    async def search_customers(self, query: str) -> list[Customer]:
        """Stripe search (eventually consistent, case-insensitive for email)."""
        page = await self._read(
            ListObject[Customer],
            "get",
            "/v1/customers/search",
            {"query": query, "limit": 10, "expand": CUSTOMER_LIST_EXPAND},
        )
        return page.data

    async def update_customer(
        self, customer_id: str, params: dict[str, Any], *, idempotency_key: str | None = None
    ) -> stripe.Customer:
        return await self.call(
            self.client.v1.customers.update_async,
            customer_id,
            params,
            _options(idempotency_key),
        )

    # --- catalogue ---
    async def retrieve_product(self, product_id: str) -> Product:
        return await self._read(Product, "get", f"/v1/products/{_id(product_id)}", {})

    async def list_prices(
        self, params: dict[str, Any], *, max_pages: int = 20
    ) -> list[stripe.Price]:
        """Every matching price, page by page (100 each): a catalogue is not one page."""
        return await self._all_pages(self.client.v1.prices.list_async, params, max_pages)

    # --- subscriptions ---
    async def retrieve_subscription(self, subscription_id: str) -> stripe.Subscription:
        return await self.call(self.client.v1.subscriptions.retrieve_async, subscription_id)

    async def list_subscriptions(self, customer_id: str, *, limit: int = 20) -> list[Subscription]:
        page = await self._read(
            ListObject[Subscription],
            "get",
            "/v1/subscriptions",
            {"customer": customer_id, "status": "all", "limit": limit},
        )
        return page.data

    async def update_subscription(
        self, subscription_id: str, params: dict[str, Any], *, idempotency_key: str | None = None
    ) -> stripe.Subscription:
        return await self.call(
            self.client.v1.subscriptions.update_async,
            subscription_id,
            params,
            _options(idempotency_key),
        )

    # --- payment methods ---
    async def retrieve_payment_method(self, payment_method_id: str) -> PaymentMethod:
        return await self._read(
            PaymentMethod, "get", f"/v1/payment_methods/{_id(payment_method_id)}", {}
        )

    # --- charges, payments, refunds ---
    async def list_charges(self, customer_id: str, *, limit: int = 10) -> list[Charge]:
        """The customer's latest charges, newest first."""
        page = await self._read(
            ListObject[Charge], "get", "/v1/charges", {"customer": customer_id, "limit": limit}
        )
        return page.data

    async def charged_amounts(
        self, customer_id: str, *, starting_after: str | None = None
    ) -> ListObject[PaidAmount]:
        """A page of 100 of the customer's charges (currency and amount refunded only)."""
        params = _page({"customer": customer_id}, starting_after)
        return await self._read(ListObject[PaidAmount], "get", "/v1/charges", params)

    async def retrieve_charge(self, charge_id: str) -> Charge:
        return await self._read(Charge, "get", f"/v1/charges/{_id(charge_id)}", {})

    async def retrieve_payment_intent(self, payment_intent_id: str) -> stripe.PaymentIntent:
        return await self.call(
            self.client.v1.payment_intents.retrieve_async,
            payment_intent_id,
            {"expand": ["latest_charge"]},
        )

    async def create_refund(self, params: dict[str, Any], *, idempotency_key: str) -> stripe.Refund:
        return await self.call(
            self.client.v1.refunds.create_async, params, _options(idempotency_key)
        )

    # --- invoices ---
    async def list_invoices(
        self, customer_id: str, *, status: str | None = None, limit: int = 10
    ) -> list[Invoice]:
        params: dict[str, Any] = {"customer": customer_id, "limit": limit}
        if status:
            params["status"] = status
        page = await self._read(ListObject[Invoice], "get", "/v1/invoices", params)
        return page.data

    async def paid_invoice_amounts(
        self, customer_id: str, *, starting_after: str | None = None
    ) -> ListObject[PaidAmount]:
        """A page of 100 of the customer's paid invoices (currency and amount paid only)."""
        params = _page({"customer": customer_id, "status": "paid"}, starting_after)
        return await self._read(ListObject[PaidAmount], "get", "/v1/invoices", params)

    async def retrieve_invoice(self, invoice_id: str, *, expand: list[str] | None = None):
        params = {"expand": expand} if expand else None
        return await self.call(self.client.v1.invoices.retrieve_async, invoice_id, params)

    async def preview_invoice(self, params: dict[str, Any]) -> InvoicePreview:
        return await self._read(InvoicePreview, "post", "/v1/invoices/create_preview", params)

    async def pay_invoice(
        self, invoice_id: str, params: dict[str, Any], *, idempotency_key: str
    ) -> stripe.Invoice:
        return await self.call(
            self.client.v1.invoices.pay_async, invoice_id, params, _options(idempotency_key)
        )

    async def list_invoice_payments(self, invoice_id: str, *, max_pages: int = 5) -> list[Any]:
        """Every payment of the invoice (one request per 100; almost always one)."""
        return await self._all_pages(
            self.client.v1.invoice_payments.list_async, {"invoice": invoice_id}, max_pages
        )

    # --- usage ---
    async def meter_usage(
        self, meter_id: str, customer_id: str, start_time: int, end_time: int
    ) -> float:
        """Aggregated meter value for the customer over [start, end), minute-aligned."""
        page = await self._read(
            ListObject[MeterEventSummary],
            "get",
            f"/v1/billing/meters/{_id(meter_id)}/event_summaries",
            {"customer": customer_id, "start_time": start_time, "end_time": end_time},
        )
        return float(sum(summary.aggregated_value for summary in page.data))

    # --- hosted pages ---
    async def create_checkout_session(
        self, params: dict[str, Any], *, idempotency_key: str | None = None
    ) -> Any:
        return await self.call(
            self.client.v1.checkout.sessions.create_async, params, _options(idempotency_key)
        )

    async def retrieve_checkout_session(self, session_id: str) -> Any:
        return await self.call(
            self.client.v1.checkout.sessions.retrieve_async,
            session_id,
            {"expand": ["setup_intent"]},
        )

    async def create_portal_session(self, params: dict[str, Any]) -> Any:
        return await self.call(self.client.v1.billing_portal.sessions.create_async, params)

    # --- webhooks ---
    def construct_event(self, payload: bytes, signature: str, secret: str) -> stripe.Event:
        """Verify a webhook's `Stripe-Signature` (tolerance 300 s) and parse it; anything that
        doesn't verify, or isn't an event, raises `InvalidWebhook`."""
        try:
            return self.client.construct_event(payload, signature, secret, tolerance=300)
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook("Stripe-Signature does not verify.") from exc
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
            # Signed, but not JSON an event is built from (not UTF-8, a list, nested too deep).
            raise InvalidWebhook("Not a Stripe event.", code="invalid_payload") from exc

    # --- refunds at most once (billing.refunds) ---
    async def create_refund_once(
        self, params: dict[str, Any], *, idempotency_key: str
    ) -> stripe.Refund:
        """`create_refund`, except that Stripe still working on an earlier request with the same
        idempotency key (409) is "try again shortly", not a refusal: that earlier request may
        be the one that refunds, and a later retry with the key returns its result."""
        try:
            return await self.create_refund(params, idempotency_key=idempotency_key)
        except StripeRejected as exc:
            cause = exc.__cause__
            if isinstance(cause, stripe.IdempotencyError) and cause.http_status == 409:
                raise StripeUnavailable("Stripe is still processing this refund.") from cause
            raise

    # --- sweeps over all customers (automations.sweep) ---
    async def list_open_invoices(self, *, max_pages: int = 50) -> list[stripe.Invoice]:
        """Every open invoice of the account, newest first (100 per page)."""
        return await self._all_pages(
            self.client.v1.invoices.list_async, {"status": "open"}, max_pages
        )

    async def list_subscriptions_with_status(
        self, status: str, *, max_pages: int = 50
    ) -> list[stripe.Subscription]:
        """Every subscription of the account with `status` (e.g. "trialing")."""
        return await self._all_pages(
            self.client.v1.subscriptions.list_async, {"status": status}, max_pages
        )

    async def _all_pages(
        self, list_fn: Callable[..., Awaitable[Any]], params: dict[str, Any], max_pages: int
    ) -> list[Any]:
        items: list[Any] = []
        starting_after: str | None = None
        for _ in range(max_pages):
            page_params = {**params, "limit": 100}
            if starting_after:
                page_params["starting_after"] = starting_after
            page = await self.call(list_fn, page_params)
            items.extend(page.data)
            if not page.has_more or not page.data:
                break
            starting_after = page.data[-1].id
        return items


def _id(value: str) -> str:
    """An id as one path segment (ids come from our own data, but never trust a path)."""
    return quote(value, safe="")


def in_flight_elsewhere(exc: BillingError) -> bool:
    """Stripe refused `exc`'s request because an earlier one with the same idempotency key is
    still executing (409): that one may still do what was asked, so this is no failure."""
    cause = exc.__cause__
    return isinstance(cause, stripe.StripeError) and cause.http_status == 409


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


def _page(params: dict[str, Any], starting_after: str | None) -> dict[str, Any]:
    page = {**params, "limit": 100}
    if starting_after:
        page["starting_after"] = starting_after
    return page


def _options(idempotency_key: str | None) -> Any:
    return {"idempotency_key": idempotency_key} if idempotency_key else None


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


async def gather_all(*aws: Awaitable[Any]) -> list[Any]:
    """Run independent Stripe calls concurrently; if one fails, cancel the others and re-raise
    the first failure (so a render never waits on calls whose result is no longer useful)."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


@overload
def id_of(value: str | StripeObject | Product | PaymentMethod) -> str: ...
@overload
def id_of(value: str | StripeObject | Product | PaymentMethod | None) -> str | None: ...
def id_of(value: Any) -> str | None:
    """The id of an expandable field: the string itself, or the expanded object's id."""
    if value is None:
        return None
    return value if isinstance(value, str) else value.id
