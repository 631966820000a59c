"""Bearer-token authentication of Fin's data connectors (`FIN_ACTION_TOKENS`).

Several tokens are accepted at once so a token can be rotated without downtime: add the new one,
switch Intercom's authentication token over, remove the old one. Every configured token is
compared in constant time, and all of them are compared, so timing reveals nothing.
"""

from __future__ import annotations

import hmac
import logging

from pydantic import SecretStr
from starlette.requests import Request

from kernel.http import ClientError

log = logging.getLogger(__name__)


class Unauthorized(ClientError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthorized", message)


def require_bearer(request: Request, tokens: list[SecretStr]) -> None:
    """Raise `Unauthorized` (401) unless the request carries one of `tokens`."""
    if not tokens:
        log.warning("a Fin request was refused: FIN_ACTION_TOKENS is not set")
        raise Unauthorized("Fin data connectors are not enabled on this server.")
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        raise Unauthorized("Send the token as 'Authorization: Bearer <token>'.")
    given = presented.encode()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given, token.get_secret_value().encode())
    if not matched:
        raise Unauthorized("The bearer token is not valid.")
