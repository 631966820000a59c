"""The words of the sidebar's cancel and resume steps: the review's lines and the outcome."""

from __future__ import annotations

from datetime import datetime

from billing.cancellation import CancellationResult
from billing.money import Money
from billing.refund_policy import RefundRefused
from billing.refunds import RefundResult
from billing.snapshot import SubscriptionSummary
from canvas_kit.components import Component, Text
from canvas_kit.labels import day, money, plain
from inbox.refund_values import REFUSED_WORDS
from kernel.i18n import t


def review_texts(
    locale: str,
    option: str,
    sub: SubscriptionSummary,
    ends_at: datetime | None,
    refund: str | None,
) -> list[Component]:
    plan = plan_name(sub)
    if option == "resume":
        title = t("**Resume %(plan)s?**", locale, plan=plan)
        line = t(
            "It renews on %(date)s as before.", locale, date=day(sub.current_period_end, locale)
        )
    elif option == "cancel_now":
        title = t("**Cancel %(plan)s now?**", locale, plan=plan)
        line = t("It ends right away; the customer loses access now.", locale)
    else:
        title = t("**Cancel %(plan)s at period end?**", locale, plan=plan)
        line = t(
            "It ends on %(date)s; the customer keeps access until then.",
            locale,
            date=day(ends_at, locale),
        )
    texts: list[Component] = [Text(text=title), Text(text=line, style="muted")]
    if refund:
        texts.append(Text(text=refund, style="muted"))
    return texts


def done_texts(
    result: CancellationResult,
    refunded: RefundResult | None,
    refund_problem: str | None,
    locale: str,
) -> list[Component]:
    offer = result.offer
    plan = plain(offer.plan_name or offer.subscription_id)
    if offer.option == "resume":
        title = t("**%(plan)s resumed**", locale, plan=plan)
    elif offer.option == "cancel_now":
        title = t("**%(plan)s cancelled: it has ended**", locale, plan=plan)
    else:
        title = t(
            "**%(plan)s cancelled: it ends on %(date)s**",
            locale,
            plan=plan,
            date=day(offer.ends_at, locale),
        )
    parts: list[Component] = [Text(text=title)]
    if refunded is not None:
        parts.append(
            Text(
                text=t(
                    "%(amount)s refunded (Stripe refund %(refund_id)s).",
                    locale,
                    amount=money(refunded.amount, locale),
                    refund_id=refunded.refund_id,
                ),
                style="muted",
            )
        )
    if refund_problem is not None:
        parts.append(Text(text=refund_problem, style="error"))
    # The change was made before this press (an earlier press, another agent, the customer, the
    # dashboard); unless this press made the refund, nothing it asked for happened now.
    if (result.replayed or result.already) and (refunded is None or refunded.replayed):
        parts.append(
            Text(
                text=t("This had been done already; nothing changed again.", locale), style="muted"
            )
        )
    return parts


def refusal_text(refusal: RefundRefused, locale: str, max_age_days: int) -> str:
    values = refusal.values
    limit = values.get("remaining", values.get("max_amount"))
    return t(
        REFUSED_WORDS.get(refusal.code, REFUSED_WORDS["refund_refused"]),
        locale,
        limit=money(Money(limit, values.get("currency") or "eur"), locale)
        if limit is not None
        else "—",
        days=values.get("max_age_days", max_age_days),
    )


def plan_name(sub: SubscriptionSummary) -> str:
    return plain(sub.plan.product_name if sub.plan else sub.id)
