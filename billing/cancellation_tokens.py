"""Signed confirmation tokens for the cancel flow: what a preview offered (this option for this
subscription of this customer, with these exact amounts, asked by whom), spent at most once by
`CancellationService.execute`. Signed like the refunds' tokens (itsdangerous, a salt per
surface); a token is readable, not secret: ids and amounts only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from billing.cancellation_offers import OPTIONS, CouponTerms, Offer
from billing.confirmation_tokens import InvalidConfirmationToken, SignedGrants
from billing.money import Money, to_datetime
from billing.quotes import quote_from_data, quote_to_data
from storage.actions import Actor


@dataclass(frozen=True, slots=True)
class CancellationGrant:
    """What a confirmation token allows: `offer` for this customer, asked by `actor`."""

    token_id: str
    customer_id: str
    offer: Offer
    actor: Actor
    issued_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class CancellationTokens(SignedGrants):
    """Cancellation grants as confirmation tokens (`billing.confirmation_tokens`)."""

    def issue(self, grant: CancellationGrant) -> str:
        return self.sign(
            grant.token_id, grant.customer_id, grant.actor, offer=offer_to_data(grant.offer)
        )

    def read(self, token: str, *, max_age_seconds: int | None = None) -> CancellationGrant:
        """The grant of a genuine token; `max_age_seconds` also refuses older ones."""
        payload, actor, issued = self.open(token, max_age_seconds=max_age_seconds)
        try:
            return CancellationGrant(
                token_id=str(payload["t"]),
                customer_id=str(payload["cus"]),
                offer=offer_from_data(payload["offer"]),
                actor=actor,
                issued_at=issued,
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidConfirmationToken() from None


# --- an offer as JSON (in a token, and in the claim's result for replays) ---
def offer_to_data(offer: Offer) -> dict[str, Any]:
    coupon = offer.coupon
    data: dict[str, Any] = {
        "option": offer.option,
        "sub": offer.subscription_id,
        "plan": offer.plan_name,
        "ends": _unix(offer.ends_at),
        "months": offer.months,
        "resumes": _unix(offer.resumes_at),
        "coupon": {
            "id": coupon.id,
            "pct": coupon.percent_off,
            "off": _money(coupon.amount_off),
            "dur": coupon.duration,
            "n": coupon.duration_in_months,
        }
        if coupon is not None
        else None,
        "now": _money(offer.current_price),
        "new": _money(offer.new_price),
        "interval": offer.interval,
        "quote": quote_to_data(offer.quote) if offer.quote is not None else None,
        "credit": _money(offer.credit),
    }
    return {key: value for key, value in data.items() if value is not None}


def offer_from_data(data: dict[str, Any]) -> Offer:
    option = next((o for o in OPTIONS if o == data["option"]), None)
    if option is None:
        raise ValueError("unknown option")
    coupon = data.get("coupon")
    return Offer(
        option=option,
        subscription_id=str(data["sub"]),
        plan_name=data.get("plan"),
        ends_at=_moment(data.get("ends")),
        months=int(data["months"]) if data.get("months") is not None else None,
        resumes_at=_moment(data.get("resumes")),
        coupon=CouponTerms(
            id=str(coupon["id"]),
            percent_off=float(coupon["pct"]) if coupon.get("pct") is not None else None,
            amount_off=_money_of(coupon.get("off")),
            duration=str(coupon["dur"]),
            duration_in_months=int(coupon["n"]) if coupon.get("n") is not None else None,
        )
        if isinstance(coupon, dict)
        else None,
        current_price=_money_of(data.get("now")),
        new_price=_money_of(data.get("new")),
        interval=data.get("interval"),
        quote=quote_from_data(data["quote"]) if isinstance(data.get("quote"), dict) else None,
        credit=_money_of(data.get("credit")),
    )


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _moment(value: Any) -> datetime | None:
    return to_datetime(int(value)) if value is not None else None


def _money(value: Money | None) -> list[Any] | None:
    return [value.amount, value.currency] if value is not None else None


def _money_of(value: Any) -> Money | None:
    if value is None:
        return None
    amount, currency = value
    return Money(int(amount), str(currency))
