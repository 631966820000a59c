"""The savings arithmetic on plain data: yearly instead of monthly, the next tier instead of
overage, the best of them, and no option when the plan already fits."""

from __future__ import annotations

from decimal import Decimal

from billing.money import Money
from billing.savings import (
    CataloguePrice,
    UsageCharges,
    best_option,
    next_tier_option,
    savings_options,
    yearly_option,
)
from billing.snapshot import Plan


def price(product: str, amount: int, interval: str, included: int | None = None) -> CataloguePrice:
    return CataloguePrice(
        price_id=f"price_{product}{interval.title()}",
        product_id=f"prod_{product}",
        product_name=product,
        amount=Money(amount, "eur"),
        interval=interval,
        included_units=included,
    )


CATALOGUE = (
    price("Starter", 2900, "month", 1000),
    price("Starter", 29000, "year", 1000),
    price("Pro", 7900, "month", 10000),
    price("Pro", 79000, "year", 10000),
    price("Business", 19900, "month", 100000),
    price("Business", 199000, "year", 100000),
)


def plan(product: str, amount: int, interval: str = "month") -> Plan:
    return Plan(
        product_id=f"prod_{product}",
        product_name=product,
        price_id=f"price_{product}{interval.title()}",
        amount=Money(amount, "eur"),
        interval=interval,
    )


def usage(used: int, included: int, cents_per_unit: str = "0.5") -> UsageCharges:
    return UsageCharges(used=used, unit_price=Decimal(cents_per_unit), included=included)


def test_yearly_saves_twelve_months_minus_the_yearly_price():
    option = yearly_option(plan("Pro", 7900), CATALOGUE)
    assert option is not None
    assert option.target.price_id == "price_ProYear"
    assert option.saving_per_year == Money(12 * 7900 - 79000, "eur")  # 158,00 €
    assert option.saving_per_month == Money(1317, "eur")  # 13,1666… rounded half up
    assert option.current_per_month == Money(7900, "eur")
    assert option.target_per_month == Money(6583, "eur")


def test_a_yearly_plan_has_no_yearly_option():
    assert yearly_option(plan("Pro", 79000, "year"), CATALOGUE) is None


def test_a_yearly_price_that_costs_more_is_no_option():
    pricey = (price("Pro", 7900, "month"), price("Pro", 99000, "year"))
    assert yearly_option(plan("Pro", 7900), pricey) is None


def test_a_yearly_price_in_another_currency_is_no_option():
    usd = (CataloguePrice("price_ProUsd", "prod_Pro", "Pro", Money(70000, "usd"), "year"),)
    assert yearly_option(plan("Pro", 7900), usd) is None


def test_the_next_tier_pays_off_when_overage_exceeds_the_tier_difference():
    # 30,000 calls at 0.5 ct: Starter 29 € + 29,000 over × 0.5 ct = 174 €;
    # Pro 79 € + 20,000 over × 0.5 ct = 179 €. Pro costs more: no option.
    assert next_tier_option(plan("Starter", 2900), CATALOGUE, usage(30000, 1000)) is None
    # 12,000 calls at 0.5 ct: Starter 29 + 55 = 84 €, Pro 79 + 10 = 89 €: still no.
    assert next_tier_option(plan("Starter", 2900), CATALOGUE, usage(12000, 1000)) is None
    # 12,000 calls at 1 ct: Starter 29 + 110 = 139 €, Pro 79 + 20 = 99 €: 40 € a month less.
    option = next_tier_option(plan("Starter", 2900), CATALOGUE, usage(12000, 1000, "1"))
    assert option is not None
    assert option.target.product_name == "Pro"
    assert option.current_per_month == Money(13900, "eur")
    assert option.target_per_month == Money(9900, "eur")
    assert option.saving_per_month == Money(4000, "eur")
    assert option.saving_per_year == Money(48000, "eur")
    assert option.current_overage == Money(11000, "eur")
    assert option.target_overage == Money(2000, "eur")


def test_usage_within_the_included_units_never_suggests_a_bigger_plan():
    # The demo's usage customer: 8,500 of Pro's 10,000 calls.
    assert next_tier_option(plan("Pro", 7900), CATALOGUE, usage(8500, 10000)) is None


def test_the_next_tier_is_the_next_one_up_not_the_biggest():
    option = next_tier_option(plan("Starter", 2900), CATALOGUE, usage(9000, 1000, "2"))
    assert option is not None and option.target.product_name == "Pro"


def test_the_top_tier_has_no_next_tier():
    assert next_tier_option(plan("Business", 19900), CATALOGUE, usage(500000, 100000)) is None


def test_the_best_option_is_the_biggest_saving_per_year():
    heavy = usage(12000, 1000, "1")  # next tier saves 480 €/year, yearly saves 58 €/year
    options = savings_options(plan("Starter", 2900), CATALOGUE, heavy)
    assert [o.kind for o in options] == ["next_tier", "yearly"]
    best = best_option(plan("Starter", 2900), CATALOGUE, heavy)
    assert best is not None and best.kind == "next_tier"
    without_usage = best_option(plan("Starter", 2900), CATALOGUE, None)
    assert without_usage is not None and without_usage.kind == "yearly"


def test_nothing_to_save_means_no_option():
    assert best_option(plan("Pro", 79000, "year"), CATALOGUE, usage(100, 10000)) is None
    assert best_option(None, CATALOGUE, None) is None
