"""The Fin edge: the data-connector endpoints (PRODUCT.md §1.4) and their OpenAPI document.

Every endpoint runs the same way: bearer token → JSON body → request model → the customer
(§1.3) → the billing domain → a response model whose `message` Fin can say. Domain errors become
JSON errors in one place, `_error_response`; a client mistake is never a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actions import answers, cancellation, documents
from actions.auth import require_bearer
from actions.cancellation_schemas import (
    CancellationPreviewRequest,
    CancellationPreviewResponse,
    CancellationRequest,
    CancellationResponse,
)
from actions.document_schemas import (
    BillingDetailsRequest,
    BillingDetailsResponse,
    InvoicesRequest,
    InvoicesResponse,
)
from actions.errors import error_answer, invalid_request
from actions.openapi import openapi_document
from actions.refund_schemas import (
    RefundPreviewRequest,
    RefundPreviewResponse,
    RefundRequest,
    RefundResponse,
)
from actions.schemas import (
    BillingStatusRequest,
    BillingStatusResponse,
    FinRequest,
    NextInvoiceRequest,
    NextInvoiceResponse,
    UpgradeQuoteRequest,
    UpgradeQuoteResponse,
)
from billing.errors import (
    StripeUnavailable,
)
from billing.previews import NoQuote, next_invoice, quote_upgrade
from billing.refund_subscription import subscription_paid_by
from billing.resolution import ContactIdentity, Resolution
from billing.trust import (
    VerifiedIdentityRequired,
    carries_verified_key,
    may_share_documents,
    require_verified_match,
)
from gateways.stripe_budget import time_budget
from kernel.http import parse_json_object, read_body
from kernel.i18n import pick_locale
from kernel.logs import bind_customer
from kernel.services import Services
from storage.actions import Actor


@dataclass
class FinCall:
    """One Fin request: the services, the validated body and the language to answer in."""

    services: Services
    body: Any
    locale: str
    resolution: Resolution | None = None  # how `customer()` found the customer

    @property
    def identity(self) -> ContactIdentity:
        return ContactIdentity(
            email=self.body.email, external_id=self.body.user_id, stripe_id=self.body.stripe_id
        )

    async def customer(self, *, for_money: bool) -> Any:
        """The customer to answer for. Money (`for_money`) needs a verified identity
        (`billing.trust`): an email alone is refused before Stripe is asked anything, and a
        request whose user id or stripe_id matched nobody may not fall back to its email."""
        if for_money and not carries_verified_key(self.identity):
            raise VerifiedIdentityRequired()
        # Money resolves afresh: a second customer created since for the same contact must
        # make the match ambiguous now. A read may take a remembered match (billing.lookup).
        resolution = await self.services.billing.resolve(
            self.identity, fresh=for_money, remembered=not for_money
        )
        self.resolution = resolution
        customer = resolution.require_one(for_money=for_money)
        if for_money:
            require_verified_match(resolution)
        bind_customer(customer.id)
        return customer


# Fin gives a data connector about 15 s; answer (503, "try again") well before it gives up.
FIN_BUDGET_SECONDS = 12.0

# Endpoints that move money also answer 403 `verified_identity_required` (billing.trust).
MONEY_ERRORS = (400, 401, 403, 404, 409, 422, 503)
Handler = Callable[[FinCall], Awaitable[BaseModel]]


@dataclass(frozen=True)
class FinEndpoint:
    """An endpoint's contract, shared by the route and the OpenAPI document."""

    path: str
    request: type[FinRequest]
    response: type[BaseModel]
    summary: str
    description: str
    handler: Handler
    errors: tuple[int, ...] = (400, 401, 404, 409, 422, 503)

    async def handle(self, request: Request) -> Response:
        services: Services = request.app.state.services
        locale = pick_locale(
            None, services.settings.customer_locale, german_address=services.settings.german_address
        )
        try:
            require_bearer(request, services.settings.fin_action_tokens)
            data = parse_json_object(await read_body(request))
            try:
                body = self.request.model_validate(data)
            except ValidationError as exc:
                raise invalid_request(exc) from None
            locale = pick_locale(
                body.locale,
                services.settings.customer_locale,
                german_address=services.settings.german_address,
            )
            try:
                async with time_budget(FIN_BUDGET_SECONDS):
                    answer = await self.handler(FinCall(services, body, locale))
            except TimeoutError:
                raise StripeUnavailable("Stripe did not answer in time.") from None
        except Exception as exc:
            return error_answer(
                exc,
                locale,
                refund=self.path == "/fin/refunds",
                cancel_flow=self.path.startswith("/fin/cancellation"),
            )
        return JSONResponse(answer.model_dump(mode="json"))


# --- the endpoints ---
async def _billing_status(call: FinCall) -> BillingStatusResponse:
    customer = await call.customer(for_money=False)
    snapshot = await call.services.billing.snapshot(customer)
    assert call.resolution is not None
    # Open invoices' hosted pages open without a login: only for a verified match (billing.trust).
    links = may_share_documents(call.identity, call.resolution)
    return answers.billing_status(snapshot, call.locale, links=links)


async def _next_invoice(call: FinCall) -> NextInvoiceResponse:
    body: NextInvoiceRequest = call.body
    found = await next_invoice(
        call.services.billing, call.identity, subscription_id=body.subscription_id
    )
    return answers.next_invoice(found, call.locale)


async def _upgrade_quote(call: FinCall) -> UpgradeQuoteResponse:
    body: UpgradeQuoteRequest = call.body
    quote = await quote_upgrade(
        call.services.billing,
        call.services.catalogue,
        call.identity,
        body.target_plan,
        interval=body.interval,
        subscription_id=body.subscription_id,
    )
    if isinstance(quote, NoQuote):
        return answers.no_quote(quote, call.locale)
    return answers.upgrade_quote(quote, call.locale)


async def _refund_preview(call: FinCall) -> RefundPreviewResponse:
    body: RefundPreviewRequest = call.body
    customer = await call.customer(for_money=True)
    preview = await call.services.refunds("fin").preview(
        customer.id,
        actor=Actor("fin", None, body.conversation_id),
        charge_id=body.charge_id,
        amount=body.amount,
        reason=body.reason,
    )
    # Which subscription the payment was for: the customer confirms knowing what is refunded.
    paid_for = await subscription_paid_by(call.services.stripe, customer.id, preview.payment)
    return answers.refund_preview(preview, call.locale, subscription=paid_for)


async def _refund(call: FinCall) -> RefundResponse:
    body: RefundRequest = call.body
    customer = await call.customer(for_money=True)
    result = await call.services.refunds("fin").execute(
        body.confirmation_token, customer_id=customer.id
    )
    if not result.replayed:
        # The customer's charges and lifetime value changed: the sidebar must not show stale.
        call.services.billing.invalidate(customer.id)
    return answers.refund_done(result, call.locale)


ENDPOINTS = (
    FinEndpoint(
        "/fin/billing-status",
        BillingStatusRequest,
        BillingStatusResponse,
        "The customer's plan, subscription status, next payment and open invoices",
        "Call this when the customer asks about their subscription or billing in general: "
        "which plan they are on, whether their account is active or past due, when the trial "
        "ends, which payment method is charged, whether an invoice is unpaid or a payment "
        "failed (with the bank's reason for SEPA direct debits). Example questions: 'Is my "
        "subscription active?', 'Why was my payment declined?', 'Which card do you charge?'. "
        "It also lists the last payments with their charge ids, for refunds, and every live "
        "subscription (`subscriptions`): a customer may have several (a plan and an add-on, "
        "say); the single fields describe the primary one.",
        _billing_status,
    ),
    FinEndpoint(
        "/fin/next-invoice",
        NextInvoiceRequest,
        NextInvoiceResponse,
        "The customer's next invoice: amount, date and main lines",
        "Call this when the customer asks when they will be charged next or how much: 'When "
        "is my next invoice?', 'How much will I pay next month?', 'When does my subscription "
        "renew?'. The amount is Stripe's own preview of the next invoice, after credit "
        "balance and discounts. A customer with several subscriptions: by default the one "
        "that renews first; pass `subscription_id` for another.",
        _next_invoice,
    ),
    FinEndpoint(
        "/fin/upgrade-quote",
        UpgradeQuoteRequest,
        UpgradeQuoteResponse,
        "What switching to another plan would cost, charged now and per period",
        "Call this when the customer asks what another plan or billing interval would cost: "
        "'What would Business cost me?', 'How much is it to upgrade to Pro yearly?'. Pass the "
        "plan's name as target_plan and, if the customer names one, the interval. The answer "
        "quotes the amount charged right away (prorated) and the new recurring price. It does "
        "not change anything. For a downgrade or the current plan it answers with "
        "quotable=false and a message to relay. A customer with several live subscriptions "
        "must name the one to change (`subscription_id`): without it the answer is 409 "
        "`subscription_required` with the `subscriptions` to ask about.",
        _upgrade_quote,
    ),
    FinEndpoint(
        "/fin/refunds/preview",
        RefundPreviewRequest,
        RefundPreviewResponse,
        "Whether a payment can be refunded, how much, and a confirmation token",
        "Call this first when the customer asks for their money back: 'Can I get a refund?', "
        "'I was charged by mistake'. It moves no money. It checks the refund policy for the "
        "payment (by default the latest one) and answers eligible=true with the amount and a "
        "confirmation_token, or eligible=false with a reason and a message to relay. The "
        "`charge` names the subscription the payment was for (`subscription_id`, "
        "`subscription_name`; null for a payment of no subscription), and so does `message`: "
        "with several subscriptions, make sure it is the one the customer means. Before "
        "calling /fin/refunds, tell the customer the exact amount and get their explicit "
        "confirmation. Money needs a verified contact: send `user_id` or `stripe_id` from the "
        "contact's attributes; a request with only an email is refused with 403 "
        "`verified_identity_required` (relay `message`: the customer should sign in).",
        _refund_preview,
        errors=MONEY_ERRORS,
    ),
    FinEndpoint(
        "/fin/refunds",
        RefundRequest,
        RefundResponse,
        "Refund a previewed payment (moves money)",
        "Call this only after /fin/refunds/preview returned eligible=true AND the customer "
        "explicitly confirmed the previewed amount in this conversation (for example 'Yes, "
        "refund 79,00 €'). Pass the preview's confirmation_token unchanged. Never call it "
        "without that confirmation. Sending the same token again never refunds twice: it "
        "returns the first result. Like the preview it needs `user_id` or `stripe_id` (the "
        "customer it resolves to must be the one the token was made for); only an email is "
        "refused with 403 `verified_identity_required`.",
        _refund,
        errors=MONEY_ERRORS,
    ),
    FinEndpoint(
        "/fin/invoices",
        InvoicesRequest,
        InvoicesResponse,
        documents.INVOICES_SUMMARY,
        documents.INVOICES_DESCRIPTION,
        documents.invoices,
    ),
    FinEndpoint(
        "/fin/billing-details",
        BillingDetailsRequest,
        BillingDetailsResponse,
        documents.BILLING_DETAILS_SUMMARY,
        documents.BILLING_DETAILS_DESCRIPTION,
        documents.billing_details,
        errors=MONEY_ERRORS,
    ),
    FinEndpoint(
        "/fin/cancellation/preview",
        CancellationPreviewRequest,
        CancellationPreviewResponse,
        "What cancelling means, and the offers to stay, each with a confirmation token",
        "Call this first when the customer wants to cancel (or downgrade, or stop paying for a "
        "while): 'I want to cancel', 'Please end my subscription', 'It's too expensive'. It "
        "changes nothing. It says when the subscription would end (access until then) and "
        "lists the options with their exact amounts: pause payments for 1 to 3 months, the "
        "retention discount (the new price from Stripe's preview), the closest cheaper plan, "
        "and cancelling at the end of the period, each with its own confirmation_token. Relay "
        "`message`, let the customer choose, then call /fin/cancellation with that option's "
        "token. A customer with several subscriptions: pass `subscription_id` (without it, 409 "
        "`subscription_required` lists them in `error.subscriptions`). Needs `user_id` or `stripe_id`; an "
        "email alone is refused with 403 `verified_identity_required`.",
        cancellation.cancellation_preview,
        errors=MONEY_ERRORS,
    ),
    FinEndpoint(
        "/fin/cancellation",
        CancellationRequest,
        CancellationResponse,
        "Apply the option the customer chose: pause, discount, cheaper plan or cancel (changes "
        "the subscription)",
        "Call this only after /fin/cancellation/preview AND the customer explicitly chose one "
        "option in this conversation (for example 'Yes, pause it for two months' or 'Cancel "
        "it at the end of the period'). Pass that option's confirmation_token unchanged. "
        "Sending the same token again never changes the subscription twice: it returns the "
        "first result (replayed=true). Like the preview it needs `user_id` or `stripe_id`.",
        cancellation.cancellation,
        errors=MONEY_ERRORS,
    ),
)


async def openapi_json(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    return JSONResponse(openapi_document(ENDPOINTS, server_url=services.settings.public_url))


routes = [Route(e.path, e.handle, methods=["POST"]) for e in ENDPOINTS] + [
    Route("/fin/openapi.json", openapi_json, methods=["GET"])
]
