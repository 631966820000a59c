"""Money and dates as a reader sees them: integers in minor units until shown, then Babel.

Stripe amounts are integers in the currency's smallest unit; for zero-decimal currencies (JPY,
KRW, ...) that unit is the currency itself, so 500 JPY is `500`, not `5.00`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import overload

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

# https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
# Stripe represents these three-decimal currencies with a trailing zero; they are shown with 3.
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

BABEL_LOCALES = {"en": "en_US", "de": "de_DE"}


def minor_unit_factor(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 1
    if code in THREE_DECIMAL_CURRENCIES:
        return 1000
    return 100


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the currency's minor unit, with its lower-case ISO currency code."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", self.currency.lower())

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return self + Money(-other.amount, other.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    @property
    def major(self) -> Decimal:
        return Decimal(self.amount) / minor_unit_factor(self.currency)

    def format(self, locale: str = "en") -> str:
        return format_money(self.amount, self.currency, locale)


def babel_locale(locale: str) -> str:
    # "de", "de-AT", "de_DE", "de@informal" (the informal German catalogue): the language decides.
    return BABEL_LOCALES.get(re.split(r"[-_@]", locale)[0].lower(), "en_US")


@lru_cache(maxsize=4096)
def format_money(amount: int, currency: str, locale: str = "en") -> str:
    """`format_money(2900, "eur", "de")` → "29,00 €"; `format_money(500, "jpy")` → "¥500".
    Kept per (amount, currency, locale): Babel takes ~0.3 ms a call, a sidebar makes several
    of the same few prices."""
    code = currency.upper()
    value = Decimal(amount) / minor_unit_factor(currency)
    return format_currency(value, code, locale=babel_locale(locale))


@overload
def to_datetime(timestamp: int | float) -> datetime: ...
@overload
def to_datetime(timestamp: None) -> None: ...
@overload
def to_datetime(timestamp: int | float | None) -> datetime | None: ...
def to_datetime(timestamp: int | float | None) -> datetime | None:
    """Stripe's Unix timestamps as timezone-aware UTC datetimes (a typed overload per case, so a
    required timestamp gives a `datetime` and an optional one a `datetime | None`)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC)


def format_day(moment: datetime | None, locale: str = "en") -> str:
    """A date as the reader writes it: "Dec 1, 2026" / "01.12.2026"."""
    if moment is None:
        return "—"
    return _format_day(moment.date(), locale)


@lru_cache(maxsize=4096)
def _format_day(day: date, locale: str) -> str:
    return format_date(day, format="medium", locale=babel_locale(locale))


def format_moment(moment: datetime | None, locale: str = "en") -> str:
    if moment is None:
        return "—"
    return format_datetime(moment, format="medium", tzinfo=UTC, locale=babel_locale(locale))
