"""The Stripe gateway: one named method per thing the product reads or changes in Stripe.

Each is a thin wrapper over one request, sent by `gateways.stripe_connection` (errors
translated, rate limits waited out within the caller's budget, reads decoded once into
`gateways.stripe_models`). Writes and the rarer reads of the money-moving flows keep the SDK's
typed services. With those two modules, this is the only place that calls the `stripe` SDK.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, overload
from urllib.parse import quote

import stripe
from stripe import StripeObject

from gateways.errors import BillingError, InvalidWebhook, StripeRejected, StripeUnavailable
from gateways.stripe_connection import StripeConnection
from gateways.stripe_models import (
    Charge,
    Coupon,
    Customer,
    Invoice,
    InvoicePayment,
    InvoicePreview,
    ListObject,
    MeterEventSummary,
    PaidAmount,
    PaymentMethod,
    Product,
    Subscription,
)

# A customer comes with everything round two would otherwise ask for one by one: its
# subscriptions, and the payment methods that pay them (the subscription's own wins).
CUSTOMER_EXPAND = [
    "subscriptions",
    "subscriptions.data.default_payment_method",
    "invoice_settings.default_payment_method",
]
CUSTOMER_LIST_EXPAND = [f"data.{path}" for path in CUSTOMER_EXPAND]


def quote_search_value(value: str) -> str:
    """Stripe search query strings are single-quoted; quotes and backslashes are escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class StripeGateway(StripeConnection):
    """Async access to the Stripe API for everything the product reads and changes."""

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

    async def retrieve_customer_tax_ids(self, customer_id: str) -> Customer:
        """The customer with its tax ids (an includable list) and address, nothing else expanded."""
        return await self._read(
            Customer, "get", f"/v1/customers/{_id(customer_id)}", {"expand": ["tax_ids"]}
        )

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

    async def subscription_with_products(self, subscription_id: str) -> Subscription:
        """A subscription (any status), its items' prices with their products (the names)."""
        path, expand = f"/v1/subscriptions/{_id(subscription_id)}", ["items.data.price.product"]
        return await self._read(Subscription, "get", path, {"expand": expand})

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

    async def cancel_subscription(
        self, subscription_id: str, params: dict[str, Any], *, idempotency_key: str
    ) -> stripe.Subscription:
        """Ends the subscription now (`DELETE /v1/subscriptions/:id`)."""
        return await self.call(
            self.client.v1.subscriptions.cancel_async,
            subscription_id,
            params,
            _options(idempotency_key),
        )

    # --- coupons ---
    async def retrieve_coupon(self, coupon_id: str) -> Coupon:
        return await self._read(Coupon, "get", f"/v1/coupons/{_id(coupon_id)}", {})

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

    async def invoices_page(
        self,
        customer_id: str,
        *,
        limit: int = 100,
        starting_after: str | None = None,
        subscription: str | None = None,
    ) -> ListObject[Invoice]:
        """A page of the customer's (or one `subscription`'s) invoices, any status, newest first."""
        wanted = {"starting_after": starting_after, "subscription": subscription}
        params = {"customer": customer_id, "limit": limit, **{k: v for k, v in wanted.items() if v}}
        return await self._read(ListObject[Invoice], "get", "/v1/invoices", params)

    async def invoices_paid_by(self, payment_intent_id: str) -> list[Invoice]:
        """The invoices a payment intent paid (or tries to pay), by their invoice payments."""
        wanted = {"type": "payment_intent", "payment_intent": payment_intent_id}
        params = {"payment": wanted, "expand": ["data.invoice"]}
        page = await self._read(ListObject[InvoicePayment], "get", "/v1/invoice_payments", params)
        return [p.invoice for p in page.data if isinstance(p.invoice, Invoice)]

    async def invoices_with_payments(self, customer_id: str, *, limit: int = 10) -> list[Invoice]:
        """The customer's latest invoices with their payments (which payment intent paid which
        invoice, hence which subscription a payment was for)."""
        params = {"customer": customer_id, "limit": limit, "expand": ["data.payments"]}
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

    async def list_portal_configurations(self, *, max_pages: int = 5) -> list[Any]:
        """The account's active Billing Portal configurations other than the default."""
        return await self._all_pages(
            self.client.v1.billing_portal.configurations.list_async,
            {"active": True, "is_default": False},
            max_pages,
        )

    async def create_portal_configuration(
        self, params: dict[str, Any], *, idempotency_key: str
    ) -> Any:
        return await self.call(
            self.client.v1.billing_portal.configurations.create_async,
            params,
            _options(idempotency_key),
        )

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


def _page(params: dict[str, Any], starting_after: str | None) -> dict[str, Any]:
    page = {**params, "limit": 100}
    if starting_after:
        page["starting_after"] = starting_after
    return page


def _options(idempotency_key: str | None) -> Any:
    return {"idempotency_key": idempotency_key} if idempotency_key else None


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
