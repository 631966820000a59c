"""Intercom's error answers: ``ApiFailure`` raised by handlers, rendered as an ``error.list``
body with the codes and messages of the spec's examples where it has one."""

from __future__ import annotations

from typing import Any

from .state import new_request_id

SERVER_ERROR_BODIES: dict[int, tuple[str, str]] = {
    500: ("server_error", "Server Error"),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("service_unavailable", "Service Unavailable"),
    504: ("gateway_timeout", "Gateway Timeout"),
}


class ApiFailure(Exception):
    """Raised by handlers to answer with an Intercom ``error.list`` body."""

    def __init__(self, status: int, code: str, message: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code: str, message: str | None) -> dict[str, Any]:
    """The ``error`` schema: ``{"type": "error.list", "request_id", "errors": [...]}``."""
    return {
        "type": "error.list",
        "request_id": new_request_id(),
        "errors": [{"code": code, "message": message}],
    }


def user_not_found() -> ApiFailure:
    return ApiFailure(404, "not_found", "User Not Found")


def resource_not_found() -> ApiFailure:
    return ApiFailure(404, "not_found", "Resource Not Found")


def require_dict(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiFailure(400, "parameter_invalid", "Request body must be a JSON object")
    return body
