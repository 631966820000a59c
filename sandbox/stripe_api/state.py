"""StripeState: the in-memory store, clock, ids, events, rendering and expansion.

Business rules (paying invoices, prorations, refunds) live in ``billing.py`` and work on this
store; the HTTP layer lives in ``server.py``.
"""

from __future__ import annotations

import contextvars
import copy
import pickle
import secrets
import string
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import objects as ob
from .errors import ApiError, invalid, missing
from .webhooks import WebhookDispatcher

_ALNUM = string.ascii_letters + string.digits
# Byte b ↦ _ALNUM[b % 62], so an id is one read of random bytes and one translate.
_ALNUM_BY_BYTE = bytes(ord(_ALNUM[b % len(_ALNUM)]) for b in range(256))

# (request id, idempotency key) of the API request being served; stamped on events.
request_context: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar(
    "stripe_request_context", default=(None, None)
)

# Words Stripe uses in "No such <label>: 'id'" messages.
KIND_LABELS = {
    "customer": "customer",
    "product": "product",
    "price": "price",
    "subscription": "subscription",
    "subscription_item": "subscription item",
    "payment_method": "PaymentMethod",
    "charge": "charge",
    "payment_intent": "payment_intent",
    "invoice": "invoice",
    "invoice_payment": "invoice_payment",
    "refund": "refund",
    "checkout.session": "checkout.session",
    "billing_portal.session": "billing_portal.session",
    "setup_intent": "setupintent",
    "billing.meter": "billing.meter",
    "event": "event",
    "coupon": "coupon",
    "discount": "discount",
    "tax_id": "tax_id",
    "billing_portal.configuration": "configuration",
}

# Fields whose id values can be replaced by the object via ``expand[]``.
EXPANDABLE = {
    "customer",
    "default_payment_method",
    "latest_invoice",
    "product",
    "payment_intent",
    "latest_charge",
    "payment_method",
    "charge",
    "invoice",
    "setup_intent",
    "subscription",
    "subscription_item",
    "default_source",
    "balance_transaction",
    "default_price",
    "price",
    "mandate",
    "on_behalf_of",
    "application",
    "review",
    "source_transfer",
    "test_clock",
    "pending_setup_intent",
    "schedule",
    "configuration",
    "failure_balance_transaction",
    "latest_attempt",
    "meter",
    "application_fee",
    "transfer",
    "coupon",
    "discount",
}
# Fields holding a list of ids, each replaced by its object via ``expand[]``.
EXPANDABLE_LISTS = {"discounts"}

# Includable properties: absent unless expanded (kind, field).
INCLUDABLE = {
    ("customer", "subscriptions"),
    ("customer", "sources"),
    ("customer", "tax_ids"),
    ("invoice", "payments"),
}

MAX_EXPAND_DEPTH = 4


def money(cents: int, currency: str = "eur") -> str:
    """``€29.00`` style amounts used in Stripe error messages and line descriptions."""
    sym = {"eur": "€", "usd": "$", "gbp": "£"}.get(currency, currency.upper() + " ")
    sign = "-" if cents < 0 else ""
    return f"{sign}{sym}{abs(cents) / 100:,.2f}"


def round_half_up(value: Decimal) -> int:
    """Stripe rounds fractional minor units half-up."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class StripeState:
    """All sandbox Stripe data plus the knobs the control API turns.

    Why one object: tests and the demo need to reset, inspect and time-travel the whole world
    at once, and the server stays a thin translation of HTTP to these methods.
    """

    def __init__(
        self,
        *,
        latency_ms: float = 0,
        sepa_settlement_seconds: int = 120,
        public_base_url: str | None = None,
        webhook_endpoints: list[dict[str, str]] | None = None,
        webhook_delay_seconds: float = 0.05,
        webhook_retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0),
    ) -> None:
        self.latency_ms = latency_ms
        self.sepa_settlement_seconds = sepa_settlement_seconds
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.webhooks = WebhookDispatcher(
            delay_seconds=webhook_delay_seconds, retry_delays=webhook_retry_delays
        )
        for ep in webhook_endpoints or []:
            self.webhooks.add_endpoint(ep["url"], ep["secret"])
        self.faults: list[dict[str, Any]] = []
        self.request_log: list[dict[str, Any]] = []
        # Stripe's basic rate limiter (per account and second; test mode allows 25): None = off.
        self.rate_limit_per_second: float | None = None
        self.recent_requests: list[float] = []
        # Whether the world is exactly as `seed.fresh_demo_world` left it at `seeded_at`
        # (monotonic): the server clears it for every request that may change the world.
        self.untouched = False
        self.seeded_at = 0.0
        self.clear()

    # ------------------------------------------------------------------ store
    # What `clear()` forgets: the world a snapshot holds.
    _WORLD = (
        "objects",
        "private",
        "by_kind",
        "_seq",
        "_counter",
        "events",
        "meter_events",
        "idempotency",
        "clock_offset",
        "quiet",
        "trial_warned",
    )

    def snapshot(self) -> bytes:
        """The world as it is (objects, events, idempotency keys, clock), to `restore` later.
        Endpoints, knobs and the request log are not part of it."""
        return pickle.dumps({name: getattr(self, name) for name in self._WORLD}, protocol=5)

    def restore(self, snapshot: bytes) -> None:
        """Put the world back as `snapshot` took it: a fresh copy, shared with nothing."""
        for name, value in pickle.loads(snapshot).items():
            setattr(self, name, value)

    def clear(self) -> None:
        """Forget all objects, events and idempotency keys (endpoints and knobs stay)."""
        self.objects: dict[str, dict[str, Any]] = {}
        self.private: dict[str, dict[str, Any]] = {}
        self.by_kind: dict[str, list[str]] = {}
        self._seq: dict[str, int] = {}
        self._counter = 0
        self.events: list[dict[str, Any]] = []
        self.meter_events: list[dict[str, Any]] = []
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.clock_offset = 0.0
        self.quiet = False  # True while seeding: no events
        self.trial_warned: set[str] = set()

    def over_rate_limit(self) -> bool:
        """Count one API request; True if it exceeds the per-second limit (it is refused)."""
        if not self.rate_limit_per_second:
            return False
        now = time.monotonic()
        self.recent_requests = [t for t in self.recent_requests if now - t < 1.0]
        if len(self.recent_requests) >= self.rate_limit_per_second:
            return True
        self.recent_requests.append(now)
        return False

    def now(self) -> int:
        """Sandbox clock: real time plus the offset moved by ``/_sandbox/clock/advance``."""
        return int(time.time() + self.clock_offset)

    def new_id(self, prefix: str, length: int = 24) -> str:
        """``prefix_`` + random alphanumerics, like Stripe ids. One read of random bytes per id
        (a `secrets.choice` per character made seeding the demo world cost ~0.1 s of CPU; a
        generator over the bytes, another 20 ms)."""
        return prefix + "_" + secrets.token_bytes(length).translate(_ALNUM_BY_BYTE).decode()

    def put(self, obj: dict[str, Any], private: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store (or replace) an object by id."""
        oid = obj["id"]
        kind = obj["object"]
        if oid not in self.objects:
            self._counter += 1
            self._seq[oid] = self._counter
            self.by_kind.setdefault(kind, []).append(oid)
        self.objects[oid] = obj
        if private is not None:
            self.private.setdefault(oid, {}).update(private)
        return obj

    def forget(self, oid: str) -> None:
        """Remove a deleted object (its events stay)."""
        obj = self.objects.pop(oid, None)
        if obj is not None:
            self.by_kind[obj["object"]].remove(oid)
        self.private.pop(oid, None)

    def find(self, oid: str | None, kind: str | None = None) -> dict[str, Any] | None:
        """Object by id (optionally of a kind) or None."""
        if not oid:
            return None
        obj = self.objects.get(oid)
        if obj is None or (kind and obj["object"] != kind):
            return None
        return obj

    def get(self, kind: str, oid: str, param: str = "id") -> dict[str, Any]:
        """Object by id or Stripe's 404 ``resource_missing``."""
        obj = self.find(oid, kind)
        if obj is None:
            raise missing(KIND_LABELS.get(kind, kind), oid, param)
        return obj

    def priv(self, oid: str) -> dict[str, Any]:
        """Sandbox-only data kept beside an object (IBAN, card number, processing since...)."""
        return self.private.setdefault(oid, {})

    def all(self, kind: str) -> list[dict[str, Any]]:
        """All objects of a kind, newest first (created desc, then insertion desc)."""
        objs = [self.objects[i] for i in self.by_kind.get(kind, [])]
        return sorted(objs, key=lambda o: (o.get("created") or 0, self._seq[o["id"]]), reverse=True)

    # -------------------------------------------------------------- rendering
    def render(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A response copy of a stored object, with live nested data filled in."""
        out = copy.deepcopy(obj)
        kind = out["object"]
        if kind == "subscription":
            out["items"]["data"] = [self._render_item(i) for i in out["items"]["data"]]
        elif kind == "subscription_item":
            out = self._render_item(out)
        elif kind == "invoice" and isinstance(out.get("hosted_invoice_url"), str):
            base = self.public_base_url or "http://127.0.0.1"
            for key in ("hosted_invoice_url", "invoice_pdf"):
                if out[key]:
                    out[key] = out[key].replace("{base}", base)
        elif kind == "charge":
            refunds = [copy.deepcopy(r) for r in self.all("refund") if r["charge"] == out["id"]]
            out["refunds"] = ob.list_object(refunds, f"/v1/charges/{out['id']}/refunds")
        return out

    def _render_item(self, item: dict[str, Any]) -> dict[str, Any]:
        price = self.objects[item["price"]] if isinstance(item["price"], str) else item["price"]
        item["price"] = copy.deepcopy(price)
        item["plan"] = ob.plan_from_price(price)
        return item

    def subscriptions_list(self, customer_id: str) -> dict[str, Any]:
        """The includable ``customer.subscriptions`` list (non-canceled subscriptions)."""
        subs = [
            self.render(s)
            for s in self.all("subscription")
            if s["customer"] == customer_id and s["status"] != "canceled"
        ]
        return ob.list_object(subs, f"/v1/customers/{customer_id}/subscriptions")

    def payments_list(self, invoice_id: str) -> dict[str, Any]:
        """The includable ``invoice.payments`` list."""
        pays = [copy.deepcopy(p) for p in self.all("invoice_payment") if p["invoice"] == invoice_id]
        return ob.list_object(pays, f"/v1/invoices/{invoice_id}/payments")

    def tax_ids_list(self, customer_id: str) -> dict[str, Any]:
        """The includable ``customer.tax_ids`` list (newest first)."""
        ids = [copy.deepcopy(t) for t in self.all("tax_id") if t["customer"] == customer_id]
        return ob.list_object(ids, f"/v1/customers/{customer_id}/tax_ids")

    # -------------------------------------------------------------- expansion
    def expand(self, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        """Apply ``expand[]`` paths in place (dotted, ``data.`` for lists, at most 4 levels)."""
        for path in paths:
            segs = [s for s in path.split(".")]
            if any(not s for s in segs):
                raise invalid(f"Invalid expand path: {path}", "expand")
            if len(segs) > MAX_EXPAND_DEPTH:
                raise invalid(
                    f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property. "
                    f"Property: {path}",
                    "expand",
                )
            self._expand_node(obj, segs, path)
        return obj

    def _expand_node(self, node: Any, segs: list[str], path: str) -> None:
        if not isinstance(node, dict):
            return
        key, rest = segs[0], segs[1:]
        if key == "data" and node.get("object") in ("list", "search_result"):
            if not rest:
                raise invalid(f"This property cannot be expanded ({key}).", "expand")
            for item in node["data"]:
                self._expand_node(item, rest, path)
            return
        kind = node.get("object")
        if key not in node:
            if (kind, key) in INCLUDABLE:
                node[key] = self._includable(node, key)
            else:
                raise invalid(f"This property cannot be expanded ({key}).", "expand")
        val = node[key]
        if isinstance(val, list):
            if key in EXPANDABLE_LISTS:
                node[key] = [
                    self.render(self.objects[v]) if isinstance(v, str) and v in self.objects else v
                    for v in val
                ]
            if rest:
                for item in node[key]:
                    self._expand_node(item, rest, path)
            return
        if isinstance(val, str) and key in EXPANDABLE:
            target = self.objects.get(val)
            if target is not None:
                node[key] = self.render(target)
        elif isinstance(val, str) or (
            not rest and isinstance(val, dict) and "id" not in val and val.get("object") != "list"
        ):
            raise invalid(f"This property cannot be expanded ({key}).", "expand")
        if rest and node[key] is not None:
            self._expand_node(node[key], rest, path)

    def _includable(self, node: dict[str, Any], key: str) -> dict[str, Any]:
        if key == "subscriptions":
            return self.subscriptions_list(node["id"])
        if key == "payments":
            return self.payments_list(node["id"])
        if key == "tax_ids":
            return self.tax_ids_list(node["id"])
        return ob.list_object([], f"/v1/customers/{node['id']}/{key}")

    # ----------------------------------------------------------------- events
    @staticmethod
    def previous_attributes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """What an ``*.updated`` event reports: the old values of the changed fields; inside a
        plain hash (an address, ``pause_collection``) only its changed keys, like Stripe."""
        prev: dict[str, Any] = {}
        for key, old in before.items():
            new = after.get(key)
            if old == new:
                continue
            if (
                isinstance(old, dict)
                and isinstance(new, dict)
                and "object" not in old
                and "object" not in new
            ):
                prev[key] = StripeState.previous_attributes(old, new)
            else:
                prev[key] = old
        return prev

    def emit(
        self, type_: str, obj: dict[str, Any], previous_attributes: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Record an event with a snapshot of ``obj`` and queue it for webhook delivery."""
        if self.quiet:
            return None
        req_id, idem = request_context.get()
        snapshot = obj if obj.get("object") == "billing.alert_triggered" else self.render(obj)
        evt = ob.event(
            id=self.new_id("evt"),
            created=self.now(),
            type=type_,
            obj=snapshot,
            previous_attributes=previous_attributes,
            request_id=req_id,
            idempotency_key=idem,
            pending_webhooks=len(self.webhooks.endpoints),
        )
        self.put(evt)
        self.events.append(evt)
        self.webhooks.enqueue(evt)
        return evt

    # ------------------------------------------------------------------ clock
    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the clock forward and run due time-based work."""
        if seconds < 0:
            raise invalid("seconds must be >= 0", "seconds")
        self.clock_offset += seconds
        return self.run_due_work()

    def run_due_work(self) -> dict[str, Any]:
        """SEPA settlement of due processing payments; trial_will_end warnings; pauses that
        end, renewals and cancellations at period end."""
        from . import billing, lifecycle

        now = self.now()
        settled = []
        for pi in list(self.all("payment_intent")):
            p = self.priv(pi["id"])
            if (
                pi["status"] == "processing"
                and now - p.get("processing_since", now) >= self.sepa_settlement_seconds
            ):
                settled.append(billing.settle_payment_intent(self, pi["id"]))
        warned = []
        for sub in self.all("subscription"):
            te = sub.get("trial_end")
            if (
                sub["status"] == "trialing"
                and te
                and 0 < te - now <= 3 * 86400
                and sub["id"] not in self.trial_warned
            ):
                self.trial_warned.add(sub["id"])
                self.emit("customer.subscription.trial_will_end", sub)
                warned.append(sub["id"])
        renewed = lifecycle.run_due_subscriptions(self)
        return {
            "now": now,
            "settled": settled,
            "trial_will_end": warned,
            "renewed": renewed,
        }

    # ----------------------------------------------------------------- meters
    def usage(self, meter_id: str, customer: str, start: int, end: int) -> Decimal:
        """Sum of meter event values for a customer in ``[start, end)``."""
        m = self.get("billing.meter", meter_id)
        total = Decimal(0)
        for ev in self.meter_events:
            if (
                ev["event_name"] == m["event_name"]
                and ev["customer"] == customer
                and start <= ev["timestamp"] < end
            ):
                total += ev["value"]
        return total

    def record_meter_event(
        self, event_name: str, customer: str, value: Decimal, timestamp: int, identifier: str
    ) -> None:
        """Store a meter event (deduplicated on identifier, as Stripe does)."""
        if any(e["identifier"] == identifier for e in self.meter_events):
            return
        self.meter_events.append(
            {
                "event_name": event_name,
                "customer": customer,
                "value": value,
                "timestamp": timestamp,
                "identifier": identifier,
            }
        )

    # -------------------------------------------------------------- utilities
    def base_url(self, fallback: str) -> str:
        """Public base URL for hosted pages (configured, else the request's)."""
        return (self.public_base_url or fallback).rstrip("/")

    def require_customer_pm(self, customer_id: str, pm_id: str, param: str) -> dict[str, Any]:
        """A payment method that exists and belongs to the customer."""
        pm = self.get("payment_method", pm_id, param)
        if pm["customer"] != customer_id:
            raise ApiError(
                400,
                f"The payment method `{pm_id}` does not belong to the customer `{customer_id}`."
                " Please use a payment method attached to this customer.",
                param=param,
            )
        return pm
