"""How fast Stripe answers decode: msgspec (gateways/stripe_models.py) against pydantic v2's
`TypeAdapter.validate_json` over the same fields, and the SDK's own json.loads + StripeObject.

    .venv/bin/python scripts/decode_bench.py

The answers are real ones from the sandbox Stripe (the SEPA customer with its expansions, a page
of 100 charges). The pydantic models below mirror gateways/stripe_models.py field for field.
"""

# ruff: noqa: E701, E702
import json
import sys
import timeit
from collections import OrderedDict

import httpx
import msgspec
import stripe
from pydantic import BaseModel, ConfigDict, TypeAdapter

from gateways import stripe_models as sm
from sandbox.bench import STRIPE_KEY, process
from sandbox.serving import free_port


class P(BaseModel):
    model_config = ConfigDict(frozen=True)


class CardDetails(P):
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    country: str | None = None


class SepaDebitDetails(P):
    last4: str | None = None
    bank_code: str | None = None
    country: str | None = None


class PaymentMethod(P):
    id: str
    type: str
    created: int = 0
    customer: str | None = None
    card: CardDetails | None = None
    sepa_debit: SepaDebitDetails | None = None


class Product(P):
    id: str
    name: str | None = None
    active: bool = True
    metadata: dict[str, str] = {}


class Recurring(P):
    interval: str | None = None
    interval_count: int = 1
    usage_type: str | None = None
    meter: str | None = None


class Price(P):
    id: str
    product: str | Product
    currency: str = "eur"
    unit_amount: int | None = None
    unit_amount_decimal: str | None = None
    recurring: Recurring | None = None
    nickname: str | None = None
    lookup_key: str | None = None
    metadata: dict[str, str] = {}


class SubscriptionItem(P):
    id: str
    price: Price
    current_period_start: int = 0
    current_period_end: int = 0


class SubscriptionItems(P):
    data: list[SubscriptionItem] = []


class Subscription(P):
    id: str
    status: str
    customer: str | None = None
    currency: str = "eur"
    items: SubscriptionItems = SubscriptionItems()
    trial_end: int | None = None
    cancel_at_period_end: bool = False
    cancel_at: int | None = None
    default_payment_method: str | PaymentMethod | None = None
    latest_invoice: str | None = None


class SubList(P):
    data: list[Subscription] = []
    has_more: bool = False


class InvoiceSettings(P):
    default_payment_method: str | PaymentMethod | None = None


class Customer(P):
    id: str
    deleted: bool = False
    name: str | None = None
    email: str | None = None
    created: int = 0
    balance: int = 0
    currency: str | None = None
    delinquent: bool | None = False
    metadata: dict[str, str] = {}
    invoice_settings: InvoiceSettings | None = None
    subscriptions: SubList | None = None


class ChargeMethodDetails(P):
    type: str | None = None
    card: CardDetails | None = None
    sepa_debit: SepaDebitDetails | None = None


class Charge(P):
    id: str
    customer: str | None = None
    payment_intent: str | None = None
    amount: int = 0
    amount_captured: int = 0
    amount_refunded: int = 0
    currency: str = "eur"
    status: str = "pending"
    created: int = 0
    failure_code: str | None = None
    failure_message: str | None = None
    payment_method_details: ChargeMethodDetails | None = None
    disputed: bool = False
    refunded: bool = False


class ChargeList(P):
    data: list[Charge] = []
    has_more: bool = False


def main(url: str) -> None:
    h = {"Authorization": f"Bearer {STRIPE_KEY}"}
    cust = httpx.get(
        url + "/v1/customers/cus_DemoSepa",
        params=[
            ("expand[]", "subscriptions"),
            ("expand[]", "subscriptions.data.default_payment_method"),
            ("expand[]", "invoice_settings.default_payment_method"),
        ],
        headers=h,
    ).content
    charges = httpx.get(
        url + "/v1/charges", params={"customer": "cus_DemoLoyal", "limit": 100}, headers=h
    ).content
    cases = [
        ("customer, expanded", cust, sm.Customer, Customer),
        ("100 charges", charges, sm.ListObject[sm.Charge], ChargeList),
    ]
    for name, body, mt, pt in cases:
        compare(name, body, mt, pt)


def per_call_us(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def compare(name: str, body: bytes, mt: object, pt: object) -> None:
    decoder = msgspec.json.Decoder(mt)
    adapter = TypeAdapter(pt)
    client = stripe.StripeClient(STRIPE_KEY)
    assert decoder.decode(body) is not None and adapter.validate_json(body) is not None
    m = per_call_us(lambda: decoder.decode(body), 300)
    p = per_call_us(lambda: adapter.validate_json(body), 300)
    sdk = per_call_us(
        lambda: client.deserialize(json.loads(body, object_pairs_hook=OrderedDict), api_mode="V1"),
        20,
    )
    print(
        f"{name} ({len(body)} bytes): msgspec {m:.0f} µs, pydantic TypeAdapter.validate_json "
        f"{p:.0f} µs ({p / m:.1f}×), the SDK's json.loads + StripeObject {sdk:.0f} µs "
        f"({sdk / m:.0f}×)"
    )


if __name__ == "__main__":
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "sandbox.stripe_api",
        "--port",
        str(port),
        "--api-key",
        STRIPE_KEY,
    ]
    with process(args, {}, f"{url}/_sandbox/clock"):
        main(url)
