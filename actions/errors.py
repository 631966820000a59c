"""Fin's errors, mapped in one place: a domain error, a refusal or a bad request becomes a status,
a stable code and a `message` Fin can say (`templates/codes/<code>.txt.j2`)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from starlette.responses import JSONResponse, Response

from actions import answers
from actions.auth import Unauthorized
from actions.messages import say
from actions.subscription_answers import subscription_choices
from billing.cancellation import CancellationInProgress, OfferNotAvailable
from billing.confirmation_tokens import ConfirmationTokenExpired, InvalidConfirmationToken
from billing.errors import (
    AmbiguousCustomer,
    BillingError,
    CustomerNotFound,
    NotFound,
    StripeRejected,
    StripeUnavailable,
)
from billing.invoices import InvoiceNotFound
from billing.quotes import NoSubscription
from billing.refund_policy import RefundRefused
from billing.refunds import RefundInProgress
from billing.subscription_choice import SubscriptionNotFound, SubscriptionRequired
from billing.trust import VerifiedIdentityRequired
from kernel.http import ClientError, error_response
from kernel.logs import frames_only

log = logging.getLogger(__name__)


RETRY_AFTER_SECONDS = "5"


# --- errors, mapped in one place ---
def invalid_request(exc: ValidationError) -> ClientError:
    details = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in error["loc"]) or "body"
        details.append({"field": field, "message": error["msg"]})
    fields = ", ".join(sorted({d["field"] for d in details}))
    return ClientError(
        422,
        "invalid_request",
        f"The request has missing or invalid fields: {fields}.",
        details=details,
    )


def error_answer(
    exc: Exception, locale: str, *, refund: bool, cancel_flow: bool = False
) -> Response:
    if isinstance(exc, Unauthorized):
        response = error_response(exc.status, exc.code, exc.message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="fin"'
        return response
    if isinstance(exc, ClientError):
        return error_response(exc.status, exc.code, exc.message, details=exc.details)
    if not isinstance(exc, BillingError):
        log.error("Fin request failed with %s\n%s", type(exc).__name__, frames_only(exc))
        return error_response(500, "internal_error", "Something went wrong on our side.")
    if isinstance(exc, StripeUnavailable):
        log.warning("Fin request without Stripe: %s", exc.message)
        # A refund that timed out may have happened: say so, and that a retry is safe.
        text = say("codes/refund_unconfirmed" if refund else "codes/stripe_unavailable", locale)
        response = error_response(503, "stripe_unavailable", text)
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    if isinstance(exc, SubscriptionRequired):
        # Several live subscriptions and none named: the question to ask, and the choices.
        message, choices = subscription_choices(exc.choices, locale)
        error: dict[str, Any] = {"code": exc.code, "message": message}
        error["subscriptions"] = [c.model_dump(mode="json") for c in choices]
        return JSONResponse({"error": error}, status_code=409)
    if isinstance(exc, RefundRefused):
        return error_response(409, exc.code, answers.refusal_message(exc, locale))
    if isinstance(exc, InvalidConfirmationToken | ConfirmationTokenExpired):
        # 403: the body is well-formed (the schema can't tell a token we signed from another
        # string), but this token grants no refund (or change): preview again.
        text = say(f"codes/{exc.code}", locale, cancellation=cancel_flow)
        return error_response(403, exc.code, text)
    status, code = {
        VerifiedIdentityRequired: (403, "verified_identity_required"),
        CustomerNotFound: (404, "customer_not_found"),
        SubscriptionNotFound: (404, "subscription_not_found"),
        AmbiguousCustomer: (409, "ambiguous_customer"),
        RefundInProgress: (409, "refund_in_progress"),
        CancellationInProgress: (409, "cancellation_in_progress"),
        OfferNotAvailable: (409, "offer_not_available"),
        NoSubscription: (409, "no_subscription"),
        NotFound: (404, "not_found"),
        InvoiceNotFound: (404, "invoice_not_found"),
        # The request was well-formed; Stripe refused what it led to (a read or a refund).
        StripeRejected: (409, "stripe_rejected"),
    }.get(type(exc), (409, "stripe_rejected"))
    if isinstance(exc, StripeRejected):
        log.warning("Stripe rejected a Fin request: %s", exc.code)
    return error_response(status, code, say(f"codes/{code}", locale))
