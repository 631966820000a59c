"""Domain values as parts of Fin's answers (money, a plan), shared by `actions.answers` and
`actions.subscription_answers`."""

from __future__ import annotations

from actions.schemas import MoneyOut, PlanOut
from billing.money import Money, format_money
from billing.snapshot import Plan


def money_out(money: Money, locale: str) -> MoneyOut:
    return MoneyOut(
        amount=money.amount,
        currency=money.currency,
        formatted=format_money(money.amount, money.currency, locale),
    )


def price_text(plan: Plan | None, locale: str) -> str | None:
    return plan.amount.format(locale) if plan and plan.amount else None


def plan_out(plan: Plan | None, locale: str) -> PlanOut | None:
    if plan is None:
        return None
    return PlanOut(
        name=plan.product_name,
        price=money_out(plan.amount, locale) if plan.amount else None,
        interval=plan.interval,
        interval_count=plan.interval_count,
    )
