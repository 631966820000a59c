"""Builders for every object kind the sandbox returns.

Each builder yields exactly the top-level key set of Stripe's example object for that kind
(API 2026-10-28.endive), with realistic values. Relations are ids; the server expands them.
"""

from __future__ import annotations

from typing import Any

API_VERSION = "2026-10-28.endive"

_ADDRESS_NULL = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}


def address(country: str | None = None) -> dict[str, Any]:
    """An address hash; Stripe always returns every key."""
    return {**_ADDRESS_NULL, "country": country}


def list_object(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    """A Stripe ``list`` object."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def customer(
    *,
    id: str,
    created: int,
    email: str | None,
    name: str | None,
    metadata: dict[str, str],
    balance: int = 0,
    currency: str | None = None,
    delinquent: bool = False,
    default_payment_method: str | None = None,
    invoice_prefix: str = "ABCD1234",
    next_invoice_sequence: int = 1,
    country: str | None = None,
) -> dict[str, Any]:
    """customer (subscriptions/sources/tax_ids are includable and not part of the default shape)."""
    return {
        "id": id,
        "object": "customer",
        "address": address(country),
        "balance": balance,
        "created": created,
        "currency": currency,
        "default_source": None,
        "delinquent": delinquent,
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": invoice_prefix,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": default_payment_method,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(metadata),
        "name": name,
        "next_invoice_sequence": next_invoice_sequence,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def product(
    *,
    id: str,
    created: int,
    name: str,
    metadata: dict[str, str],
    default_price: str | None,
    description: str | None = None,
    unit_label: str | None = None,
) -> dict[str, Any]:
    """product (type ``service``: plans are services)."""
    return {
        "id": id,
        "object": "product",
        "active": True,
        "created": created,
        "default_price": default_price,
        "description": description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": dict(metadata),
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": unit_label,
        "updated": created,
        "url": None,
    }


def price(
    *,
    id: str,
    created: int,
    product: str,
    unit_amount: int | None,
    interval: str,
    lookup_key: str | None,
    currency: str = "eur",
    unit_amount_decimal: str | None = None,
    meter: str | None = None,
    nickname: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A recurring price; metered prices carry ``recurring.meter`` and a decimal unit amount."""
    return {
        "id": id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": dict(metadata or {}),
        "nickname": nickname,
        "product": product,
        "recurring": {
            "interval": interval,
            "interval_count": 1,
            "meter": meter,
            "usage_type": "metered" if meter else "licensed",
            "trial_period_days": None,
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal
        if unit_amount_decimal is not None
        else str(unit_amount),
    }


def plan_from_price(p: dict[str, Any]) -> dict[str, Any]:
    """The legacy ``plan`` mirror Stripe still embeds in subscription items."""
    rec = p["recurring"]
    return {
        "id": p["id"],
        "object": "plan",
        "active": p["active"],
        "amount": p["unit_amount"],
        "amount_decimal": p["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": p["created"],
        "currency": p["currency"],
        "interval": rec["interval"],
        "interval_count": rec["interval_count"],
        "livemode": False,
        "metadata": p["metadata"],
        "meter": rec["meter"],
        "nickname": p["nickname"],
        "product": p["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": rec["usage_type"],
    }


def subscription_item(
    *,
    id: str,
    created: int,
    subscription: str,
    price: str,
    quantity: int | None,
    current_period_start: int,
    current_period_end: int,
) -> dict[str, Any]:
    """subscription_item; ``price`` is stored as an id and embedded when rendered."""
    return {
        "id": id,
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": created,
        "current_period_end": current_period_end,
        "current_period_start": current_period_start,
        "discounts": [],
        "metadata": {},
        "plan": None,
        "price": price,
        "quantity": quantity,
        "subscription": subscription,
        "tax_rates": [],
    }


def subscription(
    *,
    id: str,
    created: int,
    customer: str,
    status: str,
    items: list[dict[str, Any]],
    billing_cycle_anchor: int,
    default_payment_method: str | None = None,
    latest_invoice: str | None = None,
    trial_start: int | None = None,
    trial_end: int | None = None,
    canceled_at: int | None = None,
    ended_at: int | None = None,
    metadata: dict[str, str] | None = None,
    currency: str = "eur",
) -> dict[str, Any]:
    """subscription in the endive shape: no top-level periods, items carry them."""
    return {
        "id": id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": billing_cycle_anchor,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "flexible", "flexible": {"proration_discounts": "included"}},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": canceled_at,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if canceled_at else None,
        },
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": ended_at,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": list_object(items, f"/v1/subscription_items?subscription={id}"),
        "latest_invoice": latest_invoice,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "metadata": dict(metadata or {}),
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": trial_start,
    }


_BRAND_COUNTRY = {"visa": "US", "mastercard": "US", "amex": "US"}


def card_details(
    brand: str,
    last4: str,
    exp_month: int,
    exp_year: int,
    fingerprint: str,
    funding: str = "credit",
    country: str | None = None,
) -> dict[str, Any]:
    """The ``card`` hash of a card payment method."""
    return {
        "brand": brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": country or _BRAND_COUNTRY.get(brand, "US"),
        "display_brand": brand,
        "exp_month": exp_month,
        "exp_year": exp_year,
        "fingerprint": fingerprint,
        "funding": funding,
        "generated_from": None,
        "last4": last4,
        "networks": {"available": [brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def sepa_details(
    last4: str, bank_code: str, country: str, fingerprint: str, branch_code: str = ""
) -> dict[str, Any]:
    """The ``sepa_debit`` hash (Stripe gives no bank name)."""
    return {
        "bank_code": bank_code,
        "branch_code": branch_code,
        "country": country,
        "fingerprint": fingerprint,
        "generated_from": {"charge": None, "setup_attempt": None},
        "last4": last4,
    }


def payment_method(
    *,
    id: str,
    created: int,
    type: str,
    details: dict[str, Any],
    customer: str | None,
    name: str | None = None,
    email: str | None = None,
    country: str | None = None,
) -> dict[str, Any]:
    """payment_method: only the hash for its own ``type`` is present, as in the real API."""
    return {
        "id": id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": address(country),
            "email": email,
            "name": name,
            "phone": None,
            "tax_id": None,
        },
        type: details,
        "created": created,
        "customer": customer,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": type,
    }


def pm_details_for_charge(pm: dict[str, Any], mandate: str | None = None) -> dict[str, Any]:
    """``charge.payment_method_details`` derived from the payment method."""
    if pm["type"] == "card":
        c = pm["card"]
        return {
            "type": "card",
            "card": {
                "amount_authorized": None,
                "authorization_code": None,
                "brand": c["brand"],
                "checks": c["checks"],
                "country": c["country"],
                "exp_month": c["exp_month"],
                "exp_year": c["exp_year"],
                "extended_authorization": {"status": "disabled"},
                "fingerprint": c["fingerprint"],
                "funding": c["funding"],
                "incremental_authorization": {"status": "unavailable"},
                "installments": None,
                "last4": c["last4"],
                "mandate": None,
                "multicapture": {"status": "unavailable"},
                "network": c["brand"],
                "network_token": {"used": False},
                "network_transaction_id": None,
                "overcapture": {"maximum_amount_capturable": 0, "status": "unavailable"},
                "regulated_status": "unregulated",
                "three_d_secure": None,
                "wallet": None,
            },
        }
    s = pm["sepa_debit"]
    return {
        "type": "sepa_debit",
        "sepa_debit": {
            "bank_code": s["bank_code"],
            "branch_code": s["branch_code"],
            "country": s["country"],
            "expected_debit_date": None,
            "fingerprint": s["fingerprint"],
            "last4": s["last4"],
            "mandate": mandate,
        },
    }


def charge(
    *,
    id: str,
    created: int,
    amount: int,
    currency: str,
    customer: str | None,
    payment_intent: str | None,
    pm: dict[str, Any],
    status: str,
    failure_code: str | None = None,
    failure_message: str | None = None,
    description: str | None = None,
    billing_name: str | None = None,
    billing_email: str | None = None,
    mandate: str | None = None,
) -> dict[str, Any]:
    """charge; ``refunds`` is rendered live from the refunds store."""
    succeeded = status == "succeeded"
    return {
        "id": id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if succeeded else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": ("txn_" + id[3:]) if succeeded else None,
        "billing_details": {
            "address": address(),
            "email": billing_email,
            "name": billing_name,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "SANDBOX SAAS",
        "captured": succeeded,
        "created": created,
        "currency": currency,
        "customer": customer,
        "description": description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure_code,
        "failure_message": failure_message,
        "fraud_details": {},
        "livemode": False,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": _outcome(status, failure_code),
        "paid": succeeded,
        "payment_intent": payment_intent,
        "payment_method": pm["id"],
        "payment_method_details": pm_details_for_charge(pm, mandate),
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/sandbox_{id}",
        "refunded": False,
        "refunds": None,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def radar_blocked_outcome() -> dict[str, Any]:
    """A charge Radar's default block rule stopped before it reached the card network."""
    return {
        "advice_code": "do_not_try_again",
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "not_sent_to_network",
        "reason": "highest_risk_level",
        "risk_level": "highest",
        "seller_message": "Stripe blocked this payment as too risky.",
        "type": "blocked",
    }


def _outcome(status: str, failure_code: str | None) -> dict[str, Any]:
    if status == "failed":
        return {
            "advice_code": "try_again_later",
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "declined_by_network",
            "reason": failure_code,
            "risk_level": "normal",
            "seller_message": f"The bank returned the decline code `{failure_code}`.",
            "type": "issuer_declined",
        }
    return {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": "normal",
        "seller_message": "Payment complete.",
        "type": "authorized",
    }


def payment_intent(
    *,
    id: str,
    created: int,
    amount: int,
    currency: str,
    customer: str | None,
    payment_method: str | None,
    pm_type: str,
    status: str,
    latest_charge: str | None,
    description: str | None = None,
    last_payment_error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """payment_intent (off-session invoice payment)."""
    return {
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": amount if status == "succeeded" else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{id}_secret_sandbox",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": last_payment_error,
        "latest_charge": latest_charge,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": {pm_type: {}},
        "payment_method_types": [pm_type],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def line_item(
    *,
    id: str,
    invoice: str | None,
    amount: int,
    currency: str,
    description: str,
    period_start: int,
    period_end: int,
    quantity: int,
    price: dict[str, Any],
    subscription: str | None,
    subscription_item: str | None,
    proration: bool,
) -> dict[str, Any]:
    """line_item with endive ``parent`` and ``pricing``."""
    return {
        "id": id,
        "object": "line_item",
        "amount": amount,
        "currency": currency,
        "description": description,
        "discount_amounts": [],
        "discountable": not proration,  # Stripe: "Always false for prorations"
        "discounts": [],
        "invoice": invoice,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription,
                "subscription_item": subscription_item,
            },
            "type": "subscription_item_details",
        },
        "period": {"end": period_end, "start": period_start},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "subscription": subscription,
        "subtotal": amount,
        "taxes": [],
    }


def invoice(
    *,
    id: str,
    created: int,
    customer: dict[str, Any],
    subscription: str | None,
    lines: list[dict[str, Any]],
    status: str,
    billing_reason: str,
    period_start: int,
    period_end: int,
    number: str | None,
    hosted_invoice_url: str | None,
    starting_balance: int = 0,
    default_payment_method: str | None = None,
) -> dict[str, Any]:
    """invoice in the endive shape (no charge/payment_intent/paid/subscription)."""
    total = sum(li["amount"] for li in lines)
    net = total + starting_balance
    amount_due = max(0, net)
    return {
        "id": id,
        "object": "invoice",
        "account_country": "DE",
        "account_name": "Sandbox SaaS GmbH",
        "account_tax_ids": None,
        "amount_due": amount_due,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": amount_due,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": status == "draft",
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": "eur",
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": dict(customer["address"]) if customer["address"] else None,
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": hosted_invoice_url,
        "invoice_pdf": (hosted_invoice_url + "/pdf") if hosted_invoice_url else None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_object(lines, f"/v1/invoices/{id}/lines"),
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": number,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription},
            "type": "subscription_details",
        }
        if subscription
        else None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period_end,
        "period_start": period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": starting_balance,
        "statement_descriptor": None,
        "status": status,
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }


def invoice_payment(
    *,
    id: str,
    created: int,
    invoice: str,
    amount_requested: int,
    currency: str,
    payment_intent: str,
    status: str = "open",
) -> dict[str, Any]:
    """invoice_payment linking an invoice to the payment intent that (tries to) pay it."""
    return {
        "id": id,
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": amount_requested,
        "created": created,
        "currency": currency,
        "invoice": invoice,
        "is_default": True,
        "livemode": False,
        "payment": {"payment_intent": payment_intent, "type": "payment_intent"},
        "status": status,
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }


def refund(
    *,
    id: str,
    created: int,
    amount: int,
    charge: str,
    payment_intent: str | None,
    currency: str,
    reason: str | None,
    metadata: dict[str, str],
    pm_type: str,
    payment_method: str | None,
) -> dict[str, Any]:
    """refund (succeeds immediately in the sandbox)."""
    dest: dict[str, Any] = {
        "type": pm_type,
        pm_type: {
            "reference": None,
            "reference_status": "pending",
            "reference_type": "acquirer_reference_number",
            "type": "refund",
        }
        if pm_type == "card"
        else {},
    }
    return {
        "id": id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": "txn_" + id[3:],
        "charge": charge,
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "destination_details": dest,
        "metadata": dict(metadata),
        "payment_intent": payment_intent,
        "payment_method": payment_method,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def setup_intent(
    *,
    id: str,
    created: int,
    customer: str | None,
    payment_method: str | None,
    status: str,
    metadata: dict[str, str],
    pm_types: list[str],
) -> dict[str, Any]:
    """setup_intent (off-session usage)."""
    return {
        "id": id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": f"{id}_secret_sandbox",
        "created": created,
        "customer": customer,
        "description": None,
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": dict(metadata),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        }
        if "card" in pm_types
        else {},
        "payment_method_types": list(pm_types),
        "single_use_mandate": None,
        "status": status,
        "usage": "off_session",
    }


def checkout_session(
    *,
    id: str,
    created: int,
    mode: str,
    customer: str | None,
    currency: str | None,
    success_url: str | None,
    cancel_url: str | None,
    metadata: dict[str, str],
    url: str,
    pm_types: list[str],
    customer_email: str | None,
    client_reference_id: str | None,
) -> dict[str, Any]:
    """checkout.session (setup mode is what the product uses)."""
    return {
        "id": id,
        "object": "checkout.session",
        "adaptive_pricing": None,
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": None,
        "amount_total": None,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": customer,
        "customer_account": None,
        "customer_creation": None,
        "customer_details": None,
        "customer_email": customer_email,
        "discounts": None,
        "expires_at": created + 86400,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": None,
        "managed_payments": {"enabled": False},
        "metadata": dict(metadata),
        "mode": mode,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": list(pm_types),
        "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": success_url,
        "total_details": None,
        "ui_mode": "hosted",
        "url": url,
        "wallet_options": None,
    }


def portal_session(
    *,
    id: str,
    created: int,
    customer: str,
    return_url: str | None,
    url: str,
    flow: dict[str, Any] | None,
    configuration: str,
    locale: str | None = None,
) -> dict[str, Any]:
    """billing_portal.session."""
    return {
        "id": id,
        "object": "billing_portal.session",
        "configuration": configuration,
        "created": created,
        "customer": customer,
        "customer_account": None,
        "flow": flow,
        "livemode": False,
        "locale": locale,
        "on_behalf_of": None,
        "return_url": return_url,
        "url": url,
    }


CANCELLATION_REASONS = [
    "too_expensive",
    "missing_features",
    "switched_service",
    "unused",
    "other",
]


def portal_configuration(*, id: str, created: int, is_default: bool = False) -> dict[str, Any]:
    """billing_portal.configuration with every feature off (the create call turns them on)."""
    return {
        "id": id,
        "object": "billing_portal.configuration",
        "active": True,
        "application": None,
        "business_profile": {
            "headline": None,
            "privacy_policy_url": None,
            "terms_of_service_url": None,
        },
        "created": created,
        "default_return_url": None,
        "features": {
            "customer_update": {"allowed_updates": [], "enabled": False},
            "invoice_history": {"enabled": False},
            "payment_method_update": {"enabled": False, "payment_method_configuration": None},
            "subscription_cancel": {
                "cancellation_reason": {"enabled": False, "options": list(CANCELLATION_REASONS)},
                "enabled": False,
                "mode": "at_period_end",
                "proration_behavior": "none",
            },
            "subscription_update": {
                "billing_cycle_anchor": None,
                "default_allowed_updates": [],
                "enabled": False,
                "proration_behavior": "none",
                "schedule_at_period_end": {"conditions": []},
                "trial_update_behavior": "end_trial",
            },
        },
        "is_default": is_default,
        "livemode": False,
        "login_page": {"enabled": False, "url": None},
        "metadata": {},
        "name": None,
        "updated": created,
    }


def coupon(
    *,
    id: str,
    created: int,
    percent_off: float | None,
    amount_off: int | None,
    currency: str | None,
    duration: str,
    duration_in_months: int | None,
    name: str | None,
    metadata: dict[str, str],
    max_redemptions: int | None = None,
    redeem_by: int | None = None,
) -> dict[str, Any]:
    """coupon: a percent or an amount off, once, for some months or forever."""
    return {
        "id": id,
        "object": "coupon",
        "amount_off": amount_off,
        "created": created,
        "currency": currency,
        "duration": duration,
        "duration_in_months": duration_in_months,
        "livemode": False,
        "max_redemptions": max_redemptions,
        "metadata": dict(metadata),
        "name": name,
        "percent_off": percent_off,
        "redeem_by": redeem_by,
        "times_redeemed": 0,
        "valid": True,
    }


def discount(
    *,
    id: str,
    coupon: str,
    customer: str,
    start: int,
    end: int | None,
    subscription: str | None,
    invoice: str | None = None,
) -> dict[str, Any]:
    """discount: a coupon applied to a subscription (``source.coupon`` is the coupon id)."""
    return {
        "id": id,
        "object": "discount",
        "checkout_session": None,
        "customer": customer,
        "customer_account": None,
        "end": end,
        "invoice": invoice,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": coupon, "type": "coupon"},
        "start": start,
        "subscription": subscription,
        "subscription_item": None,
    }


def tax_id(
    *,
    id: str,
    created: int,
    customer: str,
    type: str,
    value: str,
    country: str | None,
    verification_status: str | None,
) -> dict[str, Any]:
    """tax_id of a customer (``verification`` is null for types Stripe does not verify)."""
    return {
        "id": id,
        "object": "tax_id",
        "country": country,
        "created": created,
        "customer": customer,
        "customer_account": None,
        "livemode": False,
        "owner": {"customer": customer, "customer_account": None, "type": "customer"},
        "type": type,
        "value": value,
        "verification": {
            "status": verification_status,
            "verified_address": None,
            "verified_name": None,
        }
        if verification_status
        else None,
    }


def deleted(kind: str, oid: str) -> dict[str, Any]:
    """The body of a DELETE: ``{"id", "object", "deleted": true}``."""
    return {"id": oid, "object": kind, "deleted": True}


def meter(*, id: str, created: int, display_name: str, event_name: str) -> dict[str, Any]:
    """billing.meter (sum aggregation, customer mapped by payload key)."""
    return {
        "id": id,
        "object": "billing.meter",
        "created": created,
        "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
        "default_aggregation": {"formula": "sum"},
        "display_name": display_name,
        "event_name": event_name,
        "event_time_window": None,
        "livemode": False,
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "updated": created,
        "value_settings": {"event_payload_key": "value"},
    }


def meter_event_summary(
    *, id: str, meter: str, start: int, end: int, value: float
) -> dict[str, Any]:
    """billing.meter_event_summary."""
    return {
        "id": id,
        "object": "billing.meter_event_summary",
        "aggregated_value": value,
        "end_time": end,
        "livemode": False,
        "meter": meter,
        "start_time": start,
    }


def meter_event(
    *, created: int, event_name: str, identifier: str, payload: dict[str, str], timestamp: int
) -> dict[str, Any]:
    """billing.meter_event (the create response)."""
    return {
        "object": "billing.meter_event",
        "created": created,
        "event_name": event_name,
        "identifier": identifier,
        "livemode": False,
        "payload": dict(payload),
        "timestamp": timestamp,
    }


def event(
    *,
    id: str,
    created: int,
    type: str,
    obj: dict[str, Any],
    previous_attributes: dict[str, Any] | None,
    request_id: str | None,
    idempotency_key: str | None,
    pending_webhooks: int,
) -> dict[str, Any]:
    """event (v1 snapshot event)."""
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }


def alert_triggered(
    *, alert_id: str, meter_obj: dict[str, Any], customer: str, gte: int, value: int, created: int
) -> dict[str, Any]:
    """billing.alert_triggered (payload of ``billing.alert.triggered``)."""
    return {
        "object": "billing.alert_triggered",
        "created": created,
        "customer": customer,
        "livemode": False,
        "value": value,
        "alert": {
            "id": alert_id,
            "object": "billing.alert",
            "alert_type": "usage_threshold",
            "livemode": False,
            "status": "active",
            "title": f"{meter_obj['display_name']} usage",
            "usage_threshold": {
                "filters": [{"customer": customer, "type": "customer"}],
                "gte": gte,
                "meter": meter_obj["id"],
                "recurrence": "one_time",
            },
        },
    }
