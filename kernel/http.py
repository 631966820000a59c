"""HTTP plumbing shared by every edge: bounded body reading, JSON errors, one error handler.

A client mistake is never a 500: it is a `ClientError` with a status, a stable code and a
message, rendered as `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kernel.logs import frames_only, redact_links

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000


class ClientError(Exception):
    def __init__(
        self, status: int, code: str, message: str, *, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_response(
    status: int, code: str, message: str, *, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing anything over `limit` bytes without reading it all (413)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise ClientError(413, "body_too_large", f"Request body exceeds {limit} bytes.")
        except ValueError:
            raise ClientError(400, "bad_request", "Invalid Content-Length header.") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ClientError(413, "body_too_large", f"Request body exceeds {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ClientError(400, "invalid_json", "The request body is not valid JSON.") from None
    except RecursionError:
        # Nesting deeper than the parser's recursion limit: valid JSON no client of ours sends.
        raise ClientError(400, "invalid_json", "The request body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise ClientError(400, "invalid_json", "The request body must be a JSON object.")
    return data


async def client_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClientError)
    return error_response(exc.status, exc.code, exc.message, details=exc.details)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    response = error_response(exc.status_code, code, str(exc.detail))
    # The router's headers travel along: a 405 names the allowed methods (`Allow`, RFC 9110).
    response.headers.update(exc.headers or {})
    return response


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    # Logged with its type and place only: request bodies (and exception messages quoting
    # them) may hold personal data, and a path may be a payment link.
    log.error(
        "unhandled %s on %s %s\n%s",
        type(exc).__name__,
        request.method,
        redact_links(request.url.path),
        frames_only(exc),
    )
    return error_response(500, "internal_error", "Something went wrong on our side.")


EXCEPTION_HANDLERS = {
    ClientError: client_error_handler,
    HTTPException: http_exception_handler,
    Exception: unexpected_error_handler,
}
