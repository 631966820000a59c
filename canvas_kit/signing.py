"""Canvas Kit request verification: `X-Body-Signature` is the hex HMAC-SHA256 of the raw body
keyed with the app's client secret. We compare in constant time over the bytes as sent, before
parsing anything, so an unsigned request never reaches Stripe."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from starlette.requests import Request

from kernel.http import ClientError, parse_json_object, read_body


def body_signature(body: bytes, secret: str) -> str:
    return hmac.digest(secret.encode(), body, hashlib.sha256).hex()


def signature_matches(body: bytes, signature: str | None, secret: str) -> bool:
    if not signature or not secret:
        return False
    expected = body_signature(body, secret)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


async def verified_json(request: Request, secret: str) -> dict[str, Any]:
    """The signed request's JSON object: 413 if too large, 401 if the signature is missing or
    wrong, 400 if the (signed) body is not a JSON object."""
    body = await read_body(request)
    if not signature_matches(body, request.headers.get("x-body-signature"), secret):
        raise ClientError(401, "invalid_signature", "Missing or invalid X-Body-Signature.")
    return parse_json_object(body)
