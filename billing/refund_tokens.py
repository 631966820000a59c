"""Confirmation tokens for refunds: what a preview grants (this amount of this charge of this
customer, asked by whom) and a refund execution spends, at most once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from billing.confirmation_tokens import InvalidConfirmationToken, SignedGrants
from billing.money import Money
from storage.actions import Actor


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


class RefundTokens(SignedGrants):
    """Refund grants as confirmation tokens (`billing.confirmation_tokens`; the salt keeps
    Fin's and the inbox's tokens apart)."""

    def issue(self, grant: RefundGrant) -> str:
        return self.sign(
            grant.token_id,
            grant.customer_id,
            grant.actor,
            ch=grant.charge_id,
            amt=grant.amount,
            cur=grant.currency,
            why=grant.reason,
        )

    def read(self, token: str, *, max_age_seconds: int | None = None) -> RefundGrant:
        """The grant of a genuine token; `max_age_seconds` also refuses older ones."""
        payload, actor, issued = self.open(token, max_age_seconds=max_age_seconds)
        try:
            return RefundGrant(
                token_id=str(payload["t"]),
                customer_id=str(payload["cus"]),
                charge_id=str(payload["ch"]),
                amount=int(payload["amt"]),
                currency=str(payload["cur"]),
                actor=actor,
                reason=payload.get("why"),
                issued_at=issued,
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidConfirmationToken() from None
