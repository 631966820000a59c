"""Signed confirmation tokens, the one mechanism behind every confirm step that moves money or
changes a subscription (refunds, cancel or save): a preview signs what it grants, and the
execution reads it back, at most once (the single use is the action store's claim on its id).

itsdangerous, with a salt per kind (Fin's and the inbox's tokens never pass for each other). A
token is readable, not secret: ids and amounts only, and who asked (`Actor`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from billing.errors import BillingError
from storage.actions import ACTOR_TYPES, Actor


class InvalidConfirmationToken(BillingError):
    """The confirmation token is malformed, forged, or for someone else."""

    code = "invalid_confirmation_token"


class ConfirmationTokenExpired(BillingError):
    """The confirmation token is too old; preview again."""

    code = "confirmation_token_expired"


class SignedGrants:
    """Signs a grant's fields with its token id, customer and actor, and reads them back."""

    def __init__(self, secret_key: str, *, kind: str) -> None:
        self.kind = kind
        self._serializer = URLSafeTimedSerializer(secret_key, salt=kind)

    def sign(self, token_id: str, customer_id: str, actor: Actor, **fields: Any) -> str:
        payload = {
            "t": token_id,
            "cus": customer_id,
            **fields,
            "act": actor.type,
            "aid": actor.id,
            "conv": actor.conversation_id,
        }
        return self._serializer.dumps({k: v for k, v in payload.items() if v is not None})

    def open(
        self, token: str, *, max_age_seconds: int | None = None
    ) -> tuple[dict[str, Any], Actor, datetime]:
        """A genuine token's payload, who asked, and when it was signed; `max_age_seconds`
        also refuses older ones. The caller turns the payload into its grant, raising
        `InvalidConfirmationToken` on a field it cannot read."""
        try:
            payload, issued = self._serializer.loads(
                token, max_age=max_age_seconds, return_timestamp=True
            )
        except SignatureExpired:
            raise ConfirmationTokenExpired() from None
        except BadSignature:
            raise InvalidConfirmationToken() from None
        if not isinstance(payload, dict):
            raise InvalidConfirmationToken()
        actor_type = next((a for a in ACTOR_TYPES if a == payload.get("act")), None)
        if actor_type is None:
            raise InvalidConfirmationToken()
        actor = Actor(actor_type, payload.get("aid"), payload.get("conv"))
        return payload, actor, issued.astimezone(UTC)
