"""The words of the cancel-or-save flow, shared by the Messenger's `cancel` card, the sidebar and
Fin's answers: each option with its exact amounts, and what happened once it was confirmed."""

from __future__ import annotations

from babel.numbers import format_percent

from billing.cancellation_offers import CouponTerms, Offer
from billing.money import Money, babel_locale
from canvas_kit.labels import day, interval_word, money
from kernel.i18n import t, tn


def per(amount: Money | None, interval: str | None, locale: str) -> str:
    """ "€23.20 / month"."""
    if not interval:
        return money(amount, locale)
    return t(
        "%(amount)s / %(interval)s",
        locale,
        amount=money(amount, locale),
        interval=interval_word(interval, locale),
    )


def discount_words(coupon: CouponTerms, locale: str) -> str:
    """ "20% off for 3 months", "€5.00 off your next invoice"."""
    if coupon.percent_off is not None:
        off = format_percent(coupon.percent_off / 100, locale=babel_locale(locale))
    else:
        off = money(coupon.amount_off, locale)
    if coupon.duration == "repeating" and coupon.duration_in_months:
        return tn(
            "%(off)s off for %(n)s month",
            "%(off)s off for %(n)s months",
            coupon.duration_in_months,
            locale,
            off=off,
        )
    if coupon.duration == "forever":
        return t("%(off)s off for as long as you stay", locale, off=off)
    return t("%(off)s off your next invoice", locale, off=off)


def offer_label(offer: Offer, locale: str) -> str:
    """A button: "Pause for 2 months", "20% off for 3 months", "Switch to Starter"."""
    if offer.option == "pause":
        months = offer.months or 1
        return tn("Pause for %(n)s month", "Pause for %(n)s months", months, locale)
    if offer.option == "coupon" and offer.coupon is not None:
        return discount_words(offer.coupon, locale)
    if offer.option == "plan_switch" and offer.quote is not None:
        return t("Switch to %(plan)s", locale, plan=offer.quote.target.product_name)
    if offer.option == "cancel_now":
        return t("Cancel now", locale)
    if offer.option == "resume":
        return t("Keep my subscription", locale)
    return t("Cancel at period end", locale)


def offer_sentence(offer: Offer, locale: str) -> str:
    """What the option does, with Stripe's amounts."""
    if offer.option == "pause":
        return tn(
            "Pause payments for %(n)s month: nothing is charged until %(date)s, and your "
            "subscription stays active.",
            "Pause payments for %(n)s months: nothing is charged until %(date)s, and your "
            "subscription stays active.",
            offer.months or 1,
            locale,
            date=day(offer.resumes_at, locale),
        )
    if offer.option == "coupon" and offer.coupon is not None:
        return t(
            "%(discount)s: %(new)s instead of %(current)s.",
            locale,
            discount=discount_words(offer.coupon, locale),
            new=per(offer.new_price, offer.interval, locale),
            current=per(offer.current_price, offer.interval, locale),
        )
    if offer.option == "plan_switch" and offer.quote is not None:
        values = {
            "plan": offer.quote.target.product_name,
            "new": per(offer.new_price, offer.interval, locale),
            "current": per(offer.current_price, offer.interval, locale),
            "current_plan": offer.plan_name or "",
        }
        if offer.credit is not None:
            return t(
                "Switch to %(plan)s for %(new)s instead of %(current)s. The unused time on "
                "%(current_plan)s is credited to your account: %(credit)s.",
                locale,
                credit=money(offer.credit, locale),
                **values,
            )
        return t(
            "Switch to %(plan)s for %(new)s instead of %(current)s, charged now: %(now)s.",
            locale,
            now=money(offer.quote.amount_now, locale),
            **values,
        )
    if offer.option == "cancel_now":
        return t("Cancel now: the subscription ends today.", locale)
    if offer.option == "resume":
        return t("Keep the subscription: it renews as before.", locale)
    return t(
        "Cancel at the end of the period: your subscription ends on %(date)s, and you keep "
        "access until then.",
        locale,
        date=day(offer.ends_at, locale),
    )


def outcome_title(offer: Offer, locale: str) -> str:
    """What happened: "Paused until Mar 2, 2027", "20% off for 3 months: €23.20 / month"."""
    if offer.option == "pause":
        return t("Paused until %(date)s", locale, date=day(offer.resumes_at, locale))
    if offer.option == "coupon" and offer.coupon is not None:
        return t(
            "%(discount)s: %(new)s",
            locale,
            discount=discount_words(offer.coupon, locale),
            new=per(offer.new_price, offer.interval, locale),
        )
    if offer.option == "plan_switch" and offer.quote is not None:
        return t(
            "You're now on %(plan)s: %(new)s",
            locale,
            plan=offer.quote.target.product_name,
            new=per(offer.new_price, offer.interval, locale),
        )
    if offer.option == "cancel_now":
        return t("The subscription has ended", locale)
    if offer.option == "resume":
        return t("Your subscription continues", locale)
    return t("Your subscription ends on %(date)s", locale, date=day(offer.ends_at, locale))
