"""Signed confirmation tokens for refunds: what a preview grants (this amount of this charge of
this customer, asked by whom) and a refund execution spends, at most once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from billing.errors import BillingError
from billing.money import Money
from storage.actions import ACTOR_TYPES, Actor


class InvalidConfirmationToken(BillingError):
    """The confirmation token is malformed, forged, or for someone else."""

    code = "invalid_confirmation_token"


class ConfirmationTokenExpired(BillingError):
    """The confirmation token is too old; preview the refund again."""

    code = "confirmation_token_expired"


@dataclass(frozen=True, slots=True)
class RefundGrant:
    """What a confirmation token allows: this amount of this charge of this customer, asked by
    this actor (Fin or an agent) in this conversation."""

    token_id: str
    customer_id: str
    charge_id: str
    amount: int
    currency: str
    actor: Actor
    reason: str | None = None
    issued_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class RefundTokens:
    """Signs and reads confirmation tokens (itsdangerous; the salt keeps Fin's and the inbox's
    tokens apart). A token is readable, not secret: it carries ids and an amount only."""

    def __init__(self, secret_key: str, *, kind: str) -> None:
        self.kind = kind
        self._serializer = URLSafeTimedSerializer(secret_key, salt=kind)

    def issue(self, grant: RefundGrant) -> str:
        payload = {
            "t": grant.token_id,
            "cus": grant.customer_id,
            "ch": grant.charge_id,
            "amt": grant.amount,
            "cur": grant.currency,
            "act": grant.actor.type,
            "aid": grant.actor.id,
            "conv": grant.actor.conversation_id,
            "why": grant.reason,
        }
        return self._serializer.dumps({k: v for k, v in payload.items() if v is not None})

    def read(self, token: str, *, max_age_seconds: int | None = None) -> RefundGrant:
        """The grant of a genuine token; `max_age_seconds` also refuses older ones."""
        try:
            payload, issued = self._serializer.loads(
                token, max_age=max_age_seconds, return_timestamp=True
            )
        except SignatureExpired:
            raise ConfirmationTokenExpired() from None
        except BadSignature:
            raise InvalidConfirmationToken() from None
        actor_type = (
            next((a for a in ACTOR_TYPES if a == payload.get("act")), None)
            if isinstance(payload, dict)
            else None
        )
        if actor_type is None:
            raise InvalidConfirmationToken()
        try:
            return RefundGrant(
                token_id=str(payload["t"]),
                customer_id=str(payload["cus"]),
                charge_id=str(payload["ch"]),
                amount=int(payload["amt"]),
                currency=str(payload["cur"]),
                actor=Actor(actor_type, payload.get("aid"), payload.get("conv")),
                reason=payload.get("why"),
                issued_at=issued.astimezone(UTC),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidConfirmationToken() from None
