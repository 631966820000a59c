"""The signed token of a customer's link (`/l/<token>`): itsdangerous, salt "payment-link". It
binds the customer, the kind of link — `recover` (pay a failed invoice), `trial` (add a payment
method) or `details` (update the billing address and tax ids) —, the invoice (recover only), the
reader's language and the customer's default payment method when it was made, and expires after
`LINK_MAX_AGE_HOURS`. Made by the Messenger cards and Fin, opened by `messenger.links`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from kernel.i18n import pick_locale
from kernel.settings import Settings

SALT = "payment-link"
LinkKind = Literal["recover", "trial", "details"]
LINK_KINDS = ("recover", "trial", "details")


@dataclass(frozen=True, slots=True)
class PaymentLink:
    customer: str
    invoice: str | None
    kind: LinkKind
    locale: str
    contact: str | None = None  # the Intercom contact it was made for (audit only)
    payment_method: str | None = None  # the customer's default payment method when made
    # When the token was signed (itsdangerous' signed timestamp; not part of the payload).
    issued_at: datetime | None = field(default=None, compare=False)


class LinkRejected(Exception):
    """The token is not one we signed (status 400) or has expired (410)."""

    def __init__(self, status: int, locale: str | None) -> None:
        super().__init__(status)
        self.status = status
        self.locale = locale


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=SALT)


def payment_link_url(settings: Settings, link: PaymentLink) -> str:
    payload = asdict(link)
    del payload["issued_at"]
    token = _serializer(settings).dumps(payload)
    return f"{settings.public_url}/l/{token}"


def link_expires_at(settings: Settings, now: datetime | None = None) -> datetime:
    """When a link made now stops working."""
    return (now or datetime.now(UTC)) + timedelta(hours=settings.link_max_age_hours)


def read_link(settings: Settings, token: str) -> PaymentLink:
    serializer = _serializer(settings)
    try:
        data, issued_at = serializer.loads(
            token, max_age=settings.link_max_age_hours * 3600, return_timestamp=True
        )
    except SignatureExpired as exc:
        # The signature was ours, only too old: its language is still worth honouring.
        payload = serializer.load_payload(exc.payload) if exc.payload is not None else None
        locale = payload.get("locale") if isinstance(payload, dict) else None
        raise LinkRejected(410, locale if isinstance(locale, str) else None) from None
    except BadSignature:
        raise LinkRejected(400, None) from None
    if not _well_formed(data):
        # Signed with our key, but not a link we make (another version, or a bug): refuse.
        raise LinkRejected(400, None)
    return PaymentLink(
        customer=data["customer"],
        invoice=data.get("invoice") or None,
        kind=data["kind"],
        locale=pick_locale(data.get("locale"), "en", german_address=settings.german_address),
        contact=data.get("contact"),
        payment_method=data.get("payment_method") or None,
        issued_at=issued_at,
    )


def _well_formed(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("kind") not in LINK_KINDS:
        return False
    customer = data.get("customer")
    if not isinstance(customer, str) or not customer:
        return False
    optional = ("invoice", "contact", "payment_method")
    return all(isinstance(data.get(key), str | None) for key in optional)
