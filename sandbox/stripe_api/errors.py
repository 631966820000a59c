"""Stripe-shaped API errors (type, code, message, param, doc_url, request_log_url)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised by handlers and business logic; the server renders it as Stripe's error JSON."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        """The JSON body Stripe sends: only the keys that apply, like the real API."""
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        if self.decline_code:
            err["decline_code"] = self.decline_code
        err.update(self.extra)
        if request_id:
            err["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}?t=0"
        return {"error": err}


def missing(kind_label: str, obj_id: str, param: str = "id") -> ApiError:
    """404 resource_missing exactly as Stripe words it: ``No such customer: 'cus_x'``."""
    return ApiError(404, f"No such {kind_label}: '{obj_id}'", code="resource_missing", param=param)


def unknown_param(name: str) -> ApiError:
    """400 parameter_unknown for a parameter the endpoint does not take."""
    return ApiError(
        400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
    )


def missing_param(name: str) -> ApiError:
    """400 parameter_missing."""
    return ApiError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """400 generic invalid_request_error."""
    return ApiError(
        400, message, code=code or ("parameter_invalid" if param else None), param=param
    )
