"""Payment methods: test cards and IBANs, attach/detach, and the hosted-page completions."""

from __future__ import annotations

import hashlib
from typing import Any

from . import objects as ob
from .errors import ApiError, invalid
from .state import StripeState

# number -> (brand, funding, label shown on hosted pages)
TEST_CARDS: dict[str, tuple[str, str, str]] = {
    "4242424242424242": ("visa", "credit", "Visa 4242 (succeeds)"),
    "5555555555554444": ("mastercard", "credit", "Mastercard 4444 (succeeds)"),
    "4000000000009995": ("visa", "debit", "Visa 9995 (declines on use: insufficient funds)"),
    "4000000000000002": ("visa", "credit", "Visa 0002 (declines on use: generic decline)"),
    "4100000000000019": ("visa", "credit", "Visa 0019 (blocked by Radar on use: highest risk)"),
    "378282246310005": ("amex", "credit", "Amex 0005 (succeeds)"),
}


def fingerprint(secret: str) -> str:
    """Stable fingerprint per card number / IBAN, like Stripe's."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def create_card(
    state: StripeState,
    number: str,
    exp_month: int,
    exp_year: int,
    *,
    customer: str | None = None,
    at: int | None = None,
    name: str | None = None,
    email: str | None = None,
    pm_id: str | None = None,
) -> dict[str, Any]:
    """A card payment method from a test card number."""
    number = number.replace(" ", "")
    if number not in TEST_CARDS:
        raise ApiError(
            402,
            "Your card number is incorrect.",
            type="card_error",
            code="incorrect_number",
            param="number",
        )
    brand, funding, _ = TEST_CARDS[number]
    pm = ob.payment_method(
        id=pm_id or state.new_id("pm"),
        created=at or state.now(),
        type="card",
        details=ob.card_details(
            brand, number[-4:], exp_month, exp_year, fingerprint(number), funding
        ),
        customer=customer,
        name=name,
        email=email,
    )
    return state.put(pm, {"number": number})


def create_sepa(
    state: StripeState,
    iban: str,
    *,
    customer: str | None = None,
    at: int | None = None,
    name: str | None = None,
    email: str | None = None,
    pm_id: str | None = None,
) -> dict[str, Any]:
    """A sepa_debit payment method (bank code = German BLZ for DE IBANs) with a mandate id."""
    iban = iban.replace(" ", "").upper()
    country = iban[:2]
    bank_code = iban[4:12] if country == "DE" else iban[4:8]
    pm = ob.payment_method(
        id=pm_id or state.new_id("pm"),
        created=at or state.now(),
        type="sepa_debit",
        details=ob.sepa_details(iban[-4:], bank_code, country, fingerprint(iban)),
        customer=customer,
        name=name,
        email=email,
        country=country,
    )
    return state.put(pm, {"iban": iban, "mandate": state.new_id("mandate")})


def attach(state: StripeState, pm: dict[str, Any], customer_id: str) -> dict[str, Any]:
    """Attach to a customer (a PM belongs to at most one customer)."""
    cus = state.get("customer", customer_id, "customer")
    if pm["customer"] and pm["customer"] != customer_id:
        raise invalid(
            "The payment method you provided has already been attached to a customer.",
            "payment_method",
        )
    if pm["customer"] == customer_id:
        return pm
    pm["customer"] = cus["id"]
    state.emit("payment_method.attached", pm)
    return pm


def detach(state: StripeState, pm: dict[str, Any]) -> dict[str, Any]:
    """Detach; also clears it as the customer's default, as Stripe does."""
    if not pm["customer"]:
        raise invalid(f"The payment method {pm['id']} is not attached to a customer.", None)
    cus = state.find(pm["customer"], "customer")
    pm["customer"] = None
    if cus and cus["invoice_settings"]["default_payment_method"] == pm["id"]:
        cus["invoice_settings"]["default_payment_method"] = None
        state.emit(
            "customer.updated", cus, {"invoice_settings": {"default_payment_method": pm["id"]}}
        )
    state.emit("payment_method.detached", pm)
    return pm


def complete_checkout(
    state: StripeState, session: dict[str, Any], number: str, exp_month: int, exp_year: int
) -> dict[str, Any]:
    """Hosted Checkout (setup mode) submit: card PM + succeeded SetupIntent + completed session."""
    if session["status"] != "open":
        raise invalid("This Checkout Session is no longer active.", None)
    cus_id = session["customer"]
    cus = state.find(cus_id, "customer")
    pm = create_card(
        state,
        number,
        exp_month,
        exp_year,
        name=cus["name"] if cus else None,
        email=cus["email"] if cus else None,
    )
    if cus_id:
        attach(state, pm, cus_id)
    si = ob.setup_intent(
        id=state.new_id("seti"),
        created=state.now(),
        customer=cus_id,
        payment_method=pm["id"],
        status="succeeded",
        metadata=state.priv(session["id"]).get("setup_intent_metadata", {}),
        pm_types=["card"],
    )
    state.put(si)
    prev = {"status": "open"}
    session.update(status="complete", setup_intent=si["id"])
    session["customer_details"] = {
        "address": ob.address(),
        "business_name": None,
        "email": cus["email"] if cus else None,
        "individual_name": None,
        "name": cus["name"] if cus else None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }
    state.emit("setup_intent.succeeded", si)
    state.emit("checkout.session.completed", session, prev)
    return session


def complete_portal_card(
    state: StripeState, session: dict[str, Any], number: str, exp_month: int, exp_year: int
) -> dict[str, Any]:
    """Portal payment_method_update: new card becomes the customer's invoice default."""
    cus = state.get("customer", session["customer"])
    pm = create_card(state, number, exp_month, exp_year, name=cus["name"], email=cus["email"])
    attach(state, pm, cus["id"])
    prev = {
        "invoice_settings": {
            "default_payment_method": cus["invoice_settings"]["default_payment_method"]
        }
    }
    cus["invoice_settings"]["default_payment_method"] = pm["id"]
    state.emit("customer.updated", cus, prev)
    return pm
