"""The payment recovery card: a failed payment with Retry and Pay by card, and its outcomes."""

from __future__ import annotations

from billing.failed_invoices import InvoiceRecovery
from billing.money import format_moment
from billing.retry import RetryResult
from canvas_kit.components import (
    Button,
    Component,
    Text,
    UrlAction,
)
from canvas_kit.labels import (
    day,
    failure_line,
    money,
    plain_reason,
)
from kernel.i18n import t
from messenger.cards.common import (
    ambiguous_card,
    unavailable_card,
)
from messenger.cards.subscriptions import for_subscription


# --- payment recovery ---
def recovery_card(
    invoice: InvoiceRecovery | None,
    *,
    locale: str,
    pay_by_card_url: str | None,
    result: RetryResult | None = None,
    ambiguous: bool = False,
    shown_id: str | None = None,
    subscription: str | None = None,
) -> list[Component]:
    """The failed invoice with Retry / Pay by card, or "processing", "paid", "all settled".
    `shown_id` (the signed invoice and amount on screen) becomes the header's component id, so
    a Retry press can be matched to what its card showed. `subscription` names the failed
    invoice's subscription when the customer has several."""
    if result is not None and result.kind == "unavailable":
        return unavailable_card(locale=locale, retry_id="retry_payment")
    if invoice is None or invoice.state in ("open", "closed"):
        return [
            Text(text=t("**All settled**", locale)),
            Text(text=t("There is no failed payment on your account.", locale)),
        ]
    amount = money(invoice.amount, locale)
    if invoice.state == "paid":
        if result is not None and result.kind == "paid":
            return [
                Text(text=t("**Paid, thank you!**", locale)),
                Text(text=t("Your payment of %(amount)s went through.", locale, amount=amount)),
            ]
        return [
            Text(text=t("**All settled**", locale)),
            Text(text=t("There is no failed payment on your account.", locale)),
        ]
    in_progress = result is not None and result.kind == "in_progress"
    if invoice.state == "processing" or in_progress:
        # Another click already holds this retry: for this customer it is processing too.
        if in_progress:
            status = t("Your retry is already being processed.", locale)
        elif invoice.is_sepa:
            status = t(
                "SEPA direct debits take a few business days. There is nothing else to do; we'll "
                "tell you if anything goes wrong.",
                locale,
            )
        else:
            status = t("This card shows the result as soon as your bank confirms it.", locale)
        return [
            Text(
                id=shown_id,
                text=t("**Your payment of %(amount)s is processing**", locale, amount=amount),
            ),
            Text(text=status),
            Button(id="refresh", label=t("Refresh", locale), style="secondary"),
        ]

    components: list[Component] = [
        Text(
            id=shown_id,
            text=t("**Your payment of %(amount)s didn't go through**", locale, amount=amount),
        )
    ]
    if invoice.number:
        components.append(
            Text(
                text=t(
                    "Invoice %(number)s from %(date)s",
                    locale,
                    number=invoice.number,
                    date=day(invoice.failed_at or invoice.created, locale),
                ),
                style="muted",
            )
        )
    components += for_subscription(subscription, locale)
    components.append(Text(text=failure_line(invoice, locale)))
    if ambiguous:
        # Several Stripe customers match this contact: show, but offer nothing that moves money.
        return components + ambiguous_card(locale=locale)
    notice = _retry_notice(result, locale)
    if notice is not None:
        components.append(Text(text=notice, style="error"))
    else:
        if invoice.is_sepa:
            hint = t(
                "This often happens when the account was briefly short. Retry, or pay by card "
                "instead?",
                locale,
            )
        else:
            hint = t("Retry the payment, or pay by card instead.", locale)
        components.append(Text(text=hint, style="muted"))
    components.append(Button(id="retry_payment", label=t("Retry payment", locale)))
    if pay_by_card_url:
        components.append(
            Button(
                id="pay_by_card",
                label=t("Pay by card instead", locale),
                style="secondary",
                action=UrlAction(url=pay_by_card_url),
            )
        )
    return components


def _retry_notice(result: RetryResult | None, locale: str) -> str | None:
    if result is None:
        return None
    if result.kind == "declined":
        invoice = result.invoice
        reason = plain_reason(invoice.failure_code, invoice.failure_message, locale)
        return t(
            "The retry didn't go through: %(reason)s. You can pay by card instead.",
            locale,
            reason=reason,
        )
    if result.kind == "rejected":
        # Stripe's refusal text is written for developers; the agent sees it, the customer not.
        return t("The payment couldn't be retried right now. You can pay by card instead.", locale)
    if result.kind == "cooldown" and result.retry_after is not None:
        return t(
            "We tried this payment a moment ago. You can retry after %(time)s, or pay by card now.",
            locale,
            time=format_moment(result.retry_after, locale),
        )
    if result.kind == "changed":
        return t(
            "This payment changed since the card was shown, so nothing was charged. Check the "
            "amount above and retry if it is right.",
            locale,
        )
    return None
