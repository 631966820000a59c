"""The Messenger cards a customer sees (billing status, savings, payment recovery, trial) and the
configure screen an admin picks them on. Pure: domain data in, Canvas Kit components out; the
copy comes from `kernel.i18n` in the customer's language.
"""

from __future__ import annotations

from datetime import datetime

from babel.numbers import format_decimal

from billing.alerts import Alert, billing_alerts, days_until
from billing.money import Money, babel_locale, format_moment
from billing.plan_switch import SWITCHABLE_STATUSES, PlanSwitchResult
from billing.quotes import PlanChangeQuote
from billing.recovery import InvoiceRecovery
from billing.retry import RetryResult
from billing.savings import SavingsOption
from billing.snapshot import BillingSnapshot
from canvas_kit.components import (
    Button,
    Component,
    DataTable,
    FieldValue,
    ListComponent,
    ListItem,
    SubmitAction,
    Text,
    UrlAction,
)
from canvas_kit.labels import (
    day,
    failure_line,
    money,
    payment_method_label,
    plain_reason,
    plan_line,
    status_rows,
)
from kernel.i18n import t

CARD_TYPES = ("billing_status", "savings", "payment_recovery", "trial")


# --- configure (admin) ---
def configure_card(locale: str) -> list[Component]:
    return [
        Text(text=t("m.configure.header", locale)),
        Text(text=t("m.configure.hint", locale), style="muted"),
        ListComponent(
            items=[
                ListItem(
                    id=f"card:{card}",
                    title=t(f"m.card.{card}", locale),
                    subtitle=t(f"m.card.{card}.hint", locale),
                    action=SubmitAction(),  # a row without one can't be picked in Intercom
                )
                for card in CARD_TYPES
            ]
        ),
    ]


# --- billing status ---
def billing_status_card(
    snapshot: BillingSnapshot,
    *,
    locale: str,
    now: datetime,
    add_payment_method_url: str | None = None,
    trial_warning_days: int = 3,
) -> list[Component]:
    sub = snapshot.subscription
    rows = status_rows(snapshot, locale, next_label="m.field.next_payment")
    components: list[Component] = [
        Text(text=t("m.status.header", locale)),
        Text(text=plan_line(sub.plan if sub else None, locale)),
        DataTable(items=rows),
    ]
    actions = [
        line
        for alert in billing_alerts(snapshot, now, trial_warning_days=trial_warning_days)
        if (line := _customer_alert(alert, locale)) is not None
    ]
    if actions:
        components += [
            Text(text=text, style="error" if text.startswith("⚠") else "muted") for text in actions
        ]
    else:
        components.append(Text(text=t("m.status.all_good", locale), style="muted"))
    if snapshot.failed_invoice is not None:
        components.append(
            Button(id="show:payment_recovery", label=t("m.button.fix_payment", locale))
        )
    # The link is only minted for a trial without a payment method (and never when ambiguous).
    if add_payment_method_url:
        components.append(_add_payment_method_button(add_payment_method_url, locale))
    return components


def _customer_alert(alert: Alert, locale: str) -> str | None:
    """The alerts a customer should see, in their words (internal flags stay internal)."""
    if alert.kind == "payment_failed" and alert.payment is not None:
        payment = alert.payment
        return t(
            "m.action.payment_failed",
            locale,
            amount=money(payment.amount, locale),
            reason=plain_reason(payment.failure_code, payment.failure_message, locale),
        )
    if alert.kind == "payment_processing":
        return t("m.action.processing", locale, amount=money(alert.amount, locale))
    if alert.kind == "trial_ending" and alert.severity == "error":
        return t("m.action.trial_no_pm", locale, date=day(alert.date, locale))
    if alert.kind == "card_expired":
        return t("m.action.card_expired", locale)
    if alert.kind == "cancels":
        return t("m.action.cancels", locale, date=day(alert.date, locale))
    return None


# --- savings ---
def target_label(option: SavingsOption | PlanChangeQuote, locale: str) -> str:
    """ "Pro, yearly" for an interval change, the product name for another tier."""
    if isinstance(option, SavingsOption):
        name, interval = option.target.product_name, option.target.interval
        same_product = option.kind == "yearly"
    else:
        name, interval = option.target.product_name, option.target.interval
        same_product = option.kind == "interval_change"
    if same_product and interval == "year":
        return t("m.breakdown.yearly", locale, plan=name)
    return name


def savings_card(
    snapshot: BillingSnapshot, option: SavingsOption | None, *, locale: str
) -> list[Component]:
    sub = snapshot.subscription
    if sub is not None and sub.live and sub.status not in SWITCHABLE_STATUSES:
        # past_due, unpaid, ...: the open payment comes first; no offer until it is settled.
        components: list[Component] = [
            Text(text=t("m.savings.blocked.header", locale)),
            Text(text=t("m.switch.not_switchable", locale)),
        ]
        if snapshot.failed_invoice is not None:
            components.append(
                Button(id="show:payment_recovery", label=t("m.button.fix_payment", locale))
            )
        return components
    if option is None:
        if sub is None or not sub.live or sub.plan is None:
            return [
                Text(text=t("m.savings.fits.header", locale)),
                _muted("m.savings.no_plan", locale),
            ]
        return [
            Text(text=t("m.savings.fits.header", locale)),
            Text(text=t("m.savings.fits.body", locale, plan=sub.plan.product_name)),
        ]
    values = {
        "plan": option.current.product_name,
        "target": option.target.product_name,
        "per_month": money(option.saving_per_month, locale),
        "per_year": money(option.saving_per_year, locale),
    }
    return [
        Text(text=t("m.savings.header", locale, per_year=values["per_year"])),
        Text(text=t(f"m.savings.{option.kind}", locale, **values)),
        Button(
            id="switch_plan", label=t("m.button.switch", locale, plan=target_label(option, locale))
        ),
        Button(id="show_savings", label=t("m.button.show_me", locale), style="secondary"),
    ]


def savings_breakdown_card(option: SavingsOption, *, locale: str) -> list[Component]:
    per_month = "m.value.per_month"
    if option.kind == "yearly":
        current_amount = option.current.amount or option.current_per_month
        rows = [
            FieldValue(
                field=t("m.breakdown.monthly", locale, plan=option.current.product_name),
                value=t(
                    "m.breakdown.twelve",
                    locale,
                    amount=money(current_amount, locale),
                    total=money(Money(current_amount.amount * 12, current_amount.currency), locale),
                ),
            ),
            FieldValue(
                field=t("m.breakdown.yearly", locale, plan=option.target.product_name),
                value=t("m.value.per_year", locale, amount=money(option.target.amount, locale)),
            ),
        ]
    else:
        usage = option.usage
        used = _count(usage.used if usage else 0, locale)
        rows = [
            FieldValue(
                field=t("m.breakdown.base", locale, plan=option.current.product_name),
                value=t(per_month, locale, amount=money(option.current.amount, locale)),
            ),
            FieldValue(
                field=t(
                    "m.breakdown.usage",
                    locale,
                    used=used,
                    included=_count(usage.included if usage else 0, locale),
                ),
                value=t(per_month, locale, amount=money(option.current_overage, locale)),
            ),
            FieldValue(
                field=t("m.breakdown.base", locale, plan=option.target.product_name),
                value=t(per_month, locale, amount=money(option.target.amount, locale)),
            ),
            FieldValue(
                field=t(
                    "m.breakdown.usage",
                    locale,
                    used=used,
                    included=_count(option.target.included_units or 0, locale),
                ),
                value=t(per_month, locale, amount=money(option.target_overage, locale)),
            ),
        ]
    rows.append(
        FieldValue(
            field=t("m.breakdown.saving", locale),
            value=t(
                "m.value.saving",
                locale,
                per_year=money(option.saving_per_year, locale),
                per_month=money(option.saving_per_month, locale),
            ),
        )
    )
    return [
        Text(text=t("m.breakdown.header", locale)),
        DataTable(items=rows),
        _muted("m.breakdown.note", locale),
        Button(
            id="switch_plan", label=t("m.button.switch", locale, plan=target_label(option, locale))
        ),
        Button(id="back", label=t("button.back", locale), style="secondary"),
    ]


def quote_card(
    quote: PlanChangeQuote, *, locale: str, notice: str | None = None
) -> list[Component]:
    interval = t(f"interval.{quote.target.interval}", locale)
    components: list[Component] = [
        Text(text=t("m.quote.header", locale, plan=target_label(quote, locale)))
    ]
    if notice:
        components.append(Text(text=notice, style="muted"))
    components += [
        DataTable(
            items=[
                FieldValue(field=t("m.quote.now", locale), value=money(quote.amount_now, locale)),
                FieldValue(
                    field=t("m.quote.new_price", locale),
                    value=f"{money(quote.new_recurring, locale)} / {interval}",
                ),
                FieldValue(
                    field=t("m.quote.date", locale), value=day(quote.effective_date, locale)
                ),
            ]
        ),
        _muted("m.quote.note", locale),
        Button(id="confirm_switch", label=t("m.button.confirm_switch", locale)),
        Button(id="back", label=t("m.button.cancel", locale), style="secondary"),
    ]
    return components


def switch_result_card(result: PlanSwitchResult, *, locale: str) -> list[Component]:
    quote = result.quote
    if result.kind in ("switched", "already_switched"):
        interval = t(f"interval.{quote.target.interval}", locale)
        components: list[Component] = [
            Text(text=t("m.switched.header", locale, plan=target_label(quote, locale)))
        ]
        # "Charged" only for money Stripe collected: the switch's invoice is paid.
        if result.kind == "switched" and result.charged is not None:
            components.append(
                Text(text=t("m.switched.charged", locale, amount=money(result.charged, locale)))
            )
        elif result.kind == "switched" and result.payment_open is not None:
            components.append(
                Text(
                    text=t(
                        "m.switched.payment_open",
                        locale,
                        amount=money(result.payment_open, locale),
                    )
                )
            )
        if result.next_renewal is not None:
            components.append(
                Text(
                    text=t(
                        "m.switched.next",
                        locale,
                        price=f"{money(quote.new_recurring, locale)} / {interval}",
                        date=day(result.next_renewal, locale),
                    )
                )
            )
        return components
    if result.kind == "unavailable":
        return unavailable_card(locale=locale, retry_id="confirm_switch")
    # Stripe's own words (`result.message`) are for logs and agents; the customer reads ours.
    failed = result.kind in ("payment_failed", "rejected", "not_switchable")
    if result.kind == "in_progress":
        notice = t("m.switch.in_progress", locale)
    elif result.kind == "payment_failed":
        notice = t(
            "m.switch.payment_failed",
            locale,
            amount=money(result.payment_open or quote.amount_now, locale),
            reason=plain_reason(result.failure_code, None, locale),
            plan=quote.current.product_name,
        )
    elif result.kind == "rejected":
        notice = t("m.switch.not_applied", locale, plan=quote.current.product_name)
    elif result.kind == "not_switchable":
        notice = t("m.switch.not_switchable", locale)
    else:
        notice = t("m.switch.plan_changed", locale)
    answer: list[Component] = [
        Text(text=t("m.quote.header", locale, plan=target_label(quote, locale))),
        Text(text=notice, style="error" if failed else "muted"),
    ]
    if result.kind == "in_progress":
        # Confirming the same quote again shows how that switch ended (never a second one).
        answer.append(Button(id="confirm_switch", label=t("m.button.refresh", locale)))
    answer.append(Button(id="back", label=t("button.back", locale), style="secondary"))
    return answer


# --- payment recovery ---
def recovery_card(
    invoice: InvoiceRecovery | None,
    *,
    locale: str,
    pay_by_card_url: str | None,
    result: RetryResult | None = None,
    ambiguous: bool = False,
    shown_id: str | None = None,
) -> list[Component]:
    """The failed invoice with Retry / Pay by card, or "processing", "paid", "all settled".
    `shown_id` (the signed invoice and amount on screen) becomes the header's component id, so
    a Retry press can be matched to what its card showed."""
    if result is not None and result.kind == "unavailable":
        return unavailable_card(locale=locale, retry_id="retry_payment")
    if invoice is None or invoice.state in ("open", "closed"):
        return [
            Text(text=t("m.recovery.settled.header", locale)),
            Text(text=t("m.recovery.settled.body", locale)),
        ]
    amount = money(invoice.amount, locale)
    if invoice.state == "paid":
        if result is not None and result.kind == "paid":
            return [
                Text(text=t("m.recovery.paid.header", locale)),
                Text(text=t("m.recovery.paid.body", locale, amount=amount)),
            ]
        return [
            Text(text=t("m.recovery.settled.header", locale)),
            Text(text=t("m.recovery.settled.body", locale)),
        ]
    in_progress = result is not None and result.kind == "in_progress"
    if invoice.state == "processing" or in_progress:
        # Another click already holds this retry: for this customer it is processing too.
        if in_progress:
            key = "m.recovery.in_progress"
        elif invoice.is_sepa:
            key = "m.recovery.processing.sepa"
        else:
            key = "m.recovery.processing.other"
        return [
            Text(id=shown_id, text=t("m.recovery.processing.header", locale, amount=amount)),
            Text(text=t(key, locale)),
            Button(id="refresh", label=t("m.button.refresh", locale), style="secondary"),
        ]

    components: list[Component] = [
        Text(id=shown_id, text=t("m.recovery.header", locale, amount=amount))
    ]
    if invoice.number:
        components.append(
            Text(
                text=t(
                    "m.recovery.invoice",
                    locale,
                    number=invoice.number,
                    date=day(invoice.failed_at or invoice.created, locale),
                ),
                style="muted",
            )
        )
    components.append(Text(text=failure_line(invoice, locale)))
    if ambiguous:
        # Several Stripe customers match this contact: show, but offer nothing that moves money.
        return components + ambiguous_card(locale=locale)
    notice = _retry_notice(result, locale)
    if notice is not None:
        components.append(Text(text=notice, style="error"))
    else:
        key = "m.recovery.hint_sepa" if invoice.is_sepa else "m.recovery.hint"
        components.append(Text(text=t(key, locale), style="muted"))
    components.append(Button(id="retry_payment", label=t("m.button.retry_payment", locale)))
    if pay_by_card_url:
        components.append(
            Button(
                id="pay_by_card",
                label=t("m.button.pay_by_card", locale),
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
        return t("m.recovery.declined", locale, reason=reason)
    if result.kind == "rejected":
        # Stripe's refusal text is written for developers; the agent sees it, the customer not.
        return t("m.recovery.rejected", locale)
    if result.kind == "cooldown" and result.retry_after is not None:
        return t("m.recovery.cooldown", locale, time=format_moment(result.retry_after, locale))
    if result.kind == "changed":
        return t("m.recovery.changed", locale)
    return None


# --- trial ---
def trial_card(
    snapshot: BillingSnapshot,
    *,
    locale: str,
    now: datetime,
    add_payment_method_url: str | None,
    ambiguous: bool = False,
) -> list[Component]:
    sub = snapshot.subscription
    if sub is None or sub.status != "trialing" or sub.trial_end is None:
        return [
            Text(text=plan_line(sub.plan if sub else None, locale)),
            _muted("m.trial.not_trialing", locale),
        ]
    days = days_until(sub.trial_end, now)
    header = {0: "m.trial.days.0", 1: "m.trial.days.1"}.get(days, "m.trial.days.n")
    plan_name = sub.plan.product_name if sub.plan else "—"
    components: list[Component] = [
        Text(text=t(header, locale, days=days)),
        Text(text=t("m.trial.ends", locale, plan=plan_name, date=day(sub.trial_end, locale))),
    ]
    if snapshot.payment_method is not None:
        amount = (
            snapshot.next_invoice.amount_due
            if snapshot.next_invoice
            else (sub.plan.amount if sub.plan else None)
        )
        components.append(
            Text(
                text=t(
                    "m.trial.all_set",
                    locale,
                    amount=money(amount, locale),
                    method=payment_method_label(snapshot.payment_method, locale),
                    date=day(sub.trial_end, locale),
                )
            )
        )
        return components
    components.append(Text(text=t("m.trial.no_pm", locale)))
    if ambiguous:
        components += ambiguous_card(locale=locale)
    elif add_payment_method_url:
        components.append(_add_payment_method_button(add_payment_method_url, locale))
    return components


# --- who is the customer, and Stripe being away ---
def no_match_card(*, locale: str) -> list[Component]:
    return [Text(text=t("m.nomatch.header", locale)), _muted("m.nomatch.body", locale)]


def sign_in_card(*, locale: str) -> list[Component]:
    """For a lead or a visitor: nothing about any customer, only how to see their billing."""
    return [Text(text=t("m.signin.header", locale)), _muted("m.signin.body", locale)]


def ambiguous_card(*, locale: str) -> list[Component]:
    return [Text(text=t("m.ambiguous.header", locale)), _muted("m.ambiguous.body", locale)]


def unavailable_card(*, locale: str, retry_id: str = "refresh") -> list[Component]:
    return [
        Text(text=t("m.unavailable.header", locale)),
        Text(text=t("m.unavailable.body", locale)),
        Button(id=retry_id, label=t("m.button.try_again", locale)),
    ]


def working_card(*, locale: str) -> list[Component]:
    """A money action still running when Intercom's patience ends: the work goes on, and the
    live canvas shows its outcome on the next view (or Refresh)."""
    return [
        Text(text=t("m.working.header", locale)),
        Text(text=t("m.working.body", locale), style="muted"),
        Button(id="refresh", label=t("m.button.refresh", locale), style="secondary"),
    ]


def _add_payment_method_button(url: str, locale: str) -> Button:
    return Button(
        id="add_payment_method",
        label=t("m.button.add_payment_method", locale),
        action=UrlAction(url=url),
    )


def _muted(key: str, locale: str) -> Text:
    return Text(text=t(key, locale), style="muted")


def _count(value: int, locale: str) -> str:
    return format_decimal(value, locale=babel_locale(locale))
