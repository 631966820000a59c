"""Money as people read it: Babel per locale, minor units, zero-decimal currencies."""

from datetime import UTC, datetime

import pytest

from billing.money import Money, format_day, format_money


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        (2900, "eur", "de", "29,00\xa0€"),
        (2900, "eur", "en", "€29.00"),
        (1234567, "eur", "de", "12.345,67\xa0€"),
        (500, "jpy", "en", "¥500"),  # zero-decimal: 500 yen, not 5.00
        (500, "JPY", "de", "500\xa0¥"),
        (-500, "eur", "en", "-€5.00"),
        (1000, "kwd", "en", "KWD1.000"),  # three decimals
    ],
)
def test_format_money(amount, currency, locale, shown):
    assert format_money(amount, currency, locale) == shown


def test_money_arithmetic_refuses_mixed_currencies():
    assert Money(100, "EUR") + Money(50, "eur") == Money(150, "eur")
    with pytest.raises(ValueError):
        Money(100, "eur") + Money(100, "usd")


def test_dates_in_the_readers_format():
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert format_day(moment, "de") == "01.12.2026"
    assert format_day(moment, "en") == "Dec 1, 2026"
    assert format_day(None, "en") == "—"
