"""Operator pages (`/admin/report`, `/metrics`): `ADMIN_TOKENS` as a bearer token, or as the
password of HTTP basic auth (any user name) so a browser can open the report.

Separate from Fin's tokens: whoever holds a Fin token can't read the business's numbers, and a
monitoring system's token can't refund. Every configured token is compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging

from starlette.requests import Request
from starlette.responses import Response

from kernel.http import error_response

log = logging.getLogger(__name__)

REALM = 'Basic realm="canvas-app admin", charset="UTF-8"'


def admin_refusal(request: Request) -> Response | None:
    """None when the request carries an admin token; otherwise the 401 (or 404) to answer."""
    tokens = request.app.state.services.settings.admin_tokens
    if not tokens:
        log.warning("an admin request was refused: ADMIN_TOKENS is not set")
        return error_response(404, "not_found", "Admin pages are not enabled on this server.")
    presented = _presented(request.headers.get("authorization", ""))
    matched = False
    if presented is not None:
        given = presented.encode()
        for token in tokens:
            matched |= hmac.compare_digest(given, token.get_secret_value().encode())
    if matched:
        return None
    response = error_response(401, "unauthorized", "An admin token is required.")
    response.headers["WWW-Authenticate"] = REALM
    return response


def _presented(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if not value:
        return None
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None
