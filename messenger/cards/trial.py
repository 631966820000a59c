"""The trial card: days left, and a link to add a payment method."""

from __future__ import annotations

from datetime import datetime

from billing.alerts import days_until
from billing.snapshot import BillingSnapshot
from canvas_kit.components import (
    Component,
    Text,
)
from canvas_kit.labels import (
    day,
    money,
    payment_method_label,
    plan_line,
)
from kernel.i18n import t, tn
from messenger.cards.common import (
    add_payment_method_button,
    ambiguous_card,
    muted,
)


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
            muted(t("You're not on a trial.", locale)),
        ]
    days = days_until(sub.trial_end, now)
    if days == 0:
        header = t("**Your trial ends today**", locale)
    else:
        header = tn(
            "**%(days)s day left in your trial**",
            "**%(days)s days left in your trial**",
            days,
            locale,
            days=days,
        )
    plan_name = sub.plan.product_name if sub.plan else "—"
    components: list[Component] = [
        Text(text=header),
        Text(
            text=t(
                "Your %(plan)s trial ends on %(date)s.",
                locale,
                plan=plan_name,
                date=day(sub.trial_end, locale),
            )
        ),
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
                    "You're all set: %(amount)s will be charged to %(method)s on %(date)s.",
                    locale,
                    amount=money(amount, locale),
                    method=payment_method_label(snapshot.payment_method, locale),
                    date=day(sub.trial_end, locale),
                )
            )
        )
        return components
    components.append(
        Text(
            text=t(
                "Add a payment method now so your account keeps running without interruption.",
                locale,
            )
        )
    )
    if ambiguous:
        components += ambiguous_card(locale=locale)
    elif add_payment_method_url:
        components.append(add_payment_method_button(add_payment_method_url, locale))
    return components
