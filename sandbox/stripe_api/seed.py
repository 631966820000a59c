"""The demo world of docs/demo-world.md, built through the same billing code the API uses."""

from __future__ import annotations

import os
import pickle
import time
from decimal import Decimal
from typing import Any

from sandbox.serving import gc_paused

from . import billing
from . import objects as ob
from . import payment_methods as pms
from .billing import add_interval
from .state import StripeState

DAY = 86400
METER_ID = "mtr_ApiCalls"

CATALOGUE = [
    # product id, name, metadata, [(price id, lookup key, amount, interval)]
    (
        "prod_Starter",
        "Starter",
        {"usage_limit": "1000", "usage_meter": METER_ID},
        [
            ("price_StarterMonthly", "starter_monthly", 2900, "month"),
            ("price_StarterYearly", "starter_yearly", 29000, "year"),
        ],
    ),
    (
        "prod_Pro",
        "Pro",
        {"usage_limit": "10000", "usage_meter": METER_ID},
        [
            ("price_ProMonthly", "pro_monthly", 7900, "month"),
            ("price_ProYearly", "pro_yearly", 79000, "year"),
        ],
    ),
    (
        "prod_Business",
        "Business",
        {"usage_limit": "100000", "usage_meter": METER_ID},
        [
            ("price_BusinessMonthly", "business_monthly", 19900, "month"),
            ("price_BusinessYearly", "business_yearly", 199000, "year"),
        ],
    ),
]


# Add-ons: bought beside a plan (product metadata `add_on=true`, no usage limit).
ADD_ONS = [
    (
        "prod_PrioritySupport",
        "Priority support",
        "price_PrioritySupportMonthly",
        "priority_support_monthly",
        1500,
    ),
]
# The coupon a customer who wants to cancel may be offered.
RETENTION_COUPON = "RETENTION20"


# How long a seeded world may stand in for a fresh one before it is seeded afresh.
RESEED_AFTER_SECONDS = 10.0
_seeded: list[tuple[float, bytes]] = []  # (when, snapshot) of this process's last seeding
# Set (to anything) to check, each time an untouched world is kept, that it is the snapshot.
VERIFY_UNTOUCHED = "SANDBOX_VERIFY_UNTOUCHED"


def fresh_demo_world(state: StripeState) -> None:
    """Make ``state`` the demo world, as `seed_demo_world` would make it.

    Seeding costs ~80 ms of CPU (500 invoices paid one by one through the billing code); a
    snapshot of a world this process seeded moments ago restores in a quarter of that, and a
    world nothing has changed since (`StripeState.untouched`: only reads and knobs) is kept
    as it is. Either one's dates are as old as its seeding, so it is used for
    `RESEED_AFTER_SECONDS` only: the world is never more than that behind a fresh seed.
    (`/_sandbox/reset` and the tests.)"""
    now = time.monotonic()
    if state.untouched and now - state.seeded_at < RESEED_AFTER_SECONDS:
        state.idempotency.clear()  # keys the reads were sent with (the SDK adds one to a POST)
        if os.environ.get(VERIFY_UNTOUCHED) and _seeded and _seeded[0][0] == state.seeded_at:
            _verify_untouched(state, _seeded[0][1])
        return

    with gc_paused():
        if _seeded and now - _seeded[0][0] < RESEED_AFTER_SECONDS:
            state.restore(_seeded[0][1])
        else:
            state.clear()
            seed_demo_world(state)
            _seeded[:] = [(time.monotonic(), state.snapshot())]
    state.seeded_at, state.untouched = _seeded[0][0], True


def _verify_untouched(state: StripeState, snapshot: bytes) -> None:
    """Raise if a world kept as untouched is not the one `snapshot` took (names what differs)."""
    seeded, now = pickle.loads(snapshot), pickle.loads(state.snapshot())
    changed = sorted(
        f"{part}/{key}"
        for part in seeded
        for key in (
            # `or None`: an empty private record (`StripeState.priv` makes one when read) is none
            {
                k
                for k in seeded[part] | now[part]
                if (seeded[part].get(k) or None) != (now[part].get(k) or None)
            }
            if isinstance(seeded[part], dict)
            else ([""] if seeded[part] != now[part] else [])
        )
    )
    if changed:
        raise AssertionError(f"an untouched sandbox Stripe world was changed: {changed[:5]}")


def seed_demo_world(state: StripeState) -> None:
    """Populate ``state`` with the demo catalogue, customers, subscriptions and history.

    Seeding is quiet (no events) and all seeded timestamps are minute-aligned so meter
    summaries over item periods are valid queries.
    """
    state.quiet = True
    try:
        _seed(state)
    finally:
        state.quiet = False


def _seed(st: StripeState) -> None:
    now = st.now()
    t = now - now % 60
    year_ago = add_interval(t, "year", -2)
    for pid, name, meta, prices in CATALOGUE:
        st.put(
            ob.product(
                id=pid, created=year_ago, name=name, metadata=meta, default_price=prices[0][0]
            )
        )
        for price_id, key, amount, interval in prices:
            st.put(
                ob.price(
                    id=price_id,
                    created=year_ago + (1 if interval == "year" else 0),
                    product=pid,
                    unit_amount=amount,
                    interval=interval,
                    lookup_key=key,
                )
            )
    st.put(
        ob.product(
            id="prod_ApiCalls",
            created=year_ago,
            name="API calls",
            metadata={},
            default_price="price_ApiCallsOverage",
            unit_label="call",
        )
    )
    st.put(
        ob.price(
            id="price_ApiCallsOverage",
            created=year_ago,
            product="prod_ApiCalls",
            unit_amount=None,
            unit_amount_decimal="0.5",
            interval="month",
            lookup_key="api_calls_overage",
            meter=METER_ID,
        )
    )
    st.put(ob.meter(id=METER_ID, created=year_ago, display_name="API calls", event_name="api_call"))
    for pid, name, price_id, key, amount in ADD_ONS:
        st.put(
            ob.product(
                id=pid,
                created=year_ago,
                name=name,
                metadata={"add_on": "true"},
                default_price=price_id,
            )
        )
        st.put(
            ob.price(
                id=price_id,
                created=year_ago,
                product=pid,
                unit_amount=amount,
                interval="month",
                lookup_key=key,
            )
        )
    st.put(
        ob.coupon(
            id=RETENTION_COUPON,
            created=year_ago,
            percent_off=20.0,
            amount_off=None,
            currency=None,
            duration="repeating",
            duration_in_months=3,
            name="20 % off for 3 months",
            metadata={"purpose": "retention"},
        )
    )

    # healthy: Pro monthly, 6 paid invoices, 5 € credit, customer since ~14 months
    cur = t - 12 * DAY
    cus = _customer(
        st,
        "cus_DemoHealthy",
        "Anna Becker",
        "anna@example.com",
        "usr_anna",
        add_interval(t, "month", -14),
        "ANNABECK",
    )
    pm = pms.create_card(
        st,
        "4242424242424242",
        12,
        2028,
        customer=cus["id"],
        at=cus["created"],
        name=cus["name"],
        email=cus["email"],
        pm_id="pm_DemoHealthyVisa",
    )
    cus["invoice_settings"]["default_payment_method"] = pm["id"]
    _subscription(st, "sub_DemoHealthy", cus, ["price_ProMonthly"], cur, periods=6)
    cus["balance"] = -500

    # sepa: Starter monthly on SEPA (failing IBAN, last4 2227), 3 paid + 1 failed ~2 days ago
    cur = t - 2 * DAY
    cus = _customer(
        st,
        "cus_DemoSepa",
        "Müller Maschinenbau GmbH",
        "buchhaltung@mueller-maschinenbau.de",
        "usr_mueller",
        add_interval(cur, "month", -3) - DAY,
        "MUELLERM",
        country="DE",
    )
    pm = pms.create_sepa(
        st,
        "DE65370400440002222227",
        customer=cus["id"],
        at=cus["created"],
        name=cus["name"],
        email=cus["email"],
        pm_id="pm_DemoSepaDebit",
    )
    cus["invoice_settings"]["default_payment_method"] = pm["id"]
    _subscription(
        st,
        "sub_DemoSepa",
        cus,
        ["price_StarterMonthly"],
        cur,
        periods=4,
        default_pm=pm["id"],
        last_outcome="fail",
    )

    # trial: Pro monthly trialing, ends in 2 days, no payment method, one 0 € invoice
    trial_start = t - 12 * DAY
    cus = _customer(
        st,
        "cus_DemoTrial",
        "Jonas Schmidt",
        "jonas@startup.example",
        "usr_jonas",
        trial_start - 600,
        "JONASSCH",
    )
    sub = _sub_object(
        st,
        "sub_DemoTrial",
        cus,
        ["price_ProMonthly"],
        trial_start,
        trial_start,
        t + 2 * DAY,
        status="trialing",
    )
    sub["trial_start"], sub["trial_end"] = trial_start, t + 2 * DAY
    price = st.objects["price_ProMonthly"]
    spec = billing.LineSpec(
        price,
        1,
        0,
        "Trial period for Pro",
        trial_start,
        t + 2 * DAY,
        sub["id"],
        sub["items"]["data"][0]["id"],
    )
    billing.create_invoice(
        st, cus, sub, [spec], "subscription_create", (trial_start, trial_start), at=trial_start
    )

    # vip: Business monthly, 3 paid invoices, 20 € refunded on one charge
    cur = t - 20 * DAY
    cus = _customer(
        st,
        "cus_DemoVip",
        "Lena Fischer",
        "lena@fischer-digital.example",
        "usr_lena",
        add_interval(cur, "month", -2) - DAY,
        "LENAFISC",
    )
    pm = pms.create_card(
        st,
        "5555555555554444",
        8,
        2027,
        customer=cus["id"],
        at=cus["created"],
        name=cus["name"],
        email=cus["email"],
        pm_id="pm_DemoVipMastercard",
    )
    cus["invoice_settings"]["default_payment_method"] = pm["id"]
    invoices = _subscription(st, "sub_DemoVip", cus, ["price_BusinessMonthly"], cur, periods=3)
    ch_id = st.objects[st.priv(invoices[1]["id"])["payment_intent"]]["latest_charge"]
    ref = billing.create_refund(
        st, {"charge": ch_id, "amount": "2000", "reason": "requested_by_customer"}
    )
    ref["created"] = st.objects[ch_id]["created"] + 3 * DAY

    # usage: Pro monthly + metered API calls; 8500 calls so far this period
    cur = t - 18 * DAY
    cus = _customer(
        st,
        "cus_DemoUsage",
        "Paul Wagner",
        "paul@wagner-cloud.example",
        "usr_paul",
        add_interval(cur, "month", -1) - DAY,
        "PAULWAGN",
    )
    pm = pms.create_card(
        st,
        "4242424242424242",
        3,
        2029,
        customer=cus["id"],
        at=cus["created"],
        name=cus["name"],
        email=cus["email"],
        pm_id="pm_DemoUsageVisa",
    )
    cus["invoice_settings"]["default_payment_method"] = pm["id"]
    prev = add_interval(cur, "month", -1)
    for i, v in enumerate([1800, 2400, 2000]):  # previous period: 6200 calls
        st.record_meter_event(
            "api_call", cus["id"], Decimal(v), prev + (i + 1) * 5 * DAY, f"seed_prev_{i}"
        )
    for i, v in enumerate([1500, 2000, 1200, 2500, 1300]):  # current period: 8500 calls
        ts = cur + (i + 1) * 3 * DAY + 3600
        st.record_meter_event("api_call", cus["id"], Decimal(v), min(ts, t - 600), f"seed_cur_{i}")
    _subscription(
        st, "sub_DemoUsage", cus, ["price_ProMonthly", "price_ApiCallsOverage"], cur, periods=2
    )

    # shared email: Team Alpha (active) and Team Beta (canceled ~3 months ago)
    cur = t - 5 * DAY
    cus = _customer(
        st,
        "cus_DemoSharedA",
        "Team Alpha",
        "shared@agency.example",
        "usr_alpha",
        add_interval(cur, "month", -1) - DAY,
        "TEAMALPH",
    )
    pm = pms.create_card(
        st,
        "4242424242424242",
        6,
        2028,
        customer=cus["id"],
        at=cus["created"],
        name=cus["name"],
        email=cus["email"],
        pm_id="pm_DemoSharedAVisa",
    )
    cus["invoice_settings"]["default_payment_method"] = pm["id"]
    _subscription(st, "sub_DemoSharedA", cus, ["price_StarterMonthly"], cur, periods=2)

    canceled = t - 90 * DAY
    cur = add_interval(canceled, "month", -1)
    cus = _customer(
        st,
        "cus_DemoSharedB",
        "Team Beta",
        "shared@agency.example",
        None,
        add_interval(cur, "month", -3) - DAY,
        "TEAMBETA",
    )
    pm = pms.create_card(
        st,
        "378282246310005",
        11,
        2027,
        customer=cus["id"],
        at=cus["created"],
        name=cus["name"],
        email=cus["email"],
        pm_id="pm_DemoSharedBAmex",
    )
    cus["invoice_settings"]["default_payment_method"] = pm["id"]
    sub = st.objects[
        _subscription(st, "sub_DemoSharedB", cus, ["price_StarterMonthly"], cur, periods=4)[0][
            "parent"
        ]["subscription_details"]["subscription"]
    ]
    sub.update(status="canceled", canceled_at=canceled, ended_at=canceled)
    sub["cancellation_details"]["reason"] = "cancellation_requested"

    # loyal: Business monthly for 2 years plus a label pack bought every ~1.5 days: 500 paid
    # invoices (lifetime value pages through 5 pages of invoices and of charges)
    _loyal(st, t)
    _multi(st, t)
    for item in sub["items"]["data"]:
        item["current_period_end"] = canceled


def _multi(st: StripeState, t: int) -> None:
    """multi: two live subscriptions (Pro monthly and the Priority support add-on), a Berlin
    address and a verified German VAT number shown on every invoice."""
    cur = t - 8 * DAY
    cus = _customer(
        st,
        "cus_DemoMulti",
        "Weber Design Studio GmbH",
        "klara@weber-design.example",
        "usr_klara",
        add_interval(cur, "month", -3) - DAY,
        "WEBERDES",
        country="DE",
    )
    cus["address"].update(line1="Friedrichstraße 123", postal_code="10117", city="Berlin")
    st.put(
        ob.tax_id(
            id="txi_DemoMultiVat",
            created=cus["created"],
            customer=cus["id"],
            type="eu_vat",
            value="DE123456789",
            country="DE",
            verification_status="verified",
        )
    )
    verification = st.objects["txi_DemoMultiVat"]["verification"]
    verification["verified_name"] = cus["name"]
    verification["verified_address"] = "Friedrichstraße 123\n10117 Berlin"
    pm = pms.create_card(
        st,
        "4242424242424242",
        9,
        2029,
        customer=cus["id"],
        at=cus["created"],
        name=cus["name"],
        email=cus["email"],
        pm_id="pm_DemoMultiVisa",
    )
    cus["invoice_settings"]["default_payment_method"] = pm["id"]
    _subscription(st, "sub_DemoMultiPlan", cus, ["price_ProMonthly"], cur, periods=4)
    _subscription(
        st, "sub_DemoMultiAddon", cus, ["price_PrioritySupportMonthly"], t - 3 * DAY, periods=2
    )


LOYAL_PERIODS = 24  # Business monthly invoices
LOYAL_PACKS = 476  # one-off label packs: 500 paid invoices in all
LABEL_PACK_AMOUNT = 990


def _loyal(st: StripeState, t: int) -> None:
    cur = t - 5 * DAY
    cus = _customer(
        st,
        "cus_DemoLoyal",
        "Schulz Logistik GmbH",
        "rechnung@schulz-logistik.example",
        "usr_schulz",
        add_interval(cur, "month", -(LOYAL_PERIODS - 1)) - DAY,
        "SCHULZLO",
    )
    pm = pms.create_card(
        st,
        "4242424242424242",
        6,
        2029,
        customer=cus["id"],
        at=cus["created"],
        name=cus["name"],
        email=cus["email"],
        pm_id="pm_DemoLoyalVisa",
    )
    cus["invoice_settings"]["default_payment_method"] = pm["id"]
    _subscription(st, "sub_DemoLoyal", cus, ["price_BusinessMonthly"], cur, periods=LOYAL_PERIODS)
    pack = ob.price(
        id="price_LabelPack",
        created=cus["created"],
        product="prod_LabelPack",
        unit_amount=LABEL_PACK_AMOUNT,
        interval="month",
        lookup_key="label_pack",
    )
    pack.update(type="one_time", recurring=None)
    st.put(
        ob.product(
            id="prod_LabelPack",
            created=cus["created"],
            name="Label pack (100 shipping labels)",
            metadata={},
            default_price="price_LabelPack",
        )
    )
    st.put(pack)
    span = t - 2 * DAY - cus["created"]
    for n in range(LOYAL_PACKS):
        at = cus["created"] + DAY + span * n // LOYAL_PACKS
        at -= at % 60
        spec = billing.LineSpec(
            pack, 1, LABEL_PACK_AMOUNT, "1 × Label pack (100 shipping labels)", at, at, None, None
        )
        inv = billing.create_invoice(st, cus, None, [spec], "manual", (at, at), at=at)
        billing.pay_invoice(st, inv, force="succeed", at=at + 60, raise_on_decline=False)


def _customer(
    st: StripeState,
    cid: str,
    name: str,
    email: str,
    user_id: str | None,
    created: int,
    prefix: str,
    country: str | None = None,
) -> dict[str, Any]:
    meta = {"user_id": user_id} if user_id else {}
    cus = ob.customer(
        id=cid,
        created=created,
        email=email,
        name=name,
        metadata=meta,
        invoice_prefix=prefix,
        currency="eur",
        country=country,
    )
    return st.put(cus)


def _sub_object(
    st: StripeState,
    sid: str,
    cus: dict[str, Any],
    price_ids: list[str],
    created: int,
    start: int,
    end: int,
    *,
    status: str = "active",
    default_pm: str | None = None,
) -> dict[str, Any]:
    items = []
    for n, pid in enumerate(price_ids, start=1):
        metered = st.objects[pid]["recurring"]["meter"] is not None
        items.append(
            ob.subscription_item(
                id=f"si_{sid[4:]}{n}",
                created=created,
                subscription=sid,
                price=pid,
                quantity=None if metered else 1,
                current_period_start=start,
                current_period_end=end,
            )
        )
    sub = ob.subscription(
        id=sid,
        created=created,
        customer=cus["id"],
        status=status,
        items=items,
        billing_cycle_anchor=start,
        default_payment_method=default_pm,
    )
    return st.put(sub)


def _subscription(
    st: StripeState,
    sid: str,
    cus: dict[str, Any],
    price_ids: list[str],
    current_start: int,
    *,
    periods: int,
    default_pm: str | None = None,
    last_outcome: str = "succeed",
) -> list[dict[str, Any]]:
    """A monthly subscription whose ``periods``-th period is the current one, with one
    invoice per period (paid, except a failed last one when ``last_outcome='fail'``)."""
    starts = [add_interval(current_start, "month", -k) for k in range(periods - 1, -1, -1)]
    first = starts[0]
    sub = _sub_object(
        st, sid, cus, price_ids, first, first, add_interval(first, "month"), default_pm=default_pm
    )
    invoices = []
    for i, s in enumerate(starts):
        e = add_interval(s, "month")
        for item in sub["items"]["data"]:
            item["current_period_start"], item["current_period_end"] = s, e
        specs = []
        for item in sub["items"]["data"]:
            price = st.objects[item["price"]]
            if price["recurring"]["meter"]:
                if i > 0:
                    specs.append(
                        billing.usage_line(st, sid, item["id"], price, cus["id"], starts[i - 1], s)
                    )
            else:
                specs.append(billing.cycle_line(st, sid, item["id"], price, 1, s, e))
        reason = "subscription_create" if i == 0 else "subscription_cycle"
        period = (s, s) if i == 0 else (starts[i - 1], s)
        inv = billing.create_invoice(st, cus, sub, specs, reason, period, at=s)
        last = i == len(starts) - 1
        outcome = last_outcome if last else "succeed"
        if inv["status"] == "open":
            billing.pay_invoice(st, inv, force=outcome, at=s + 60, raise_on_decline=False)
        invoices.append(inv)
    return invoices
