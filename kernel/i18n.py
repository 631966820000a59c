"""The words people read, through gettext: English msgids in the code and templates, German in
`kernel/locales/<locale>/LC_MESSAGES/messages.po` (compiled to `.mo` by `make catalogues`).

German speaks to the customer in one register, `GERMAN_ADDRESS`: formal "Sie" (`de`, the default)
or informal "du" (`de@informal`, which holds only the messages that differ and falls back to
`de`). Agents and operators always read `de`. `pick_locale` is the one place a requested
language becomes one of ours.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from babel import Locale
from jinja2 import BaseLoader, Environment, StrictUndefined

from billing.money import babel_locale
from billing.sepa import sepa_reason

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("en", "de")
GermanAddress = Literal["sie", "du"]
INFORMAL = "informal"  # the POSIX locale modifier of the "du" catalogue: `de@informal`


def N_(message: str) -> str:
    """Marks `message` for extraction where it is only named, to be translated later."""
    return message


def pick_locale(requested: object, default: str, *, german_address: GermanAddress) -> str:
    """The catalogue for a request: "de", "de-AT", "de_DE" or an Accept-Language header whose
    first language we have → "de" ("de@informal" when `german_address` is "du"); anything else
    → `default`. `german_address` has no default: every caller says who reads (a customer:
    `settings.german_address`; agents and operators: "sie")."""
    language = _first_known(requested) or _first_known(default) or "en"
    if language == "de" and german_address == "du":
        return f"de@{INFORMAL}"
    return language


def language(locale: str) -> str:
    """The bare language of a catalogue locale ("de@informal" → "de"), for `lang=` and Babel."""
    return _first_known(locale) or "en"


def _first_known(requested: object) -> str | None:
    # Anything not text (a crafted link's payload, say) names no language.
    for part in (requested if isinstance(requested, str) else "").split(","):
        tag = part.split(";")[0].strip().lower()
        code = tag.replace("_", "-").split("@")[0].split("-")[0]
        if code in LANGUAGES:
            return code
    return None


@lru_cache(maxsize=8)
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue for `locale`, loaded once; `de@informal` falls back to `de`, and
    English (the msgids themselves) needs none."""
    chain: gettext.NullTranslations = gettext.NullTranslations()
    for name in reversed(_catalogue_names(locale)):
        with (LOCALES_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as mo:
            catalogue = gettext.GNUTranslations(mo)
        catalogue.add_fallback(chain)
        chain = catalogue
    return chain


def _catalogue_names(locale: str) -> list[str]:
    if language(locale) != "de":
        return []
    return [f"de@{INFORMAL}", "de"] if locale.endswith(f"@{INFORMAL}") else ["de"]


def t(message: str, locale: str, **values: Any) -> str:
    """`message` (an English msgid with `%(name)s` placeholders) in `locale`, filled in."""
    return translations(locale).gettext(message) % values


def tn(singular: str, plural: str, n: int, locale: str, **values: Any) -> str:
    """The singular or plural form for `n` (also available as `%(n)s`)."""
    return translations(locale).ngettext(singular, plural, n) % {"n": n, **values}


def join_words(parts: list[str], locale: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " " + t("and", locale) + " " + parts[-1]


def describe_failure(
    failure_code: str | None, failure_message: str | None, *, sepa: bool, locale: str = "en"
) -> str:
    """ "insufficient funds (AM04)" for SEPA; Stripe's own words (or code) otherwise."""
    reason = sepa_reason(failure_code) if sepa else None
    if reason is not None:
        return t("%(reason)s (%(code)s)", locale, reason=t(reason.text, locale), code=reason.code)
    if failure_code:
        return failure_code.replace("_", " ")
    return failure_message or t("unknown reason", locale)


class _WithI18n(Protocol):
    """What `jinja2.ext.i18n` adds to an environment at run time (untyped in Jinja2)."""

    def install_gettext_translations(
        self, translations: Any, newstyle: bool | None = None
    ) -> None: ...


def template_environment(loader: BaseLoader, locale: str, **options: Any) -> Environment:
    """A Jinja2 environment whose `{% trans %}` and `_()` speak `locale` (jinja2.ext.i18n, new
    style: placeholders filled by name, `%` escaped as in Python). One per loader and locale."""
    return _environment(loader, locale, tuple(sorted(options.items())))


@lru_cache(maxsize=32)
def _environment(
    loader: BaseLoader, locale: str, options: tuple[tuple[str, Any], ...]
) -> Environment:
    env = Environment(
        loader=loader, extensions=["jinja2.ext.i18n"], undefined=StrictUndefined, **dict(options)
    )
    env.policies["ext.i18n.trimmed"] = True
    cast(_WithI18n, env).install_gettext_translations(translations(locale), newstyle=True)
    return env


def country_name(code: str | None, locale: str) -> str | None:
    """ "DE" → "Germany" / "Deutschland" (Babel's territory names); an unknown code as given."""
    if not code:
        return None
    names = Locale.parse(babel_locale(locale)).territories
    return str(names.get(code.upper(), code.upper()))
