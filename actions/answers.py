"""What Fin is told: pure functions from domain data (snapshot, quote, refund preview) to the
response models, each with the `message` Fin says. No I/O here."""

from __future__ import annotations

from typing import Any

from actions.messages import say
from actions.outputs import money_out
from actions.outputs import plan_out as _plan_out
from actions.outputs import price_text as _price
from actions.refund_schemas import ChargeOut, RefundPreviewResponse, RefundResponse
from actions.schemas import (
    BillingStatusResponse,
    InvoiceLineOut,
    NextInvoiceResponse,
    NextPaymentOut,
    OpenInvoiceOut,
    PaymentMethodOut,
    PaymentOut,
    QuotePlanOut,
    UpgradeQuoteResponse,
)
from actions.subscription_answers import subscription_sentences, subscriptions_out
from billing.invoices import InvoicedSubscription
from billing.money import Money, format_day, format_money
from billing.previews import NextInvoice, NoQuote, UpgradeQuote
from billing.refund_policy import RefundRefused
from billing.refunds import RefundPreview, RefundResult
from billing.snapshot import (
    BillingSnapshot,
    Payment,
    PaymentMethodSummary,
)
from kernel.i18n import describe_failure

MAX_LINES = 5


# --- billing-status ---
def billing_status(
    snapshot: BillingSnapshot, locale: str, *, links: bool = False
) -> BillingStatusResponse:
    """`links`: include the open invoices' hosted pages (a verified match only)."""
    sub = snapshot.subscription
    plan = sub.plan if sub else None
    upcoming = snapshot.next_invoice
    failed = snapshot.failed_invoice
    failed_payment = next((p for p in snapshot.payments if p.status == "failed"), None)
    processing = next((p for p in snapshot.payments if p.status == "pending"), None)
    open_total = sum(i.amount_remaining.amount for i in snapshot.open_invoices)
    failure_reason = _failure_reason(failed_payment, locale) if failed else None
    method = snapshot.payment_method
    live = snapshot.live_subscriptions
    several = len(live) > 1
    if several:
        # "Next" is the first invoice of any subscription; each one's own is in its sentence.
        upcoming = snapshot.soonest_invoice

    message = say(
        "billing_status",
        locale,
        several=several,
        count=len(live),
        subscription_lines=subscription_sentences(snapshot, locale),
        plan=plan.product_name if plan else None,
        price=_price(plan, locale),
        interval=plan.interval if plan else None,
        status=sub.status if sub else "none",
        trial_end=format_day(sub.trial_end, locale) if sub and sub.trial_end else None,
        cancels=bool(sub and sub.cancel_at_period_end),
        period_end=format_day(sub.cancel_at or sub.current_period_end, locale) if sub else None,
        next_amount=upcoming.amount_due.format(locale) if upcoming else None,
        next_date=format_day(upcoming.date, locale) if upcoming and upcoming.date else None,
        method=_method_words(method),
        failed_amount=failed.amount_remaining.format(locale) if failed else None,
        failure_reason=failure_reason,
        open_count=len(snapshot.open_invoices),
        open_amount=format_money(open_total, snapshot.customer.currency, locale),
        processing_amount=processing.amount.format(locale) if processing else None,
    )
    primary = snapshot.next_invoice
    return BillingStatusResponse(
        customer_id=snapshot.customer.id,
        subscriptions=subscriptions_out(snapshot, locale),
        plan=_plan_out(plan, locale),
        status=sub.status if sub else "none",
        trial_end=sub.trial_end if sub else None,
        cancel_at_period_end=bool(sub and sub.cancel_at_period_end),
        current_period_end=sub.current_period_end if sub else None,
        next_payment=NextPaymentOut(amount=money_out(primary.amount_due, locale), date=primary.date)
        if primary
        else None,
        payment_method=_method_out(method),
        open_invoices=[
            OpenInvoiceOut(
                id=invoice.id,
                number=invoice.number,
                amount_remaining=money_out(invoice.amount_remaining, locale),
                payment_failed=invoice.attempt_count > 0,
                failure_reason=failure_reason if invoice is failed else None,
                next_payment_attempt=invoice.next_payment_attempt,
                hosted_invoice_url=invoice.hosted_invoice_url if links else None,
            )
            for invoice in snapshot.open_invoices
        ],
        recent_payments=[_payment_out(p, locale) for p in snapshot.last_payments],
        balance=money_out(snapshot.customer.balance, locale),
        message=message,
    )


# --- next-invoice ---
def next_invoice(found: NextInvoice, locale: str) -> NextInvoiceResponse:
    upcoming = found.upcoming
    if upcoming is None:
        return NextInvoiceResponse(
            customer_id=found.customer_id,
            has_upcoming_invoice=False,
            subscription_id=found.subscription_id,
            amount_due=None,
            total=None,
            date=None,
            lines=[],
            subscription_name=found.subscription_name,
            message=say(
                "next_invoice_none",
                locale,
                ends=format_day(found.ends, locale) if found.ends else None,
                subscription=found.subscription_name,
            ),
        )
    lines = sorted(upcoming.lines, key=lambda line: -abs(line.amount.amount))[:MAX_LINES]
    credit = upcoming.total.amount - upcoming.amount_due.amount
    return NextInvoiceResponse(
        customer_id=found.customer_id,
        has_upcoming_invoice=True,
        subscription_id=upcoming.subscription_id or None,
        subscription_name=found.subscription_name,
        amount_due=money_out(upcoming.amount_due, locale),
        total=money_out(upcoming.total, locale),
        date=upcoming.date,
        lines=[
            InvoiceLineOut(
                description=line.description,
                amount=money_out(line.amount, locale),
                proration=line.proration,
            )
            for line in lines
        ],
        message=say(
            "next_invoice",
            locale,
            amount=upcoming.amount_due.format(locale),
            date=format_day(upcoming.date, locale) if upcoming.date else None,
            credit=format_money(credit, upcoming.total.currency, locale) if credit > 0 else None,
            subscription=found.subscription_name,
        ),
    )


# --- upgrade-quote ---
def upgrade_quote(quoted: UpgradeQuote, locale: str) -> UpgradeQuoteResponse:
    quote = quoted.quote
    current, target = quote.current, quote.target
    return UpgradeQuoteResponse(
        customer_id=quote.customer_id,
        quotable=True,
        kind=quote.kind,
        subscription_id=quote.subscription_id,
        subscription_name=quoted.subscription_name,
        current_plan=QuotePlanOut(
            name=current.product_name,
            price_id=current.price_id,
            price=money_out(current.amount, locale) if current.amount else None,
            interval=current.interval,
        ),
        target_plan=QuotePlanOut(
            name=target.product_name,
            price_id=target.price_id,
            price=money_out(target.amount, locale),
            interval=target.interval,
        ),
        amount_due_now=money_out(quote.amount_now, locale),
        new_recurring_price=money_out(quote.new_recurring, locale),
        new_interval=target.interval,
        effective_date=quote.effective_date,
        proration_date=quote.proration_date,
        lines=[
            InvoiceLineOut(
                description=line.description,
                amount=money_out(line.amount, locale),
                proration=line.proration,
            )
            for line in quote.lines[:MAX_LINES]
        ],
        message=say(
            "upgrade_quote",
            locale,
            kind=quote.kind,
            current=current.product_name,
            target=target.product_name,
            now_amount=quote.amount_now.format(locale),
            charged_now=quote.amount_now.amount > 0,
            price=quote.new_recurring.format(locale),
            interval=target.interval,
            subscription=quoted.subscription_name,
        ),
    )


def no_quote(answer: NoQuote, locale: str) -> UpgradeQuoteResponse:
    customer_id, reason, current, target = (
        answer.customer_id,
        answer.reason,
        answer.current,
        answer.target_name,
    )
    return UpgradeQuoteResponse(
        customer_id=customer_id,
        quotable=False,
        reason=reason,
        subscription_name=answer.subscription_name,
        current_plan=QuotePlanOut(
            name=current.product_name,
            price_id=current.price_id,
            price=money_out(current.amount, locale) if current.amount else None,
            interval=current.interval,
        )
        if current
        else None,
        message=say(
            f"codes/{reason}",
            locale,
            current=current.product_name if current else None,
            target=target,
        ),
    )


# --- refunds ---
def refund_preview(
    preview: RefundPreview, locale: str, *, subscription: InvoicedSubscription | None = None
) -> RefundPreviewResponse:
    """`subscription`: the one the payment was for, named on the charge and in the message."""
    payment = preview.payment
    charge = _charge_out(payment, locale, subscription) if payment else None
    if preview.refusal is not None or preview.amount is None:
        refusal = preview.refusal or RefundRefused()
        return RefundPreviewResponse(
            customer_id=preview.customer_id,
            eligible=False,
            reason=refusal.code,
            amount=None,
            charge=charge,
            confirmation_token=None,
            expires_at=None,
            message=refusal_message(refusal, locale, payment=payment),
        )
    return RefundPreviewResponse(
        customer_id=preview.customer_id,
        eligible=True,
        reason=None,
        amount=money_out(preview.amount, locale),
        charge=charge,
        confirmation_token=preview.token,
        expires_at=preview.expires_at,
        message=say(
            "refund_preview",
            locale,
            amount=preview.amount.format(locale),
            partial=payment is not None and preview.amount.amount < payment.amount.amount,
            paid=payment.amount.format(locale) if payment else None,
            paid_on=format_day(payment.created, locale) if payment else None,
            subscription=subscription.name if subscription else None,
        ),
    )


def refund_done(result: RefundResult, locale: str) -> RefundResponse:
    return RefundResponse(
        customer_id=result.customer_id,
        refund_id=result.refund_id,
        refund_status=result.status,
        amount=money_out(result.amount, locale),
        charge_id=result.charge_id,
        replayed=result.replayed,
        message=say(
            "refund_done",
            locale,
            amount=result.amount.format(locale),
            method=_method_words_of(result.method_type, None, result.method_last4),
            status=result.status,
        ),
    )


def refusal_message(refusal: RefundRefused, locale: str, *, payment: Payment | None = None) -> str:
    values: dict[str, Any] = refusal.values
    currency = values.get("currency") or (payment.amount.currency if payment else "eur")
    return say(
        f"codes/{refusal.code}",
        locale,
        paid=payment.amount.format(locale) if payment else None,
        paid_on=format_day(payment.created, locale) if payment else None,
        requested=_formatted(values.get("requested"), currency, locale),
        remaining=_formatted(values.get("remaining"), currency, locale),
        max_amount=_formatted(values.get("max_amount"), currency, locale),
        max_age_days=values.get("max_age_days"),
        limit=values.get("limit"),
        window_days=values.get("window_days"),
    )


# --- helpers ---
def _formatted(amount: int | None, currency: str, locale: str) -> str | None:
    return format_money(amount, currency, locale) if amount is not None else None


def _method_out(method: PaymentMethodSummary | None) -> PaymentMethodOut | None:
    if method is None:
        return None
    return PaymentMethodOut(
        type=method.type,
        brand=method.brand,
        last4=method.last4,
        exp_month=method.exp_month,
        exp_year=method.exp_year,
    )


def _method_words(method: PaymentMethodSummary | None) -> dict[str, Any] | None:
    if method is None:
        return None
    return _method_words_of(method.type, method.brand, method.last4)


def _method_words_of(
    method_type: str | None, brand: str | None, last4: str | None
) -> dict[str, Any] | None:
    if method_type is None:
        return None
    return {"type": method_type, "brand": (brand or "").title() or None, "last4": last4}


def _failure_reason(payment: Payment | None, locale: str) -> str | None:
    if payment is None:
        return None
    return describe_failure(
        payment.failure_code, payment.failure_message, sepa=payment.is_sepa, locale=locale
    )


def _payment_out(payment: Payment, locale: str) -> PaymentOut:
    return PaymentOut(
        charge_id=payment.charge_id,
        amount=money_out(payment.amount, locale),
        amount_refunded=money_out(Money(payment.amount_refunded, payment.amount.currency), locale),
        status=payment.status,
        created=payment.created,
        payment_method_type=payment.method_type,
    )


def _charge_out(
    payment: Payment, locale: str, subscription: InvoicedSubscription | None
) -> ChargeOut:
    return ChargeOut(
        id=payment.charge_id,
        amount=money_out(payment.amount, locale),
        amount_refunded=money_out(Money(payment.amount_refunded, payment.amount.currency), locale),
        refundable=money_out(payment.refundable, locale),
        status=payment.status,
        created=payment.created,
        payment_method_type=payment.method_type,
        payment_method_last4=payment.method_last4,
        subscription_id=subscription.id if subscription else None,
        subscription_name=subscription.name if subscription else None,
    )
